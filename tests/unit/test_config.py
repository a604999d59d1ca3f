"""The configuration loader: the shipped cdk.json, and one clear error for every kind of mistake."""

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from moodle_infra.config import (
    ENVIRONMENT_NAMES,
    IMAGE_OWNED_SETTINGS,
    ConfigError,
    CustomDomain,
    SecretReference,
    load_config,
    load_from_context,
)

CDK_JSON = Path(__file__).resolve().parents[2] / "cdk.json"
SHIPPED = json.loads(CDK_JSON.read_text())["context"]["moodle"]

ZONE_DOMAIN = {
    "domain_name": "learn.example.edu",
    "hosted_zone_id": "Z0123456789ABC",
    "hosted_zone_name": "example.edu",
}
CERTIFICATE_DOMAIN = {
    "domain_name": "learn.example.edu",
    "cloudfront_certificate_arn": "arn:aws:acm:us-east-1:444444444444:certificate/1111-2222",
    "alb_certificate_arn": "arn:aws:acm:eu-west-1:444444444444:certificate/3333-4444",
}


@pytest.fixture
def raw() -> dict[str, Any]:
    """A private deep copy of the shipped configuration, for a test to break."""
    return copy.deepcopy(SHIPPED)


def set_setting(raw: dict[str, Any], path: str, value: object) -> None:
    """Set ``environments.dev.database.multi_az``-style paths, creating objects on the way."""
    *parents, key = path.split(".")
    for parent in parents:
        raw = raw.setdefault(parent, {})
    raw[key] = value


def delete_setting(raw: dict[str, Any], path: str) -> None:
    *parents, key = path.split(".")
    for parent in parents:
        raw = raw[parent]
    del raw[key]


def errors_of(raw: object) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load_config(raw)
    return raised.value.errors


def test_shipped_configuration_loads_in_promotion_order() -> None:
    config = load_config(SHIPPED)
    assert list(config.environments) == list(ENVIRONMENT_NAMES)
    assert [env.name for env in config.environments.values()] == ["dev", "staging", "prod"]
    assert config.sandbox.name == "sandbox"
    assert config.pipeline.account == "111111111111"
    assert config.pipeline.notification_email is None


def test_shipped_dev_is_cheap_and_disposable_and_prod_is_redundant_and_kept() -> None:
    environments = load_config(SHIPPED).environments
    dev, prod = environments["dev"], environments["prod"]
    assert (dev.network.nat_gateways, prod.network.nat_gateways) == (1, 2)
    assert (dev.network.interface_endpoints, prod.network.interface_endpoints) == (False, True)
    assert (dev.database.instance_type, prod.database.instance_type) == ("t4g.micro", "m7g.large")
    assert (dev.database.multi_az, prod.database.multi_az) == (False, True)
    assert (dev.database.backup_retention_days, prod.database.backup_retention_days) == (1, 14)
    assert (dev.cache.replicas, prod.cache.replicas) == (0, 1)
    assert (dev.web.max_tasks, prod.web.max_tasks) == (2, 10)
    assert (dev.deletion_protection, prod.deletion_protection) == (False, True)
    assert (dev.removal_policy, environments["staging"].removal_policy, prod.removal_policy) == (
        "destroy",
        "snapshot",
        "retain",
    )
    assert (dev.log_retention_days, prod.log_retention_days) == (14, 365)
    assert [env.account for env in environments.values()] == ["222222222222", "333333333333", "444444444444"]


def test_loading_leaves_the_raw_value_untouched() -> None:
    """Other tests and the CDK app share the parsed JSON, so merging defaults must copy."""
    before = copy.deepcopy(SHIPPED)
    load_config(SHIPPED)
    assert before == SHIPPED


def test_sandbox_is_like_dev_in_its_own_account() -> None:
    config = load_config(SHIPPED)
    sandbox, dev = config.sandbox, config.environments["dev"]
    assert sandbox.account == "555555555555"
    assert (sandbox.network, sandbox.database, sandbox.cache, sandbox.web) == (
        dev.network,
        dev.database,
        dev.cache,
        dev.web,
    )
    assert sandbox.removal_policy == "destroy"


def test_defaults_fill_every_environment_and_optional_settings_take_their_defaults() -> None:
    config = load_config(SHIPPED)
    for env in (*config.environments.values(), config.sandbox):
        assert env.region == "eu-west-1"
        assert env.cron.cpu == 512
        assert env.moodle.admin_email == "moodle-admin@example.com"
        assert env.moodle.smtp_port == 587
        assert env.moodle.smtp_host is None
        assert env.custom_domain is None
        assert env.alarm_email is None


