"""Typed, validated project configuration, read from the ``moodle`` key of ``cdk.json``'s context.

Every setting is checked before any construct is built: a bad value stops synthesis with one error
per problem, each naming the setting's full path and what is allowed, so nothing half-deploys.
"""

from __future__ import annotations

import json
import re
import zoneinfo
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import MISSING, dataclass, fields, is_dataclass
from dataclasses import field as dataclass_field
from datetime import date, datetime, timedelta
from typing import Any, Literal, TypeVar, get_args, get_type_hints

from moodle_infra import capacity, instance_types, moodle_requirements, php_fpm, schedule_expression

ENVIRONMENT_NAMES = ("dev", "staging", "prod")
"""The environments the pipeline promotes through, in order."""

SANDBOX = "sandbox"
"""A stage deployed straight from a laptop, outside the pipeline."""

RemovalMode = Literal["destroy", "snapshot", "retain"]


@dataclass(frozen=True, kw_only=True)
class CustomDomain:
    """A domain name for the site instead of the CloudFront default one.

    Either a Route 53 hosted zone (certificates are then created and DNS-validated, and an alias
    record is added) or two existing ACM certificates (CloudFront's in us-east-1, the ALB's in the
    environment's region).
    """

    domain_name: str
    hosted_zone_id: str | None = None
    hosted_zone_name: str | None = None
    cloudfront_certificate_arn: str | None = None
    alb_certificate_arn: str | None = None


@dataclass(frozen=True, kw_only=True)
class NetworkConfig:
    nat_gateways: int
    interface_endpoints: bool
    flow_log_retention_days: int


@dataclass(frozen=True, kw_only=True)
class DatabaseConfig:
    instance_type: str
    allocated_storage_gib: int
    max_allocated_storage_gib: int
    multi_az: bool
    backup_retention_days: int


@dataclass(frozen=True, kw_only=True)
class CacheConfig:
    node_type: str
    replicas: int
    """Read replicas beside the primary; one or more also turns on Multi-AZ automatic failover."""


@dataclass(frozen=True, kw_only=True)
class ExamWindow:
    """A time when many students arrive at once (an exam): the web service's minimum is raised
    ``warm_up_minutes`` before ``start`` and restored when the window ends (README, "Planning an exam")."""

    start: str
    """Local wall-clock time in ``time_zone``, like "2027-01-20T09:00"."""
    duration_minutes: int
    time_zone: str
    """An IANA time zone name, like "Europe/Montevideo"; daylight saving time is applied."""
    min_tasks: int
    warm_up_minutes: int = 20
    """How early the tasks start: a new Fargate task needs minutes to pull, start and pass health checks."""

    def local_start(self) -> datetime:
        """``start`` in its time zone."""
        return datetime.fromisoformat(self.start).replace(tzinfo=zoneinfo.ZoneInfo(self.time_zone))

    def raised_at(self) -> datetime:
        """When the minimum goes up, in ``time_zone``: the warm-up is counted in real (UTC) minutes."""
        return _shifted(self.local_start(), -self.warm_up_minutes)

    def restored_at(self) -> datetime:
        """When the minimum comes back down, in ``time_zone``."""
        return _shifted(self.local_start(), self.duration_minutes)


def _shifted(moment: datetime, minutes: int) -> datetime:
    """``moment`` moved by real minutes, across daylight-saving changes, shown in its own time zone."""
    return (moment.astimezone(zoneinfo.ZoneInfo("UTC")) + timedelta(minutes=minutes)).astimezone(
        moment.tzinfo
    )


@dataclass(frozen=True, kw_only=True)
class WebServiceConfig:
    cpu: int
    memory_mib: int
    min_tasks: int
    max_tasks: int
    cpu_target_percent: int | None = None
    """CPU utilization that target tracking aims at; null derives it from the measured capacity
    (moodle_infra/capacity.py, docs/CAPACITY.md)."""
    requests_per_target: int | None = None
    """ALB requests per task per minute that target tracking aims at; null derives it likewise."""
    exam_windows: tuple[ExamWindow, ...] = ()


@dataclass(frozen=True, kw_only=True)
class CronConfig:
    cpu: int
    memory_mib: int


@dataclass(frozen=True, kw_only=True)
class SecretReference:
    """A site setting's value kept in Secrets Manager: ECS hands it to the containers, git never sees it."""

    secret_arn: str
    json_key: str | None = None
    """The key of a JSON secret; the whole secret string when null."""


SettingValue = str | int | float | bool | SecretReference


@dataclass(frozen=True, kw_only=True)
class SiteSettings:
    """Moodle settings forced by config.php: ``core`` as ``$CFG->name``, ``plugins`` as
    ``$CFG->forced_plugin_settings[plugin][name]``; the admin pages show them as set in config.php."""

    core: dict[str, SettingValue] = dataclass_field(default_factory=dict)
    plugins: dict[str, dict[str, SettingValue]] = dataclass_field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class MoodleSiteConfig:
    site_full_name: str
    site_short_name: str
    admin_user: str
    admin_email: str
    noreply_address: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_credentials_secret_arn: str | None = None
    """Secrets Manager secret with ``username`` and ``password`` keys, e.g. SES SMTP credentials."""
    default_language: str = "en"
    """The site's default language: "en" or a code of ``moodle_release.language_packs``."""
    settings: SiteSettings = SiteSettings()
    uninstall_plugins: tuple[str, ...] = ()
    """Add-on plugins that a deploy uninstalls, with their data, once the image no longer has them;
    without this a database holding a plugin the image lacks stops the deploy (docs/UPGRADES.md)."""


@dataclass(frozen=True, kw_only=True)
class UpgradeSnapshotConfig:
    """A manual RDS snapshot before every deploy that changes Moodle's version (docs/UPGRADES.md)."""

    enabled: bool
    keep: int
    """Upgrade snapshots kept per environment, newest first; the next upgrade deletes older ones."""
    timeout_minutes: int
    """How long a deploy waits for the snapshot before it fails, with nothing changed."""


@dataclass(frozen=True, kw_only=True)
class JourneyBudgets:
    """Seconds each step of the browser journey may take (journey/steps.py, measured in docs/JOURNEY.md)."""

    login_page: int
    log_in: int
    dashboard: int
    course: int
    ajax_call: int
    api_route: int


@dataclass(frozen=True, kw_only=True)
class CanaryConfig:
    """The browser journey as a CloudWatch Synthetics canary through CloudFront (docs/JOURNEY.md)."""

    enabled: bool
    every_minutes: int
    """How often it runs; each run costs (docs/JOURNEY.md, "What it costs")."""
    alarm_after_failed_runs: int
    """Consecutive failed runs before the alarm notifies the environment's topic."""
    artifact_retention_days: int
    """How long screenshots, logs and HAR files of a run are kept (runs and their bucket alike)."""
    username: str = "monitor"
    course_short_name: str = "monitoring"
    budgets_seconds: JourneyBudgets


