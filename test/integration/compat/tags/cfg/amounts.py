import json

def sum_amounts(text):
    return sum(json.loads(text).values())

def quarter_list(text):
    return ";".join(sorted(json.loads(text).keys()))

def count_quarters(text):
    return len(json.loads(text))
