"""What EventBridge accepts as a rule's ``ScheduleExpression``, checked before anything is built: a bad one
is otherwise refused only when CloudFormation creates the rule ("Parameter ScheduleExpression is not
valid"), half-way through a deployment of the pipeline.

From the EventBridge user guide ("Using cron and rate expressions to schedule rules"): ``cron()`` has six
fields (minutes, hours, day of month, month, day of week, year), and exactly one of the two day fields
is ``?``; ``rate()`` takes a positive whole number and a unit, singular for 1 ("rate(1 day)") and
plural otherwise ("rate(7 days)").
"""

import re

_NUMBER_LIST = r"(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*"
_MONTHS = "JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC"
_DAYS = "SUN|MON|TUE|WED|THU|FRI|SAT"
_DAY_RANGE = f"({_DAYS})(-({_DAYS}))?"
_FIELDS = (
    ("minutes", _NUMBER_LIST, 0, 59),
    ("hours", _NUMBER_LIST, 0, 23),
    ("day of month", rf"\?|L|\d{{1,2}}W|{_NUMBER_LIST}", 1, 31),
    ("month", rf"({_MONTHS}|{_NUMBER_LIST})(-({_MONTHS}))?(,({_MONTHS}|{_NUMBER_LIST}))*", 1, 12),
    ("day of week", rf"\?|L|\d#\d|({_DAY_RANGE}|{_NUMBER_LIST})(,({_DAY_RANGE}|\d))*", 1, 7),
    ("year", _NUMBER_LIST, 1970, 2199),
)
EXPECTS = (
    'an EventBridge schedule: "cron(minutes hours day-of-month month day-of-week year)" with "?" in '
    'exactly one of the two day fields, like "cron(0 3 ? * MON *)", or "rate(N units)", like "rate(7 days)"'
)


def problem(expression: object) -> str | None:
    """Why EventBridge would refuse ``expression``, or None."""
    if not isinstance(expression, str):
        return "is not a string"
    rate = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression)
    if rate:
        value, unit = int(rate[1]), rate[2]
        if value < 1:
            return "rate() needs a positive number"
        if (value == 1) != (not unit.endswith("s")):
            return f'rate() takes "{unit.rstrip("s")}" for 1 and "{unit.rstrip("s")}s" for more'
        return None
    cron = re.fullmatch(r"cron\(([^()]*)\)", expression)
    if not cron:
        return "is neither cron(...) nor rate(...)"
    fields = cron[1].split()
    if len(fields) != len(_FIELDS):
        return f"cron() has {len(fields)} fields, EventBridge needs 6"
    for value, (name, pattern, low, high) in zip(fields, _FIELDS, strict=True):
        if not re.fullmatch(pattern, value):
            return f"cron()'s {name} field {value!r} is not valid"
        if any(not low <= int(number) <= high for number in re.findall(r"(?<![/#])\b\d+\b(?!W|#)", value)):
            return f"cron()'s {name} field {value!r} is outside {low}-{high}"
    if (fields[2] == "?") == (fields[4] == "?"):
        return 'cron() needs "?" in exactly one of day of month and day of week'
    return None