def test_defaults_merge_key_by_key_and_an_environment_wins(raw: dict[str, Any]) -> None:
    set_setting(raw, "environment_defaults.database.backup_retention_days", 3)
    delete_setting(raw, "environments.dev.database.backup_retention_days")
    set_setting(raw, "environments.prod.moodle.site_full_name", "Moodle at Example University")
    config = load_config(raw)
    dev, staging, prod = config.environments.values()
    assert dev.database.backup_retention_days == 3, "missing in dev, so the default applies"
    assert prod.database.backup_retention_days == 14, "prod's own value wins"
    assert prod.moodle.site_full_name == "Moodle at Example University"
    assert prod.moodle.admin_user == "admin", "the rest of prod's moodle object still comes from the defaults"
    assert (dev.network.flow_log_retention_days, staging.network.flow_log_retention_days) == (14, 90)


def test_environment_order_does_not_depend_on_the_json(raw: dict[str, Any]) -> None:
    raw["environments"] = dict(reversed(raw["environments"].items()))
    assert list(load_config(raw).environments) == ["dev", "staging", "prod"]


def test_error_message_lists_every_problem_with_its_full_path(raw: dict[str, Any]) -> None:
    set_setting(raw, "environments.prod.database.backup_retention_days", 0)
    set_setting(raw, "pipeline.branch", "my branch")
    set_setting(raw, "sandbox.cache.replicas", 9)
    with pytest.raises(ConfigError) as raised:
        load_config(raw)
    assert str(raised.value) == (
        'Invalid configuration in cdk.json (context key "moodle"):\n'
        '  - moodle.pipeline.branch: must be a branch name without spaces, like "main", got "my branch"\n'
        "  - moodle.environments.prod.database.backup_retention_days: "
        "must be an integer from 1 to 35, got 0\n"
        "  - moodle.sandbox.cache.replicas: must be an integer from 0 to 5, got 9"
    )
    assert len(raised.value.errors) == 3