@dataclass(frozen=True, kw_only=True)
class UpgradeConfig:
    """How long a deploy may spend on install-or-upgrade (plan, snapshot, upgrade: docs/UPGRADES.md)."""

    timeout_minutes: int
    """Past it the deploy stops the task and fails; a CloudFormation wait condition allows 12 hours."""


@dataclass(frozen=True, kw_only=True)
class EnvironmentConfig:
    name: str
    account: str
    region: str
    custom_domain: CustomDomain | None
    alarm_email: str | None
    network: NetworkConfig
    database: DatabaseConfig
    cache: CacheConfig
    web: WebServiceConfig
    cron: CronConfig
    moodle: MoodleSiteConfig
    deletion_protection: bool
    """RDS deletion protection and CloudFormation termination protection of the stateful stack."""
    removal_policy: RemovalMode
    """What deleting a stateful resource from the template does: destroy (dev only), snapshot, retain."""
    log_retention_days: int
    upgrade_snapshots: UpgradeSnapshotConfig
    canary: CanaryConfig
    upgrade: UpgradeConfig


@dataclass(frozen=True, kw_only=True)
class AllowedFinding:
    """A vulnerability the image gate accepts until ``expires``: someone read it and wrote down why."""

    vulnerability: str
    """The finding's ID as the scan reports it, like "CVE-2025-12345"."""
    package: str
    reason: str
    expires: str
    """The last day (YYYY-MM-DD) the entry applies; the day after, the finding blocks again."""

    @property
    def vulnerability_and_package(self) -> tuple[str, str]:
        return self.vulnerability, self.package


@dataclass(frozen=True, kw_only=True)
class VulnerabilityGateConfig:
    """The step between the image build and dev that reads ECR's scan of the pushed image
    (pipeline/vulnerability_gate.py)."""

    scanning: str
    """"enhanced" (Amazon Inspector, which says which findings have a fix) or "basic" (ECR's own)."""
    fail_severity: str
    """Findings at or above it that have a fix stop the pipeline before dev."""
    wait_minutes: int
    """How long the gate waits for the scan of the pushed image to finish."""
    allowed: tuple[AllowedFinding, ...] = ()


@dataclass(frozen=True, kw_only=True)
class SecurityRebuildConfig:
    """When the pipeline starts by itself to move the image's Debian pins forward (docs/IMAGE.md, "Security
    rebuilds"); ``moodle.pipeline.security_rebuild: null`` turns it off, and the committed pins stand."""

    schedule: str
    """An EventBridge schedule expression in UTC, like "cron(0 3 ? * MON *)" (Mondays, 03:00)."""


@dataclass(frozen=True, kw_only=True)
class PipelineConfig:
    account: str
    region: str
    repository: str
    """The git repository as ``owner/name``."""
    branch: str
    connection_arn: str
    """A CodeConnections connection to the git host."""
    notification_email: str | None
    image_repository_name: str
    vulnerability_gate: VulnerabilityGateConfig
    security_rebuild: SecurityRebuildConfig | None


@dataclass(frozen=True, kw_only=True)
class PluginSource:
    """A Moodle plugin built into the image: its component name, where it comes from (a release archive's
    ``url``, or a ``git`` repository and an exact ``commit``) and the SHA-256 of what is downloaded (for
    git, of ``git archive --format=tar <commit>``).

    The image build refuses the download when the checksum differs, when the plugin's version.php names
    another component, or when it declares that it does not support the pinned Moodle release.
    """

    component: str
    sha256: str
    url: str | None = None
    git: str | None = None
    commit: str | None = None

    def build_arg(self) -> dict[str, str]:
        """This plugin in ``MOODLE_PLUGINS``: the settings that are given."""
        given = {"component": self.component, "url": self.url, "git": self.git, "commit": self.commit}
        return {key: value for key, value in given.items() if value is not None} | {"sha256": self.sha256}


@dataclass(frozen=True, kw_only=True)
class LanguagePack:
    """A language pack built into the image; ``url`` defaults to download.moodle.org's for the release."""

    code: str
    sha256: str
    url: str | None = None


@dataclass(frozen=True, kw_only=True)
class MoodleReleaseConfig:
    """The Moodle release baked into the image, verified against its SHA-256 at build time.

    ``sha256`` is the checksum of the release archive as download.moodle.org publishes it next to the
    archive (docs/IMAGE.md: where the shipped value comes from and how to verify a new one). The image
    build refuses an archive that does not match: an unverified download never becomes an image.
    """

    version: str
    sha256: str
    plugins: tuple[PluginSource, ...] = ()
    language_packs: tuple[LanguagePack, ...] = ()

    def language_pack_url(self, pack: LanguagePack) -> str:
        """Where the image build downloads ``pack``: its own URL, or Moodle's for this release's branch."""
        branch = moodle_requirements.branch_of(self.version)
        return (
            pack.url or f"https://download.moodle.org/download.php/direct/langpack/{branch}/{pack.code}.zip"
        )

    def build_args(self) -> dict[str, str]:
        """The image's Docker build arguments; plugins and language packs only when there are some, so
        that the image tag of a release without them stays what it was."""
        args = {"MOODLE_VERSION": self.version, "MOODLE_SHA256": self.sha256}
        if self.plugins:
            plugins = [plugin.build_arg() for plugin in self.plugins]
            args["MOODLE_PLUGINS"] = json.dumps(plugins, separators=(",", ":"))
        if self.language_packs:
            packs = [
                {"code": pack.code, "url": self.language_pack_url(pack), "sha256": pack.sha256}
                for pack in self.language_packs
            ]
            args["MOODLE_LANGUAGE_PACKS"] = json.dumps(packs, separators=(",", ":"))
        return args


@dataclass(frozen=True, kw_only=True)
class ProjectConfig:
    moodle_release: MoodleReleaseConfig
    pipeline: PipelineConfig
    environments: dict[str, EnvironmentConfig]
    """dev, staging and prod, in promotion order."""
    sandbox: EnvironmentConfig


