def make_label(name, value):
    return "%s=%.2f" % (name.upper(), value)

def is_big(x):
    return x > 40.0

def negate(b):
    return not b