def test_several_errors_in_one_section_are_all_reported(raw: dict[str, Any]) -> None:
    set_setting(raw, "environments.dev.database.instance_type", "db.t4g.micro")
    set_setting(raw, "environments.dev.database.multi_az", "no")
    set_setting(raw, "environments.dev.databse", {})
    set_setting(raw, "environments.dev.web.cpu", 3)
    assert [error.split(":")[0] for error in errors_of(raw)] == [
        "moodle.environments.dev.databse",
        "moodle.environments.dev.database.instance_type",
        "moodle.environments.dev.database.multi_az",
        "moodle.environments.dev.web.cpu",
    ]


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("pipeline.account", "12345", 'a string of exactly 12 digits, like "123456789012", got "12345"'),
        ("environments.dev.account", 222222222222, "a string of exactly 12 digits"),
        ("pipeline.region", "eu-west", 'an AWS region like "eu-west-1", got "eu-west"'),
        ("environments.staging.region", "EU-WEST-1", 'an AWS region like "eu-west-1"'),
        ("pipeline.repository", "moodle-on-aws", 'a repository as "owner/name", got "moodle-on-aws"'),
        ("pipeline.branch", "", "a branch name without spaces"),
        ("pipeline.connection_arn", "arn:aws:codeconnections:eu-west-1:111:connection/x", "connection ARN"),
        ("pipeline.notification_email", "ops", 'an email address like "ops@example.com" or null, got "ops"'),
        ("pipeline.image_repository_name", "Moodle", "an ECR repository name of 2 to 256 characters"),
        ("pipeline.image_repository_name", "m", "an ECR repository name of 2 to 256 characters"),
        ("environments.dev.alarm_email", "ops@", "an email address"),
        ("environments.dev.network.nat_gateways", 3, "an integer from 1 to 2, got 3"),
        ("environments.dev.network.interface_endpoints", "yes", 'true or false, got "yes"'),
        ("environments.prod.upgrade_snapshots.enabled", "on", 'true or false, got "on"'),
        ("environments.prod.upgrade_snapshots.keep", 0, "an integer from 1 to 50, got 0"),
        ("environments.staging.upgrade_snapshots.timeout_minutes", 300, "an integer from 5 to 240, got 300"),
        ("environments.prod.upgrade.timeout_minutes", 59, "an integer from 60 to 690, got 59"),
        ("environments.prod.upgrade.timeout_minutes", 691, "an integer from 60 to 690, got 691"),
        (
            "environments.dev.network.flow_log_retention_days",
            10,
            "the retention periods CloudWatch Logs offers",
        ),
        (
            "environments.prod.log_retention_days",
            366,
            "one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365",
        ),
        ("environments.dev.database.instance_type", "db.t4g.micro", 'without the "db." prefix'),
        ("environments.dev.database.instance_type", "t4g", 'like "t4g.micro"'),
        (
            "environments.dev.database.instance_type",
            "x9.huge",
            "t3/t4g.{micro,small,medium,large,xlarge,2xlarge}",
        ),
        ("environments.dev.database.instance_type", "t4g.4xlarge", "t3/t4g.{micro,"),
        ("environments.prod.database.instance_type", "r7g.huge", "r7g/"),
        ("environments.dev.database.allocated_storage_gib", 10, "an integer from 20 to 65536, got 10"),
        ("environments.dev.database.max_allocated_storage_gib", 70000, "an integer from 20 to 65536"),
        (
            "environments.prod.database.max_allocated_storage_gib",
            50,
            "at least allocated_storage_gib (100), got 50",
        ),
        ("environments.dev.database.multi_az", "false", 'true or false, got "false"'),
        ("environments.prod.database.backup_retention_days", 0, "an integer from 1 to 35, got 0"),
        (
            "environments.dev.cache.node_type",
            "t4g.micro",
            'an ElastiCache (Redis OSS) node type like "cache.t4g.micro"',
        ),
        (
            "environments.dev.cache.node_type",
            "cache.x9.huge",
            "cache.t2/cache.t3/cache.t4g.{micro,small,medium}",
        ),
        (
            "environments.dev.cache.node_type",
            "cache.t4g.large",
            "cache.t2/cache.t3/cache.t4g.{micro,small,medium}",
        ),
        ("environments.dev.cache.replicas", 6, "an integer from 0 to 5, got 6"),
        ("environments.dev.web.cpu", 300, "one of 256, 512, 1024, 2048, 4096, got 300"),
        ("environments.prod.web.memory_mib", 1024, "from 2048 to 8192 in steps of 1024 for cpu 1024"),
        ("environments.dev.cron.memory_mib", 1536, "from 1024 to 4096 in steps of 1024 for cpu 512"),
        ("environments.dev.web.memory_mib", 40000, "an integer from 512 to 30720"),
        ("environments.dev.web.min_tasks", 0, "an integer from 1 to 100, got 0"),
        ("environments.prod.web.max_tasks", 1, "at least min_tasks (2), got 1"),
        ("environments.dev.web.cpu_target_percent", 95, "an integer from 10 to 90 or null, got 95"),
        ("environments.dev.web.requests_per_target", 0, "an integer from 1 to 100000 or null, got 0"),
        ("environments.dev.moodle.site_full_name", " ", 'a non-empty string, got " "'),
        ("environments.dev.moodle.site_short_name", "", "a non-empty string"),
        ("environments.dev.moodle.admin_user", "Admin", "2 to 100 lowercase letters"),
        ("environments.dev.moodle.admin_email", "admin", "an email address"),
        ("environments.dev.moodle.noreply_address", "noreply@localhost", "an email address"),
        ("environments.dev.moodle.smtp_port", 70000, "an integer from 1 to 65535, got 70000"),
        (
            "environments.dev.moodle.smtp_credentials_secret_arn",
            "my-secret",
            'starting with "arn:aws:secretsmanager:"',
        ),
        (
            "environments.dev.moodle.smtp_credentials_secret_arn",
            "arn:aws:secretsmanager:eu-west-1:222222222222:secret:smtp",
            "ending in the six-character suffix",
        ),
        (
            "environments.dev.moodle.smtp_credentials_secret_arn",
            "arn:aws:secretsmanager:eu-west-1:222222222222:secret:smtp-AbCdEf",
            "requires smtp_host (the credentials log in to that server)",
        ),
        ("environments.dev.deletion_protection", 0, "true or false, got 0"),
        ("environments.dev.removal_policy", "delete", 'one of "destroy", "snapshot", "retain", got "delete"'),
        ("environments.dev.custom_domain", "learn.example.edu", "an object with domain_name"),
        ("environments.dev.custom_domain.domain_name", "localhost", "with at least one dot"),
        ("environments.dev.custom_domain.domain_name", "Learn.Example.edu", "a lowercase DNS name"),
        (
            "environments.dev.custom_domain.hosted_zone_id",
            "z123",
            'a Route 53 hosted zone ID like "Z0123456789ABC"',
        ),
        ("environments.dev.custom_domain.hosted_zone_name", "example.org", '"learn.example.edu" or a parent'),
        ("environments.dev.custom_domain.hosted_zone_name", "ample.edu", '"learn.example.edu" or a parent'),
    ],
)
def test_each_bad_value_gets_its_own_message(
    raw: dict[str, Any], path: str, value: object, expected: str
) -> None:
    if ".custom_domain." in path:
        set_setting(raw, "environments.dev.custom_domain", dict(ZONE_DOMAIN))
    set_setting(raw, path, value)
    errors = errors_of(raw)
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"moodle.{path}: ")
    assert expected in errors[0]