class ConfigError(Exception):
    """The configuration is invalid; ``errors`` holds one line per problem, all of them at once."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        listed = "".join(f"\n  - {error}" for error in errors)
        super().__init__(f'Invalid configuration in cdk.json (context key "moodle"):{listed}')


def _shown(value: object) -> str:
    """A value as the user wrote it in JSON, shortened so that one error stays on one line."""
    text = json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


# Rules for single settings. Each says in words what it expects, so every error can say what is allowed.


@dataclass(frozen=True)
class _Rule:
    expects: str
    """Completes "must be ...", e.g. "an integer from 1 to 35"."""
    accepts: Callable[[object], bool]


def _integer(low: int, high: int) -> _Rule:
    """A JSON integer: ``true`` is not 1 here, although Python's bool is an int."""
    return _Rule(
        f"an integer from {low} to {high}", lambda value: type(value) is int and low <= value <= high
    )


def _one_of(*allowed: object, why: str = "") -> _Rule:
    """One of some JSON values, compared with their types so that ``true`` never equals 1."""
    return _Rule(
        f"one of {', '.join(map(_shown, allowed))}{why}",
        lambda value: any(type(value) is type(item) and value == item for item in allowed),
    )


def _matching(pattern: str, expects: str) -> _Rule:
    return _Rule(expects, lambda value: isinstance(value, str) and re.fullmatch(pattern, value) is not None)


def _certificate_arn(region: str | None, where: str) -> _Rule:
    """An ACM certificate ARN in ``region``; in any region when that is unknown because it is invalid."""
    pattern = rf"arn:aws:acm:{re.escape(region) if region else '[a-z0-9-]+'}:\d{{12}}:certificate/[0-9a-f-]+"
    return _matching(pattern, f"the ARN of an ACM certificate in {where}")


_REGION_PATTERN = r"[a-z]{2}(-gov)?-[a-z]+-\d"
_COMPONENT_PATTERN = r"[a-z][a-z0-9]*_[a-z][a-z0-9_]*"
_DNS_NAME_PATTERN = r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_ACCOUNT = _matching(r"\d{12}", 'an AWS account ID: a string of exactly 12 digits, like "123456789012"')
_REGION = _matching(_REGION_PATTERN, 'an AWS region like "eu-west-1"')
_BOOLEAN = _Rule("true or false", lambda value: isinstance(value, bool))
_EMAIL = _matching(r"[^@\s]+@[^@\s]+\.[^@\s]+", 'an email address like "ops@example.com"')
_DNS_NAME = _matching(
    _DNS_NAME_PATTERN, 'a lowercase DNS name with at least one dot, like "learn.example.com"'
)
SEVERITIES = ("INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL")
"""Finding severities from least to most severe, as ECR's scans report them."""


def _is_date(value: object) -> bool:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


_NON_EMPTY = _Rule("a non-empty string", lambda value: isinstance(value, str) and value.strip() != "")
# fmt: off
_LOG_RETENTION_DAYS = _one_of(
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
    why=" (the retention periods CloudWatch Logs offers)",
)
# fmt: on
_FARGATE_CPU = _one_of(256, 512, 1024, 2048, 4096)
_FARGATE_MEMORY_MIB: dict[int, tuple[int, ...] | range] = {
    256: (512, 1024, 2048),
    512: range(1024, 4096 + 1, 1024),
    1024: range(2048, 8192 + 1, 1024),
    2048: range(4096, 16384 + 1, 1024),
    4096: range(8192, 30720 + 1, 1024),
}
"""Memory sizes Fargate allows for each CPU size; other combinations fail only at deployment."""

_TIME_ZONES = frozenset(zoneinfo.available_timezones())


