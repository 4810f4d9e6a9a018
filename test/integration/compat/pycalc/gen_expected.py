"""Independent computation of expected/taxed_items.csv from in/*.csv (the spec's semantics, written in Python).

Run: python3 gen_expected.py > expected/taxed_items.csv
"""
import csv
import glob
import math
import os
import sys
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

sys.path.insert(0, os.path.join(os.path.dirname(__file__), 'cfg'))
from calc import add_percent, multiply  # noqa: E402
from labels import is_big, make_label, negate  # noqa: E402


def go_round(x):
    """math.Round: half away from zero."""
    t = math.trunc(x)
    return t + math.copysign(1, x) if abs(x - t) >= 0.5 else t


def stored(d):
    """decimal2 written to a table: round(float64(x)*100)/100."""
    return Decimal(int(go_round(float(d) * 100))).scaleb(-2)


def round2(d):
    return d.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)


def short(d):
    """Shortest decimal text (trailing zeros trimmed), as passed to Python."""
    s = format(d.normalize(), 'f')
    return s


rows = []
for f in sorted(glob.glob(os.path.join(os.path.dirname(__file__), 'in', 'items_*.csv'))):
    with open(f, newline='') as fh:
        rd = csv.DictReader(fh)
        for r in rd:
            value = stored(round2(Decimal(repr(float(r['value'])))))  # %f-formatted decimal2 column
            price = float(r['price'])
            ts = datetime.strptime(r['ts'], '%Y-%m-%d %H:%M:%S')
            flag = r['flag'] == 'true'
            # taxed_items
            value_taxed = stored(round2(value * Decimal('1.1')))
            value_float = float(value)
            price_dec = stored(Decimal(repr(price)))
            # py_calc: inputs as Python literals
            py_value_taxed = eval(short(value_taxed))
            py_value_float = float('%f' % value_float)
            py_price_dec = eval(short(price_dec))
            py_taxed_value = add_percent(py_value_taxed, 10)  # p.taxed_value inside Python: not rounded
            taxed_value = stored(round2(Decimal(repr(float(py_taxed_value)))))
            doubled = float(multiply(py_value_float, 2))
            next_day = ts + timedelta(days=1)
            label = make_label(r['name'], py_taxed_value)
            rows.append(
                (
                    int(r['id']),
                    [
                        r['id'],
                        '%.2f' % value_taxed,
                        '%.2f' % stored(round2(Decimal(repr(float(py_price_dec))))),
                        '%.2f' % taxed_value,
                        '%.2f' % doubled,
                        next_day.strftime('%Y-%m-%d %H:%M:%S'),
                        label,
                        'true' if is_big(doubled) else 'false',
                        str(len(r['name'])),
                        'true' if negate(flag) else 'false',
                    ],
                )
            )

print('id,value_taxed,price_dec,taxed_value,doubled,next_day,label,is_big,name_len,not_flag')
for _, cols in sorted(rows):
    print(','.join('"%s"' % c if ',' in c else c for c in cols))