def test_fargate_memory_for_the_smallest_cpu_is_listed(raw: dict[str, Any]) -> None:
    set_setting(raw, "environments.dev.cron", {"cpu": 256, "memory_mib": 4096})
    assert errors_of(raw) == [
        "moodle.environments.dev.cron.memory_mib: "
        "must be one of 512, 1024, 2048 for cpu 256 (Fargate's sizes), got 4096"
    ]


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (
            "cloudfront_certificate_arn",
            CERTIFICATE_DOMAIN["alb_certificate_arn"],
            "in us-east-1 (CloudFront only",
        ),
        (
            "alb_certificate_arn",
            CERTIFICATE_DOMAIN["cloudfront_certificate_arn"],
            "in eu-west-1, the load balancer's region",
        ),
    ],
)
def test_certificates_must_be_in_the_regions_that_use_them(
    raw: dict[str, Any], path: str, value: str, expected: str
) -> None:
    set_setting(raw, "environments.prod.custom_domain", {**CERTIFICATE_DOMAIN, path: value})
    errors = errors_of(raw)
    assert len(errors) == 1
    assert errors[0].startswith(f"moodle.environments.prod.custom_domain.{path}: must be the ARN of an ACM")
    assert expected in errors[0]


@pytest.mark.parametrize(
    "domain",
    [ZONE_DOMAIN, CERTIFICATE_DOMAIN, {**ZONE_DOMAIN, "hosted_zone_name": ZONE_DOMAIN["domain_name"]}],
)
def test_custom_domain_from_a_hosted_zone_or_from_certificates(
    raw: dict[str, Any], domain: dict[str, str]
) -> None:
    set_setting(raw, "environments.prod.custom_domain", domain)
    assert load_config(raw).environments["prod"].custom_domain == CustomDomain(**domain)


@pytest.mark.parametrize(
    ("domain", "given"),
    [
        ({"domain_name": "learn.example.edu", "hosted_zone_id": "Z0123456789ABC"}, "got hosted_zone_id"),
        (
            {
                "domain_name": "learn.example.edu",
                "alb_certificate_arn": CERTIFICATE_DOMAIN["alb_certificate_arn"],
            },
            "got alb_certificate_arn",
        ),
        (
            {**ZONE_DOMAIN, **CERTIFICATE_DOMAIN},
            "got hosted_zone_id, hosted_zone_name, cloudfront_certificate_arn, alb_certificate_arn",
        ),
        ({"domain_name": "learn.example.edu"}, "got none of them"),
    ],
)
def test_custom_domain_needs_exactly_one_complete_form(
    raw: dict[str, Any], domain: dict[str, str], given: str
) -> None:
    set_setting(raw, "environments.prod.custom_domain", domain)
    assert errors_of(raw) == [
        "moodle.environments.prod.custom_domain: needs either both hosted_zone_id and hosted_zone_name "
        "(certificates and DNS records are created in that Route 53 zone) or both cloudfront_certificate_arn "
        f"and alb_certificate_arn (existing ACM certificates), {given}"
    ]


@pytest.mark.parametrize("environment", ["environments.staging", "environments.prod"])
def test_destroy_is_refused_where_data_must_survive(raw: dict[str, Any], environment: str) -> None:
    set_setting(raw, f"{environment}.removal_policy", "destroy")
    assert errors_of(raw) == [
        f'moodle.{environment}.removal_policy: must be one of "snapshot", "retain" '
        '("destroy" is only allowed for dev and sandbox: '
        'the data of staging and prod must survive the deletion of a stack), got "destroy"'
    ]