def _local_time(value: str) -> datetime | None:
    """A wall-clock time to the minute, without an offset; None for anything else."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", value):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


_SHA256 = _matching(r"[0-9a-f]{64}", "a SHA-256 of what is downloaded: 64 lowercase hex digits")
_URL = _matching(r"https?://[^\s\"']+", 'an http(s) URL like "https://example.org/plugin.zip"')
_SECRET_ARN = _matching(
    r"arn:aws:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}",
    'a complete Secrets Manager secret ARN starting with "arn:aws:secretsmanager:" and ending in the '
    'six-character suffix, like "arn:aws:secretsmanager:eu-west-1:123456789012:secret:smtp-AbCdEf"',
)
_LANGUAGE_CODE_PATTERN = r"[a-z]{2,3}(_[a-z0-9]+)*"

_Rules = Mapping[type, Mapping[str, _Rule]]

UPGRADE_TIMEOUT_MINUTES = (60, 690)
"""Allowed ``upgrade.timeout_minutes``: the wait condition waits 30 minutes longer, 720 minutes at most."""

_RULES: _Rules = {
    MoodleReleaseConfig: {
        "version": _Rule(
            'a Moodle release number like "5.1.6" (the first release of a branch is "5.3", not "5.3.0", '
            "as Moodle names its archive moodle-5.3.tgz) of a branch whose PHP and MySQL requirements the "
            f"image and RDS meet: {', '.join(moodle_requirements.supported_branches())} "
            "(moodle_infra/moodle_requirements.py)",
            lambda value: (
                isinstance(value, str)
                and re.fullmatch(r"\d+\.\d+(\.[1-9]\d*)?", value) is not None
                and moodle_requirements.branch_of(value) in moodle_requirements.supported_branches()
            ),
        ),
        "sha256": _matching(r"[0-9a-f]{64}", "the SHA-256 of the release archive: 64 lowercase hex digits"),
    },
    PipelineConfig: {
        "account": _ACCOUNT,
        "region": _REGION,
        "repository": _matching(r"[\w.-]+/[\w.-]+", 'a repository as "owner/name"'),
        "branch": _matching(r"\S+", 'a branch name without spaces, like "main"'),
        "connection_arn": _matching(
            r"arn:aws:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection/[0-9a-f-]{36}",
            'a connection ARN like "arn:aws:codeconnections:eu-west-1:123456789012:connection/<uuid>"',
        ),
        "notification_email": _EMAIL,
        "image_repository_name": _matching(
            r"(?=.{2,256}$)[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*",
            "an ECR repository name of 2 to 256 characters: lowercase letters and digits, "
            'separated by single ".", "_", "-" or "/", like "moodle"',
        ),
    },
    SecurityRebuildConfig: {
        "schedule": _Rule(
            schedule_expression.EXPECTS, lambda value: schedule_expression.problem(value) is None
        ),
    },
    VulnerabilityGateConfig: {
        "scanning": _one_of("enhanced", "basic"),
        "fail_severity": _one_of(*SEVERITIES[1:], why=" (the severities ECR and Amazon Inspector report)"),
        "wait_minutes": _integer(5, 120),
    },
    AllowedFinding: {
        "vulnerability": _matching(
            r"CVE-\d{4}-\d{4,}|GHSA(-[23456789cfghjmpqrvwx]{4}){3}",
            'a vulnerability ID as the scan reports it, like "CVE-2025-12345"',
        ),
        "package": _matching(
            r"[A-Za-z0-9][A-Za-z0-9+._:-]*", 'a package name as the scan reports it, like "libxml2"'
        ),
        "reason": _Rule(
            "a reason of at least 20 characters: why the finding does not matter here",
            lambda value: isinstance(value, str) and len(value.strip()) >= 20,
        ),
        "expires": _Rule('a date like "2027-01-31" (YYYY-MM-DD)', lambda value: _is_date(value)),
    },
    EnvironmentConfig: {
        "account": _ACCOUNT,
        "region": _REGION,
        "alarm_email": _EMAIL,
        "deletion_protection": _BOOLEAN,
        "removal_policy": _one_of("destroy", "snapshot", "retain"),
        "log_retention_days": _LOG_RETENTION_DAYS,
    },
    NetworkConfig: {
        "nat_gateways": _integer(1, 2),
        "interface_endpoints": _BOOLEAN,
        "flow_log_retention_days": _LOG_RETENTION_DAYS,
    },
    DatabaseConfig: {
        "instance_type": _Rule(
            'an RDS for MySQL instance class without the "db." prefix (CDK adds it), like "t4g.micro": '
            + instance_types.described(instance_types.RDS_MYSQL_FAMILIES),
            lambda value: instance_types.offered(value, instance_types.RDS_MYSQL_FAMILIES),
        ),
        "allocated_storage_gib": _integer(20, 65536),
        "max_allocated_storage_gib": _integer(20, 65536),
        "multi_az": _BOOLEAN,
        "backup_retention_days": _integer(1, 35),
    },
    CacheConfig: {
        "node_type": _Rule(
            'an ElastiCache (Redis OSS) node type like "cache.t4g.micro": '
            + instance_types.described(instance_types.ELASTICACHE_REDIS_FAMILIES, prefix="cache."),
            lambda value: instance_types.offered(
                value, instance_types.ELASTICACHE_REDIS_FAMILIES, prefix="cache."
            ),
        ),
        "replicas": _integer(0, 5),
    },
    WebServiceConfig: {
        "cpu": _FARGATE_CPU,
        "memory_mib": _integer(512, 30720),
        "min_tasks": _integer(1, 100),
        "max_tasks": _integer(1, 100),
        "cpu_target_percent": _integer(10, 90),
        "requests_per_target": _integer(1, 100000),
    },
    ExamWindow: {
        "start": _Rule(
            'a local date and time "YYYY-MM-DDTHH:MM" without an offset (time_zone gives it), '
            'like "2027-01-20T09:00"',
            lambda value: isinstance(value, str) and _local_time(value) is not None,
        ),
        "duration_minutes": _integer(10, 24 * 60),
        "time_zone": _Rule(
            'an IANA time zone name like "Europe/Montevideo" or "UTC"',
            lambda value: isinstance(value, str) and value in _TIME_ZONES,
        ),
        "min_tasks": _integer(1, 100),
        "warm_up_minutes": _integer(5, 240),
    },
    CronConfig: {"cpu": _FARGATE_CPU, "memory_mib": _integer(512, 30720)},
    UpgradeSnapshotConfig: {
        "enabled": _BOOLEAN,
        "keep": _integer(1, 50),
        # Part of upgrade.timeout_minutes (checked by _check_environment); RDS snapshots of large
        # databases take hours only the first time.
        "timeout_minutes": _integer(5, 240),
    },
    UpgradeConfig: {
        # At least an hour (a first install takes minutes, Fargate start-up included); at most what the
        # deploy's wait condition allows (12 hours) minus the margin it keeps for the failure signal.
        "timeout_minutes": _integer(UPGRADE_TIMEOUT_MINUTES[0], UPGRADE_TIMEOUT_MINUTES[1]),
    },
    CanaryConfig: {
        "enabled": _BOOLEAN,
        "every_minutes": _one_of(2, 5, 10, 15, 30, 60, why=" (minutes between runs)"),
        "alarm_after_failed_runs": _integer(1, 10),
        "artifact_retention_days": _integer(1, 455),
        "username": _matching(
            r"[a-z0-9_.-]{2,100}", "2 to 100 lowercase letters, digits, dots, dashes or underscores"
        ),
        "course_short_name": _matching(
            r"[A-Za-z0-9_.-]{2,100}", "2 to 100 letters, digits, dots, dashes or underscores"
        ),
    },
    JourneyBudgets: {
        name: _integer(1, 60)
        for name in ("login_page", "log_in", "dashboard", "course", "ajax_call", "api_route")
    },
    MoodleSiteConfig: {
        "site_full_name": _NON_EMPTY,
        "site_short_name": _NON_EMPTY,
        "admin_user": _matching(
            r"[a-z0-9_.-]{2,100}", "2 to 100 lowercase letters, digits, dots, dashes or underscores"
        ),
        "admin_email": _EMAIL,
        "noreply_address": _EMAIL,
        "smtp_host": _DNS_NAME,
        "smtp_port": _integer(1, 65535),
        "smtp_credentials_secret_arn": _SECRET_ARN,
        "default_language": _matching(
            _LANGUAGE_CODE_PATTERN, 'a Moodle language code like "en", "de" or "pt_br"'
        ),
        "uninstall_plugins": _Rule(
            'a list of plugin component names, each once, like ["mod_customcert"]',
            lambda value: (
                isinstance(value, list | tuple)
                and all(isinstance(item, str) and re.fullmatch(_COMPONENT_PATTERN, item) for item in value)
                and len(set(value)) == len(value)
            ),
        ),
    },
    SecretReference: {"secret_arn": _SECRET_ARN, "json_key": _NON_EMPTY},
    PluginSource: {
        "component": _matching(
            _COMPONENT_PATTERN,
            'a Moodle component name "<plugin type>_<name>" as in the plugin\'s version.php, '
            'like "mod_customcert"',
        ),
        "url": _URL,
        "sha256": _SHA256,
        "git": _matching(
            r"https://[^\s\"']+", 'a git repository\'s https URL, like "https://github.com/owner/repo.git"'
        ),
        "commit": _matching(
            r"[0-9a-f]{40}|[0-9a-f]{64}", "a full commit hash: 40 (or 64) lowercase hex digits"
        ),
    },
    LanguagePack: {
        "code": _matching(
            rf"(?!en$){_LANGUAGE_CODE_PATTERN}",
            'a Moodle language code other than "en" (English is built in), like "de" or "pt_br"',
        ),
        "sha256": _SHA256,
        "url": _URL,
    },
    CustomDomain: {
        "domain_name": _DNS_NAME,
        "hosted_zone_id": _matching(r"Z[A-Z0-9]+", 'a Route 53 hosted zone ID like "Z0123456789ABC"'),
        "hosted_zone_name": _DNS_NAME,
        "cloudfront_certificate_arn": _certificate_arn(
            "us-east-1", "us-east-1 (CloudFront only uses certificates from there)"
        ),
        "alb_certificate_arn": _certificate_arn(None, "the environment's region"),  # see _environment_rules
    },
}

_DISPOSABLE_ENVIRONMENTS = ("dev", SANDBOX)
"""Environments whose data may be destroyed with their stacks."""


def _environment_rules(name: str, region: str | None) -> _Rules:
    """_RULES made specific to one environment; ``region`` is None when it is invalid."""
    removal_policy = (
        _RULES[EnvironmentConfig]["removal_policy"]
        if name in _DISPOSABLE_ENVIRONMENTS
        else _one_of(
            "snapshot",
            "retain",
            why=' ("destroy" is only allowed for dev and sandbox: '
            "the data of staging and prod must survive the deletion of a stack)",
        )
    )
    return {
        **_RULES,
        EnvironmentConfig: {**_RULES[EnvironmentConfig], "removal_policy": removal_policy},
        CustomDomain: {
            **_RULES[CustomDomain],
            "alb_certificate_arn": _certificate_arn(region, f"{region}, the load balancer's region"),
        },
    }


# Rules relating the settings of one section. They run once each setting is valid on its own, and
# yield (setting, problem) pairs; setting "" stands for the whole section.

_Problems = Iterator[tuple[str, str]]


def _check_environment(environment: EnvironmentConfig) -> _Problems:
    """The snapshot wait is part of the upgrade's time limit: it must leave time for the upgrade."""
    snapshot, upgrade = environment.upgrade_snapshots.timeout_minutes, environment.upgrade.timeout_minutes
    if snapshot >= upgrade:
        yield (
            "upgrade_snapshots.timeout_minutes",
            f"must be less than upgrade.timeout_minutes ({upgrade}), of which the snapshot wait is a part, "
            f"got {snapshot}",
        )


