from datetime import datetime, timedelta

def add_percent(x, pct):
    return x + x * pct / 100

def multiply(x, k):
    return x * k

def add_day(ts):
    t = datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%f%z") + timedelta(days=1)
    return t.strftime("%Y-%m-%dT%H:%M:%S.000") + "+00:00"