def test_destroy_is_allowed_for_the_sandbox(raw: dict[str, Any]) -> None:
    set_setting(raw, "sandbox.removal_policy", "destroy")
    assert load_config(raw).sandbox.removal_policy == "destroy"


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("environments.dev.network.nat_gateways", True, "must be an integer from 1 to 2, got true"),
        ("environments.dev.web.cpu", True, "must be one of 256, 512, 1024, 2048, 4096, got true"),
        ("environments.dev.cache.replicas", True, "must be an integer from 0 to 5, got true"),
        ("environments.dev.database.multi_az", 1, "must be true or false, got 1"),
        (
            "environments.dev.database.allocated_storage_gib",
            20.0,
            "must be an integer from 20 to 65536, got 20.0",
        ),
    ],
)
def test_json_types_are_kept_apart(raw: dict[str, Any], path: str, value: object, expected: str) -> None:
    """Python's True == 1 must not let ``true`` through as a count, nor 1 as a switch."""
    set_setting(raw, path, value)
    assert errors_of(raw) == [f"moodle.{path}: {expected}"]


def test_unknown_setting_names_the_allowed_ones(raw: dict[str, Any]) -> None:
    set_setting(raw, "environments.dev.databse", {"multi_az": True})
    assert errors_of(raw) == [
        "moodle.environments.dev.databse: unknown setting; allowed: account, alarm_email, cache, canary, "
        "cron, custom_domain, database, deletion_protection, log_retention_days, moodle, network, region, "
        "removal_policy, upgrade, upgrade_snapshots, web"
    ]


def test_unknown_setting_in_defaults_is_reported_once_under_the_defaults(raw: dict[str, Any]) -> None:
    set_setting(raw, "environment_defaults.moodle.smtp_hots", "email-smtp.eu-west-1.amazonaws.com")
    set_setting(raw, "environment_defaults.name", "dev")
    errors = errors_of(raw)
    assert [error.split(":")[0] for error in errors] == [
        "moodle.environment_defaults.name",
        "moodle.environment_defaults.moodle.smtp_hots",
    ]
    assert errors[1].endswith(
        "allowed: admin_email, admin_user, default_language, noreply_address, settings, site_full_name, "
        "site_short_name, smtp_credentials_secret_arn, smtp_host, smtp_port, uninstall_plugins"
    )


def test_unknown_top_level_setting_and_environment(raw: dict[str, Any]) -> None:
    raw["defaults"] = {}
    raw["environments"]["qa"] = raw["environments"]["dev"]
    assert errors_of(raw) == [
        "moodle.defaults: unknown setting; allowed: "
        "environment_defaults, environments, moodle_release, pipeline, sandbox",
        "moodle.environments.qa: unknown environment; allowed: dev, staging, prod",
    ]


def test_missing_environment(raw: dict[str, Any]) -> None:
    del raw["environments"]["staging"]
    assert errors_of(raw) == [
        "moodle.environments.staging: required environment is missing; "
        "environments must be exactly dev, staging, prod"
    ]


def test_missing_setting_says_what_it_must_be(raw: dict[str, Any]) -> None:
    delete_setting(raw, "environments.dev.database.multi_az")
    delete_setting(raw, "pipeline.repository")
    assert errors_of(raw) == [
        'moodle.pipeline.repository: required setting is missing; must be a repository as "owner/name"',
        "moodle.environments.dev.database.multi_az: required setting is missing; must be true or false",
    ]


def test_setting_missing_from_defaults_and_environments_is_reported_per_environment(
    raw: dict[str, Any],
) -> None:
    delete_setting(raw, "environment_defaults.cron")
    assert errors_of(raw) == [
        f"moodle.{path}.cron: required setting is missing; must be an object with cpu, memory_mib"
        for path in ("environments.dev", "environments.staging", "environments.prod", "sandbox")
    ]


def test_missing_section_is_one_error_not_one_per_setting(raw: dict[str, Any]) -> None:
    del raw["pipeline"]
    del raw["sandbox"]
    assert [error.split(";")[0] for error in errors_of(raw)] == [
        "moodle.pipeline: required setting is missing",
        "moodle.sandbox: required setting is missing",
    ]


def test_optional_settings_may_be_null_or_omitted(raw: dict[str, Any]) -> None:
    delete_setting(raw, "environment_defaults.custom_domain")
    delete_setting(raw, "environment_defaults.alarm_email")
    delete_setting(raw, "pipeline.notification_email")
    set_setting(raw, "environments.prod.moodle.noreply_address", None)
    set_setting(raw, "environments.prod.alarm_email", "ops@example.com")
    config = load_config(raw)
    assert config.environments["dev"].custom_domain is None
    assert config.environments["dev"].alarm_email is None
    assert config.environments["prod"].alarm_email == "ops@example.com"
    assert config.pipeline.notification_email is None