def _check_database(database: DatabaseConfig) -> _Problems:
    """Storage autoscaling can only grow the volume."""
    if database.max_allocated_storage_gib < database.allocated_storage_gib:
        yield (
            "max_allocated_storage_gib",
            f"must be at least allocated_storage_gib ({database.allocated_storage_gib}), "
            f"got {database.max_allocated_storage_gib}",
        )


def _check_task_size(task: WebServiceConfig | CronConfig) -> _Problems:
    """Fargate accepts only some memory sizes for each CPU size."""
    allowed = _FARGATE_MEMORY_MIB[task.cpu]
    if task.memory_mib not in allowed:
        listed = (
            f"from {allowed.start} to {allowed[-1]} in steps of {allowed.step}"
            if isinstance(allowed, range)
            else "one of " + ", ".join(map(str, allowed))
        )
        yield "memory_mib", f"must be {listed} for cpu {task.cpu} (Fargate's sizes), got {task.memory_mib}"


def _check_web_service(web: WebServiceConfig) -> _Problems:
    """Auto scaling needs a maximum that is not below its minimum; php-fpm needs room for its workers."""
    yield from _check_task_size(web)
    workers = php_fpm.workers_memory_allows(web.memory_mib)
    if workers < php_fpm.MIN_WORKERS:
        needed = php_fpm.RESERVED_MIB + php_fpm.MIN_WORKERS * php_fpm.WORKER_MIB
        yield (
            "memory_mib",
            f"must be at least {needed} for a web task (OPcache, nginx and {php_fpm.MIN_WORKERS} php-fpm "
            f"workers of {php_fpm.WORKER_MIB} MiB), got {web.memory_mib}",
        )
    if web.max_tasks < web.min_tasks:
        yield "max_tasks", f"must be at least min_tasks ({web.min_tasks}), got {web.max_tasks}"
    for name in ("cpu_target_percent", "requests_per_target"):
        if getattr(web, name) is None and (why := capacity.unmeasured(web.cpu)):
            yield name, f"must be set: null derives it from docs/capacity/results.json, but {why}"
    yield from _check_exam_windows(web)


MAX_EXAM_WINDOWS = 100


def _check_exam_windows(web: WebServiceConfig) -> _Problems:
    """Each window raises the minimum within [min_tasks, max_tasks] at a time that exists, and no two
    windows overlap (warm-up included): the first one's restore would drop the second one's tasks."""
    if len(web.exam_windows) > MAX_EXAM_WINDOWS:
        yield (
            "exam_windows",
            f"must list at most {MAX_EXAM_WINDOWS} windows (two scheduled actions each, and Application Auto "
            f"Scaling keeps at most 200 per scalable target), got {len(web.exam_windows)}; remove past ones",
        )
    for index, window in enumerate(web.exam_windows):
        where = f"exam_windows[{index}]"
        if not web.min_tasks < window.min_tasks <= web.max_tasks:
            yield (
                f"{where}.min_tasks",
                f"must be above min_tasks ({web.min_tasks}) and at most max_tasks ({web.max_tasks}), "
                f"got {window.min_tasks}",
            )
        start = window.local_start()
        if _shifted(start, 0).replace(tzinfo=None) != start.replace(tzinfo=None):
            yield (
                f"{where}.start",
                f"{_shown(window.start)} does not exist in {window.time_zone} (clocks jump forward over it "
                "for daylight saving time); give the time the clocks show",
            )
    ordered = sorted(enumerate(web.exam_windows), key=lambda item: item[1].raised_at())
    latest: tuple[int, ExamWindow] | None = None  # of the windows seen so far, the one that ends last
    for index, window in ordered:
        if latest is not None and window.raised_at() < latest[1].restored_at():
            yield (
                f"exam_windows[{index}]",
                f"overlaps exam_windows[{latest[0]}] (which ends at "
                f"{latest[1].restored_at():%Y-%m-%d %H:%M %Z}, while this one raises the minimum at "
                f"{window.raised_at():%Y-%m-%d %H:%M %Z}, "
                f"{window.warm_up_minutes} minutes before its start); merge them into one window",
            )
        if latest is None or window.restored_at() > latest[1].restored_at():
            latest = (index, window)


CANARY_MAX_TIMEOUT_SECONDS = 840
"""The longest run CloudWatch Synthetics allows (RunConfig.TimeoutInSeconds, 3 to 840)."""
CANARY_RUN_OVERHEAD_SECONDS = 60
"""Starting the browser and reading the password, before the first step (docs/JOURNEY.md)."""


