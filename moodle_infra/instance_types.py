"""The database instance classes and cache node types this project can deploy, so that a typo such as
``x9.huge`` fails at synth time, naming the allowed families, instead of at deploy time.

Kept by hand from AWS's documentation; add a family here when AWS adds one:
- RDS for MySQL: "Supported DB engines for DB instance classes" (Amazon RDS User Guide,
  Concepts.DBInstanceClass.Support) and "DB instance class types" (Concepts.DBInstanceClass.Types).
- ElastiCache (Redis OSS): "Supported node types" (ElastiCache User Guide, CacheNodes.SupportedTypes)
  and the node types listed under CacheNode in the ElastiCache API Reference.
"""

from __future__ import annotations

_BURSTABLE_SIZES = ("micro", "small", "medium", "large", "xlarge", "2xlarge")
_LARGE_SIZES = (
    "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge",
    "48xlarge",
)  # fmt: skip

RDS_MYSQL_FAMILIES: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("t3", "t4g"), _BURSTABLE_SIZES),
    **dict.fromkeys(
        (
            "m5",
            "m5d",
            "m6g",
            "m6gd",
            "m6i",
            "m6id",
            "m6idn",
            "m6in",
            "m7g",
            "m7i",
            "m8g",
            "r5",
            "r5b",
            "r5d",
            "r6g",
            "r6gd",
            "r6i",
            "r6id",
            "r6idn",
            "r6in",
            "r7g",
            "r7i",
            "r8g",
            "x2g",
            "x2idn",
            "x2iedn",
        ),
        _LARGE_SIZES,
    ),
}
"""RDS for MySQL instance classes, without CDK's ``db.`` prefix: family -> sizes."""

ELASTICACHE_REDIS_FAMILIES: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("t2", "t3", "t4g"), ("micro", "small", "medium")),
    "m4": ("large", "xlarge", "2xlarge", "4xlarge", "10xlarge"),
    "m5": ("large", "xlarge", "2xlarge", "4xlarge", "12xlarge", "24xlarge"),
    **dict.fromkeys(
        ("m6g", "m7g", "r6g", "r7g"),
        ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"),
    ),
    "r4": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "16xlarge"),
    "r5": ("large", "xlarge", "2xlarge", "4xlarge", "12xlarge", "24xlarge"),
    "r6gd": ("xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"),
}
"""ElastiCache node types (Redis OSS) after ``cache.``: family -> sizes."""


def offered(value: object, families: dict[str, tuple[str, ...]], *, prefix: str = "") -> bool:
    """Whether ``value`` is ``<prefix><family>.<size>`` with a family and a size that AWS offers."""
    if not isinstance(value, str) or not value.startswith(prefix):
        return False
    family, _, size = value.removeprefix(prefix).partition(".")
    return size in families.get(family, ())


def described(families: dict[str, tuple[str, ...]], *, prefix: str = "") -> str:
    """The offered types, families grouped by their sizes, for an error message."""
    by_sizes: dict[tuple[str, ...], list[str]] = {}
    for family, sizes in families.items():
        by_sizes.setdefault(sizes, []).append(family)
    return "; ".join(
        f"{'/'.join(prefix + family for family in group)}.{{{','.join(sizes)}}}"
        for sizes, group in by_sizes.items()
    )