def test_null_is_refused_where_a_value_is_required(raw: dict[str, Any]) -> None:
    set_setting(raw, "environments.dev.moodle.smtp_port", None)
    set_setting(raw, "environments.dev.cache", None)
    assert errors_of(raw) == [
        "moodle.environments.dev.cache: must be an object with node_type, replicas, got null",
        "moodle.environments.dev.moodle.smtp_port: must be an integer from 1 to 65535, got null",
    ]


def test_smtp_with_credentials(raw: dict[str, Any]) -> None:
    set_setting(raw, "environment_defaults.moodle.smtp_host", "email-smtp.eu-west-1.amazonaws.com")
    secret = "arn:aws:secretsmanager:eu-west-1:444444444444:secret:moodle-smtp-AbCdEf"
    set_setting(raw, "environments.prod.moodle.smtp_credentials_secret_arn", secret)
    site = load_config(raw).environments["prod"].moodle
    assert (site.smtp_host, site.smtp_port, site.smtp_credentials_secret_arn) == (
        "email-smtp.eu-west-1.amazonaws.com",
        587,
        secret,
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            "moodle",
            "moodle: must be an object with "
            "moodle_release, pipeline, environment_defaults, environments, sandbox",
        ),
        (
            {**SHIPPED, "environments": []},
            "moodle.environments: must be an object with exactly dev, staging, prod, got []",
        ),
        (
            {**SHIPPED, "environment_defaults": None},
            "moodle.environment_defaults: must be an object of environment settings, got null",
        ),
        ({**SHIPPED, "sandbox": 1}, "moodle.sandbox: must be an object with account, region, custom_domain"),
    ],
)
def test_structure_that_is_not_an_object(value: object, expected: str) -> None:
    """The first error names the culprit; settings it should have provided may follow."""
    assert errors_of(value)[0].startswith(expected)


def test_missing_context_key_says_where_it_belongs() -> None:
    with pytest.raises(ConfigError) as raised:
        load_from_context(None)
    assert raised.value.errors == [
        'moodle: the "moodle" context key is missing from cdk.json; it must hold an object with '
        "moodle_release, pipeline, environment_defaults, environments, sandbox"
    ]


def test_load_from_context_loads_the_shipped_value() -> None:
    assert load_from_context(SHIPPED) == load_config(SHIPPED)


def test_moodle_release_is_pinned_to_version_and_checksum(raw: dict[str, Any]) -> None:
    release = load_config(raw).moodle_release
    assert release.build_args() == {
        "MOODLE_VERSION": "5.1.6",
        # download.moodle.org's moodle-5.1.6.tgz.sha256 (docs/IMAGE.md).
        "MOODLE_SHA256": "52ef3f988831c6759e1d1d8552248eb3da832b658123ede548d65379de46a6e5",
    }
    set_setting(raw, "moodle_release.sha256", "md5:abc")
    set_setting(raw, "moodle_release.version", "latest")
    assert errors_of(raw) == [
        'moodle.moodle_release.version: must be a Moodle release number like "5.1.6" (the first release of '
        'a branch is "5.3", not "5.3.0", as Moodle names its archive moodle-5.3.tgz) of a branch whose PHP '
        "and MySQL requirements the image and RDS meet: 5.0, 5.1, 5.2, 5.3 "
        '(moodle_infra/moodle_requirements.py), got "latest"',
        "moodle.moodle_release.sha256: must be the SHA-256 of the release archive: 64 lowercase hex digits, "
        'got "md5:abc"',
    ]


def test_moodle_release_checksum_is_required(raw: dict[str, Any]) -> None:
    set_setting(raw, "moodle_release.sha256", None)

    assert errors_of(raw) == [
        "moodle.moodle_release.sha256: must be the SHA-256 of the release archive: 64 lowercase hex digits, "
        "got null"
    ]


# Moodle as code: plugins, language packs and site settings.

PLUGIN = {
    "component": "mod_customcert",
    "url": "https://example.org/moodle-mod_customcert.zip",
    "sha256": "a" * 64,
}
SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:444444444444:secret:moodle-recaptcha-AbCdEf"


def test_plugins_and_language_packs_become_build_arguments(raw: dict[str, Any]) -> None:
    raw["moodle_release"]["plugins"] = [PLUGIN]
    raw["moodle_release"]["language_packs"] = [
        {"code": "de", "sha256": "b" * 64},
        {"code": "pt_br", "sha256": "c" * 64, "url": "https://mirror.example.org/pt_br.zip"},
    ]
    args = load_config(raw).moodle_release.build_args()
    assert json.loads(args["MOODLE_PLUGINS"]) == [PLUGIN]
    assert json.loads(args["MOODLE_LANGUAGE_PACKS"]) == [
        {
            "code": "de",
            "url": "https://download.moodle.org/download.php/direct/langpack/5.1/de.zip",
            "sha256": "b" * 64,
        },
        {"code": "pt_br", "url": "https://mirror.example.org/pt_br.zip", "sha256": "c" * 64},
    ]