def canary_timeout_seconds(canary: CanaryConfig) -> int:
    """A run may take as long as the interval between runs, at most Synthetics' limit."""
    return min(canary.every_minutes * 60, CANARY_MAX_TIMEOUT_SECONDS)


def _check_canary(canary: CanaryConfig) -> _Problems:
    """Every step at its budget, plus the browser's start, must fit in one run's timeout; a canary whose
    runs would time out before their budgets did would fail with no step to blame."""
    budgets = canary.budgets_seconds
    total = sum(getattr(budgets, name) for name in _RULES[JourneyBudgets]) + CANARY_RUN_OVERHEAD_SECONDS
    timeout = canary_timeout_seconds(canary)
    if total > timeout:
        yield (
            "budgets_seconds",
            f"must add up to at most {timeout - CANARY_RUN_OVERHEAD_SECONDS} s (a run's timeout of "
            f"{timeout} s, from every_minutes, less {CANARY_RUN_OVERHEAD_SECONDS} s to start the "
            f"browser), got {total - CANARY_RUN_OVERHEAD_SECONDS} s",
        )


def _check_moodle_site(site: MoodleSiteConfig) -> _Problems:
    """SMTP credentials are useless without an SMTP server to log in to."""
    if site.smtp_credentials_secret_arn and not site.smtp_host:
        yield (
            "smtp_credentials_secret_arn",
            "requires smtp_host (the credentials log in to that server), "
            f"got {_shown(site.smtp_credentials_secret_arn)} without smtp_host",
        )


def _check_custom_domain(domain: CustomDomain) -> _Problems:
    """Certificates come either from a hosted zone or from ACM: half of each would leave one missing."""
    zone = {"hosted_zone_id": domain.hosted_zone_id, "hosted_zone_name": domain.hosted_zone_name}
    certificates = {
        "cloudfront_certificate_arn": domain.cloudfront_certificate_arn,
        "alb_certificate_arn": domain.alb_certificate_arn,
    }
    uses_zone = all(zone.values()) and not any(certificates.values())
    uses_certificates = all(certificates.values()) and not any(zone.values())
    if not (uses_zone or uses_certificates):
        given = [name for name, value in (zone | certificates).items() if value] or ["none of them"]
        yield (
            "",
            "needs either both hosted_zone_id and hosted_zone_name (certificates and DNS records are "
            "created in that Route 53 zone) or both cloudfront_certificate_arn and alb_certificate_arn "
            f"(existing ACM certificates), got {', '.join(given)}",
        )
    zone_name = domain.hosted_zone_name
    if zone_name and not (domain.domain_name == zone_name or domain.domain_name.endswith("." + zone_name)):
        yield (
            "hosted_zone_name",
            f"must be {_shown(domain.domain_name)} or a parent of it, got {_shown(zone_name)}",
        )


def _check_plugin_source(plugin: PluginSource) -> _Problems:
    """One source: an archive, or an exact commit of a repository."""
    if (plugin.url is None) == (plugin.git is None):
        yield (
            "",
            "needs either url (a release archive) or git and commit (an exact commit), not both or neither",
        )
    elif (plugin.git is None) != (plugin.commit is None):
        yield (
            "git" if plugin.git is None else "commit",
            "git and commit go together: the repository and its commit",
        )


_SECTION_CHECKS: dict[type, Callable[[Any], _Problems]] = {
    EnvironmentConfig: _check_environment,
    PluginSource: _check_plugin_source,
    DatabaseConfig: _check_database,
    WebServiceConfig: _check_web_service,
    CronConfig: _check_task_size,
    MoodleSiteConfig: _check_moodle_site,
    CanaryConfig: _check_canary,
    CustomDomain: _check_custom_domain,
}


# Settings that are lists or free-form objects, each parsed by its own function into a value or _INVALID.

IMAGE_OWNED_SETTINGS = frozenset({
    "wwwroot", "sslproxy", "reverseproxy", "getremoteaddrconf", "dbtype", "dblibrary", "dbhost", "dbname",
    "dbuser", "dbpass", "prefix", "dboptions", "dataroot", "tempdir", "cachedir", "backuptempdir",
    "localcachedir", "localrequestdir", "directorypermissions", "xsendfile", "xsendfilealiases",
    "session_handler_class", "session_redis_host", "session_redis_port", "session_redis_auth",
    "session_redis_prefix", "session_redis_encrypt", "session_redis_acquire_lock_retry",
    "enable_read_only_sessions", "smtphosts", "smtpuser", "smtppass", "smtpsecure", "noreplyaddress",
    "admin", "routerconfigured", "preventexecpath", "disableupdateautodeploy", "lang", "langotherroot",
    "scheduled_tasks", "forced_plugin_settings", "dirroot", "libdir", "wwwdir",
})  # fmt: skip
"""Core settings that the image's config.php sets itself, from its own variables and settings (docs/IMAGE.md);
forcing them from the site settings as well would leave two sources for one value."""

_SECRET_WORDS = ("password", "passwd", "secret", "token", "key")
"""A setting whose name holds one of these takes its value only from Secrets Manager."""

_SETTING_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_PLUGIN_NAME = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")
_SECRET_EXAMPLE = (
    '{"secret_arn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:moodle-AbCdEf", "json_key": "..."}'
)


def _parse_list(cls: type, value: object, path: str, errors: list[str], *, key: str) -> object:
    """A JSON array of ``cls`` objects, each ``key`` at most once."""
    if not isinstance(value, list):
        errors.append(
            f"{path}: must be a list of objects with {', '.join(_settings(cls))}, got {_shown(value)}"
        )
        return _INVALID
    items = [_parse(cls, item, f"{path}[{index}]", _RULES, errors) for index, item in enumerate(value)]
    seen: set[object] = set()
    for index, item in enumerate(items):
        if item is not None and (name := getattr(item, key)) in seen:
            errors.append(f"{path}[{index}].{key}: {_shown(name)} is listed twice; list each {key} once")
            items[index] = None
        seen.add(None if item is None else getattr(item, key))
    return _INVALID if None in items else tuple(items)


