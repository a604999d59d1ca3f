"""Physical names for resources that outlive their stack, unique to each creation of the stack.

A retained resource with a fixed name makes the next create of its stack fail with "already exists"
(after a rolled-back first create, or a teardown), and CloudFormation never adopts it. A generated
name would do, but some names must start with a fixed prefix (WAF log groups: ``aws-waf-logs-``), so
the name ends in a piece of the stack's ID instead: the same for every update of the stack, new for
every creation.
"""

from aws_cdk import Aws, Fn

STACK_ID_SUFFIX_LENGTH = 12


def stack_instance_suffix() -> str:
    """The last 12 hex digits of the stack's ID (``arn:...:stack/<name>/<uuid>``), resolved at deploy
    time."""
    stack_uuid = Fn.select(2, Fn.split("/", Aws.STACK_ID))
    return Fn.select(4, Fn.split("-", stack_uuid))


def name_for_this_stack(prefix: str, *, max_length: int) -> str:
    """``<prefix>-<suffix>``; ``prefix`` is shortened when the service's length limit requires it."""
    room = max_length - STACK_ID_SUFFIX_LENGTH - 1
    if room < 1:
        raise ValueError(f"a name of at most {max_length} characters has no room for a prefix")
    return f"{prefix[:room]}-{stack_instance_suffix()}"