def test_a_plugin_may_come_from_an_exact_commit_of_a_git_repository(raw: dict[str, Any]) -> None:
    from_git = {
        "component": "mod_x",
        "git": "https://github.com/o/r.git",
        "commit": "f" * 40,
        "sha256": "a" * 64,
    }
    raw["moodle_release"]["plugins"] = [from_git]
    assert json.loads(load_config(raw).moodle_release.build_args()["MOODLE_PLUGINS"]) == [from_git]


def test_no_plugins_leave_the_build_arguments_as_they_were() -> None:
    assert set(load_config(SHIPPED).moodle_release.build_args()) == {"MOODLE_VERSION", "MOODLE_SHA256"}


@pytest.mark.parametrize(
    ("plugins", "expected"),
    [
        ([{**PLUGIN, "sha256": None}], "moodle.moodle_release.plugins[0].sha256: must be a SHA-256"),
        ([{key: value for key, value in PLUGIN.items() if key != "sha256"}],
         "moodle.moodle_release.plugins[0].sha256: required setting is missing"),
        ([{**PLUGIN, "component": "customcert"}], 'like "mod_customcert"'),
        ([{**PLUGIN, "url": "ftp://example.org/x.zip"}], "plugins[0].url: must be an http(s) URL"),
        ([PLUGIN, PLUGIN], 'moodle.moodle_release.plugins[1].component: "mod_customcert" is listed twice'),
        ([{**PLUGIN, "checksum": "x"}], "moodle.moodle_release.plugins[0].checksum: unknown setting"),
        ({"mod_customcert": PLUGIN}, "moodle.moodle_release.plugins: must be a list of objects with"),
        ([{**PLUGIN, "git": "https://github.com/o/r.git", "commit": "f" * 40}],
         "moodle.moodle_release.plugins[0]: needs either url (a release archive) or git and commit"),
        ([{"component": "mod_x", "sha256": "a" * 64, "git": "https://github.com/o/r.git"}],
         "moodle.moodle_release.plugins[0].commit: git and commit go together"),
        ([{"component": "mod_x", "sha256": "a" * 64, "git": "https://github.com/o/r.git", "commit": "main"}],
         "moodle.moodle_release.plugins[0].commit: must be a full commit hash"),
    ],
)  # fmt: skip
def test_bad_plugins_are_refused(raw: dict[str, Any], plugins: object, expected: str) -> None:
    raw["moodle_release"]["plugins"] = plugins
    assert any(error.startswith(expected) or expected in error for error in errors_of(raw)), errors_of(raw)


@pytest.mark.parametrize(
    ("packs", "expected"),
    [
        ([{"code": "en", "sha256": "b" * 64}], 'other than "en" (English is built in)'),
        ([{"code": "de"}], "moodle.moodle_release.language_packs[0].sha256: required setting is missing"),
        (["de"], "moodle.moodle_release.language_packs[0]: must be an object with code, sha256, url"),
    ],
)
def test_bad_language_packs_are_refused(raw: dict[str, Any], packs: object, expected: str) -> None:
    raw["moodle_release"]["language_packs"] = packs
    assert any(expected in error for error in errors_of(raw)), errors_of(raw)


def test_default_language_needs_its_pack_in_the_image(raw: dict[str, Any]) -> None:
    raw["environments"]["prod"]["moodle"] = {"default_language": "de"}
    assert errors_of(raw) == [
        'moodle.environments.prod.moodle.default_language: must be one of "en" (English and the codes of '
        'moodle.moodle_release.language_packs), got "de"'
    ]
    raw["moodle_release"]["language_packs"] = [{"code": "de", "sha256": "b" * 64}]
    config = load_config(raw)
    assert config.environments["prod"].moodle.default_language == "de"
    assert config.environments["dev"].moodle.default_language == "en"