def _parse_setting_values(
    value: object, path: str, errors: list[str], *, core: bool
) -> dict[str, Any] | None:
    """One object of Moodle settings; null drops a setting that the environment defaults force."""
    raw = _json_object(value, path, "an object of Moodle setting names and their values", errors)
    if raw is None:
        return None
    parsed: dict[str, Any] = {}
    valid = True
    for name, setting in raw.items():
        setting_path = f"{path}.{name}"
        secret_word = next((word for word in _SECRET_WORDS if word in name.lower()), None)
        problem = None
        if not _SETTING_NAME.fullmatch(name):
            problem = "is no Moodle setting name: letters, digits and underscores, starting with a letter"
        elif core and name == "lang":
            problem = "is set by moodle.default_language (a language built into the image)"
        elif core and name in IMAGE_OWNED_SETTINGS:
            problem = (
                "is set by the image's config.php from its own configuration (docs/IMAGE.md) and cannot "
                "be forced here"
            )
        elif setting is None:
            continue
        elif isinstance(setting, dict):
            reference = _parse(SecretReference, setting, setting_path, _RULES, errors)
            valid = valid and reference is not None
            parsed[name] = reference
            continue
        elif isinstance(setting, str) and setting and secret_word:
            problem = (
                f'looks like a secret written inline (the name contains "{secret_word}"): cdk.json is '
                f"kept in git, so give a Secrets Manager reference instead, like {_SECRET_EXAMPLE}"
            )
        elif isinstance(setting, bool | int | float | str):
            parsed[name] = setting
            continue
        else:
            problem = (
                "must be a string, a number, true or false, null (not forced here) or a Secrets Manager "
                f"reference like {_SECRET_EXAMPLE}, got {_shown(setting)}"
            )
        errors.append(f"{setting_path}: {problem}")
        valid = False
    return parsed if valid else None


def _parse_site_settings(value: object, path: str, errors: list[str]) -> object:
    """``core`` and ``plugins`` settings, forced by config.php."""
    raw = _json_object(value, path, "an object with core and plugins", errors)
    if raw is None:
        return _INVALID
    _report_unknown(raw, ("core", "plugins"), path, errors)
    core = _parse_setting_values(raw.get("core", {}), f"{path}.core", errors, core=True)
    expects = 'an object of plugins, each an object of its settings, like {"mod_forum": {"maxbytes": 512000}}'
    plugins_raw = _json_object(raw.get("plugins", {}), f"{path}.plugins", expects, errors)
    plugins: dict[str, dict[str, SettingValue]] = {}
    valid = core is not None and plugins_raw is not None
    for plugin, settings in (plugins_raw or {}).items():
        if not _PLUGIN_NAME.fullmatch(plugin):
            errors.append(
                f"{path}.plugins.{plugin}: is no Moodle plugin name: lowercase letters, digits and single "
                'underscores, like "mod_forum" or "moodlecourse"'
            )
            valid = False
        elif (
            parsed := _parse_setting_values(settings, f"{path}.plugins.{plugin}", errors, core=False)
        ) is None:
            valid = False
        elif parsed:
            plugins[plugin] = parsed
    return SiteSettings(core=core or {}, plugins=plugins) if valid else _INVALID


_CUSTOM_PARSERS: dict[tuple[type, str], Callable[[object, str, list[str]], object]] = {
    (MoodleReleaseConfig, "plugins"): lambda value, path, errors: _parse_list(
        PluginSource, value, path, errors, key="component"
    ),
    (MoodleReleaseConfig, "language_packs"): lambda value, path, errors: _parse_list(
        LanguagePack, value, path, errors, key="code"
    ),
    (MoodleSiteConfig, "settings"): _parse_site_settings,
    (VulnerabilityGateConfig, "allowed"): lambda value, path, errors: _parse_list(
        AllowedFinding, value, path, errors, key="vulnerability_and_package"
    ),
    (WebServiceConfig, "exam_windows"): lambda value, path, errors: _parse_list(
        ExamWindow, value, path, errors, key="start"
    ),
}


# Building the dataclasses from JSON objects, following their fields' types.


@dataclass(frozen=True)
class _Setting:
    section: type | None
    """The nested dataclass when the value is an object of settings."""
    nullable: bool
    default: object
    """Used when the setting is omitted; MISSING when it is required."""


def _settings(cls: type) -> dict[str, _Setting]:
    """The JSON keys of a dataclass, in field order. An environment's name is its key, not a setting."""
    hints = get_type_hints(cls)
    settings = {}
    for field in fields(cls):
        if cls is EnvironmentConfig and field.name == "name":
            continue
        options = get_args(hints[field.name]) or (hints[field.name],)
        nullable = type(None) in options
        section = next(
            (option for option in options if isinstance(option, type) and is_dataclass(option)), None
        )
        if (cls, field.name) in _CUSTOM_PARSERS:
            section = None
        default = None if nullable and field.default is MISSING else field.default
        settings[field.name] = _Setting(section, nullable, default)
    return settings


def _report_unknown(raw: Mapping[str, object], allowed: Iterable[str], path: str, errors: list[str]) -> None:
    """A misspelt setting would otherwise be ignored silently, leaving its default in force."""
    listed = ", ".join(sorted(allowed))
    errors.extend(f"{path}.{key}: unknown setting; allowed: {listed}" for key in raw if key not in allowed)


def _json_object(value: object, path: str, expects: str, errors: list[str]) -> dict[str, object] | None:
    """``value`` when it is a JSON object; None once the problem is recorded."""
    if value is MISSING:
        errors.append(f"{path}: required setting is missing; must be {expects}")
    elif not isinstance(value, dict):
        errors.append(f"{path}: must be {expects}, got {_shown(value)}")
    else:
        return value
    return None


_Section = TypeVar("_Section")
_INVALID = object()
"""Stands for a setting whose problem is already recorded."""


def _parse(
    cls: type[_Section],
    value: object,
    path: str,
    rules: _Rules,
    errors: list[str],
    *,
    nullable: bool = False,
    derived: Mapping[str, object] | None = None,
) -> _Section | None:
    """Build ``cls`` from a JSON object, recording every problem; None when a setting is invalid."""
    settings = _settings(cls)
    expects = "an object with " + ", ".join(settings) + (" or null" if nullable else "")
    raw = _json_object(value, path, expects, errors)
    if raw is None:
        return None
    _report_unknown(raw, settings, path, errors)
    values: dict[str, object] = {}
    for name, setting in settings.items():
        setting_value = raw.get(name, setting.default)
        setting_path = f"{path}.{name}"
        if setting_value is None and setting.nullable:
            values[name] = None
        elif (cls, name) in _CUSTOM_PARSERS:
            parse = _CUSTOM_PARSERS[(cls, name)]
            values[name] = setting.default if name not in raw else parse(setting_value, setting_path, errors)
        elif setting.section:
            section = _parse(
                setting.section, setting_value, setting_path, rules, errors, nullable=setting.nullable
            )
            values[name] = _INVALID if section is None else section
        else:
            rule = rules[cls][name]
            values[name] = _parse_value(rule, setting_value, setting_path, setting.nullable, errors)
    if any(parsed is _INVALID for parsed in values.values()):
        return None
    section = cls(**values, **(derived or {}))
    for name, problem in _SECTION_CHECKS.get(cls, lambda _: iter(()))(section):
        errors.append(f"{path}.{name}: {problem}" if name else f"{path}: {problem}")
    return section


def _parse_value(rule: _Rule, value: object, path: str, nullable: bool, errors: list[str]) -> object:
    """A single setting's value, with JSON arrays as tuples; _INVALID once its problem is recorded."""
    expects = rule.expects + (" or null" if nullable else "")
    if value is MISSING:
        errors.append(f"{path}: required setting is missing; must be {expects}")
    elif rule.accepts(value):
        return tuple(value) if isinstance(value, list) else value
    else:
        errors.append(f"{path}: must be {expects}, got {_shown(value)}")
    return _INVALID


def _deep_merge(defaults: Mapping[str, object], own: Mapping[str, object]) -> dict[str, object]:
    """``own`` over ``defaults``, object by object, so an environment can override one nested setting."""
    merged = dict(defaults)
    for key, value in own.items():
        default = defaults.get(key)
        if isinstance(default, dict) and isinstance(value, dict):
            merged[key] = _deep_merge(default, value)
        else:
            merged[key] = value
    return merged


def _known_defaults(raw: Mapping[str, object], cls: type, path: str, errors: list[str]) -> dict[str, object]:
    """``raw`` without unknown settings, reported once under ``path`` rather than once per environment."""
    settings = _settings(cls)
    _report_unknown(raw, settings, path, errors)
    known: dict[str, object] = {}
    for key, value in raw.items():
        section = settings[key].section if key in settings else None
        if section and isinstance(value, dict):
            known[key] = _known_defaults(value, section, f"{path}.{key}", errors)
        elif key in settings:
            known[key] = value
    return known


def _parse_environment(
    name: str, value: object, defaults: Mapping[str, object], path: str, errors: list[str]
) -> EnvironmentConfig | None:
    """One environment: its own settings merged over ``environment_defaults``."""
    merged = _deep_merge(defaults, value) if isinstance(value, dict) else value
    region = merged.get("region") if isinstance(merged, dict) else None
    valid_region = region if isinstance(region, str) and _REGION.accepts(region) else None
    rules = _environment_rules(name, valid_region)
    return _parse(EnvironmentConfig, merged, path, rules, errors, derived={"name": name})


def _check_default_language(
    release: MoodleReleaseConfig, environments: Mapping[str, EnvironmentConfig | None]
) -> Iterator[str]:
    """A default language needs its language pack in the image, which every environment shares."""
    codes = ["en", *(pack.code for pack in release.language_packs)]
    for path, environment in environments.items():
        if environment is not None and environment.moodle.default_language not in codes:
            yield (
                f"{path}.moodle.default_language: must be one of {', '.join(map(_shown, codes))} "
                "(English and the codes of moodle.moodle_release.language_packs), "
                f"got {_shown(environment.moodle.default_language)}"
            )


def _check_uninstall_plugins(
    release: MoodleReleaseConfig, environments: Mapping[str, EnvironmentConfig | None]
) -> Iterator[str]:
    """Only a plugin the image lacks is uninstalled: one that is built in would be both kept and removed."""
    built = {plugin.component for plugin in release.plugins}
    for path, environment in environments.items():
        for component in environment.moodle.uninstall_plugins if environment is not None else ():
            if component in built:
                yield (
                    f"{path}.moodle.uninstall_plugins: {_shown(component)} is built into the image "
                    "(moodle.moodle_release.plugins); remove it from one of the two lists"
                )


_TOP_LEVEL_SETTINGS = ("moodle_release", "pipeline", "environment_defaults", "environments", "sandbox")


def load_config(raw: object) -> ProjectConfig:
    """Parse the value of the ``moodle`` context key; raise ConfigError listing every problem."""
    errors: list[str] = []
    top = _json_object(raw, "moodle", "an object with " + ", ".join(_TOP_LEVEL_SETTINGS), errors)
    if top is None:
        raise ConfigError(errors)
    _report_unknown(top, _TOP_LEVEL_SETTINGS, "moodle", errors)
    release = _parse(
        MoodleReleaseConfig, top.get("moodle_release", MISSING), "moodle.moodle_release", _RULES, errors
    )
    pipeline = _parse(PipelineConfig, top.get("pipeline", MISSING), "moodle.pipeline", _RULES, errors)

    defaults_path = "moodle.environment_defaults"
    defaults_raw = top.get("environment_defaults", {})
    defaults_object = _json_object(defaults_raw, defaults_path, "an object of environment settings", errors)
    defaults = _known_defaults(defaults_object or {}, EnvironmentConfig, defaults_path, errors)

    environments: dict[str, EnvironmentConfig] = {}
    listed = ", ".join(ENVIRONMENT_NAMES)
    environments_raw = _json_object(
        top.get("environments", MISSING), "moodle.environments", f"an object with exactly {listed}", errors
    )
    if environments_raw is not None:
        errors.extend(
            f"moodle.environments.{name}: unknown environment; allowed: {listed}"
            for name in environments_raw
            if name not in ENVIRONMENT_NAMES
        )
        for name in ENVIRONMENT_NAMES:
            path = f"moodle.environments.{name}"
            if name not in environments_raw:
                errors.append(
                    f"{path}: required environment is missing; environments must be exactly {listed}"
                )
            elif (
                environment := _parse_environment(name, environments_raw[name], defaults, path, errors)
            ) is not None:
                environments[name] = environment
    sandbox = _parse_environment(SANDBOX, top.get("sandbox", MISSING), defaults, "moodle.sandbox", errors)
    if release is not None:
        located = {f"moodle.environments.{name}": environment for name, environment in environments.items()}
        errors.extend(_check_default_language(release, located | {"moodle.sandbox": sandbox}))
        errors.extend(_check_uninstall_plugins(release, located | {"moodle.sandbox": sandbox}))

    if errors or release is None or pipeline is None or sandbox is None:
        raise ConfigError(errors)
    return ProjectConfig(
        moodle_release=release, pipeline=pipeline, environments=environments, sandbox=sandbox
    )


def load_from_context(value: object) -> ProjectConfig:
    """Load ``app.node.try_get_context("moodle")``, which is None when cdk.json lacks the key."""
    if value is None:
        expected = ", ".join(_TOP_LEVEL_SETTINGS)
        message = f'the "moodle" context key is missing from cdk.json; it must hold an object with {expected}'
        raise ConfigError([f"moodle: {message}"])
    return load_config(value)