def test_settings_are_deep_merged_over_the_environment_defaults(raw: dict[str, Any]) -> None:
    raw["environment_defaults"]["moodle"]["settings"] = {
        "core": {"forcelogin": True, "maxbytes": 104857600, "debug": 0},
        "plugins": {"mod_forum": {"maxattachments": 5}},
    }
    raw["environments"]["dev"]["moodle"] = {
        "settings": {
            "core": {"debug": 32767, "forcelogin": None},
            "plugins": {"mod_forum": {"maxbytes": 1024}},
        }
    }
    raw["environments"]["prod"]["moodle"] = {
        "settings": {"plugins": {"tool_x": {"apikey": {"secret_arn": SECRET_ARN, "json_key": "key"}}}}
    }
    config = load_config(raw)
    dev, prod = config.environments["dev"].moodle.settings, config.environments["prod"].moodle.settings
    assert dev.core == {"maxbytes": 104857600, "debug": 32767}
    assert dev.plugins == {"mod_forum": {"maxattachments": 5, "maxbytes": 1024}}
    assert prod.core == {"forcelogin": True, "maxbytes": 104857600, "debug": 0}
    assert prod.plugins["tool_x"] == {"apikey": SecretReference(secret_arn=SECRET_ARN, json_key="key")}


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"core": {"recaptchaprivatekey": "6LcXXXX"}},
         "moodle.environments.prod.moodle.settings.core.recaptchaprivatekey: looks like a secret written "
         'inline (the name contains "key")'),
        ({"plugins": {"auth_ldap": {"bind_pw_password": "hunter2"}}}, 'the name contains "password"'),
        ({"core": {"wwwroot": "https://x.example"}},
         "moodle.environments.prod.moodle.settings.core.wwwroot: is set by the image's config.php"),
        ({"core": {"lang": "de"}}, "core.lang: is set by moodle.default_language"),
        ({"core": {"bad name": 1}}, "is no Moodle setting name"),
        ({"core": {"theme": ["boost"]}}, "core.theme: must be a string, a number, true or false, null"),
        ({"plugins": {"Mod Forum": {"x": 1}}}, "settings.plugins.Mod Forum: is no Moodle plugin name"),
        ({"core": {"smtpkey": {"secret_arn": "arn:nope"}}},
         "settings.core.smtpkey.secret_arn: must be a complete Secrets Manager secret ARN"),
        ({"site": {}}, "settings.site: unknown setting; allowed: core, plugins"),
    ],
)  # fmt: skip
def test_bad_settings_are_refused_naming_the_setting(
    raw: dict[str, Any], settings: dict[str, Any], expected: str
) -> None:
    raw["environments"]["prod"]["moodle"] = {"settings": settings}
    errors = errors_of(raw)
    assert len(errors) == 1 and expected in errors[0], errors


def test_a_secret_name_may_hold_a_number_or_a_reference(raw: dict[str, Any]) -> None:
    raw["environments"]["prod"]["moodle"] = {
        "settings": {"core": {"tokenduration": 3600, "passwordpolicy": True, "secretphrase": ""}}
    }
    assert load_config(raw).environments["prod"].moodle.settings.core == {
        "tokenduration": 3600, "passwordpolicy": True, "secretphrase": ""
    }  # fmt: skip


def test_every_setting_that_config_php_sets_is_owned_by_the_image() -> None:
    config_php = (CDK_JSON.parent / "image" / "moodle" / "config.php").read_text()
    assigned = set(re.findall(r"\$CFG->(\w+)\s*=", config_php))
    assert assigned, "config.php assigns no $CFG settings: the pattern is out of date"
    assert assigned - IMAGE_OWNED_SETTINGS == set()


def test_all_problems_are_reported_at_once(raw: dict[str, Any]) -> None:
    raw["moodle_release"]["plugins"] = [{**PLUGIN, "sha256": "nope"}]
    raw["environments"]["dev"]["database"]["instance_type"] = "x9.huge"
    raw["environments"]["prod"]["moodle"] = {"settings": {"core": {"smtpsecret": "s3cr3t"}}}
    paths = [error.split(":")[0] for error in errors_of(raw)]
    assert paths == [
        "moodle.moodle_release.plugins[0].sha256",
        "moodle.environments.dev.database.instance_type",
        "moodle.environments.prod.moodle.settings.core.smtpsecret",
    ]


def test_the_snapshot_wait_must_leave_time_for_the_upgrade(raw: dict[str, Any]) -> None:
    set_setting(raw, "environments.prod.upgrade", {"timeout_minutes": 60})
    set_setting(raw, "environments.prod.upgrade_snapshots.timeout_minutes", 60)
    assert errors_of(raw) == [
        "moodle.environments.prod.upgrade_snapshots.timeout_minutes: must be less than "
        "upgrade.timeout_minutes (60), of which the snapshot wait is a part, got 60"
    ]
