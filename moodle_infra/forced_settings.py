"""Site settings as code: the settings of cdk.json (``moodle.settings``, ``moodle.default_language``) handed
to every Moodle container as one JSON variable, which the image's config.php forces (image/moodle/config.php,
"Moodle as code"), so the admin pages show them as fixed and no task can drift from another.

Secrets stay in Secrets Manager: the JSON names an environment variable instead, which ECS fills from the
secret when the task starts.
"""

import json
from dataclasses import dataclass

from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from moodle_infra.config import MoodleSiteConfig, SecretReference, SettingValue

FORCED_SETTINGS_VARIABLE = "MOODLE_FORCED_SETTINGS"
SECRET_VARIABLE_PREFIX = "MOODLE_SETTING_SECRET_"


@dataclass(frozen=True, kw_only=True)
class ForcedSettings:
    environment: dict[str, str]
    secrets: dict[str, ecs.Secret]


def forced_settings(scope: Construct, *, site: MoodleSiteConfig) -> ForcedSettings:
    """The variable config.php reads, and one ECS secret per setting whose value is a secret reference."""
    secrets: dict[str, ecs.Secret] = {}
    imported: dict[str, secretsmanager.ISecret] = {}

    def value(setting: SettingValue) -> object:
        if not isinstance(setting, SecretReference):
            return setting
        if setting.secret_arn not in imported:
            imported[setting.secret_arn] = secretsmanager.Secret.from_secret_complete_arn(
                scope, f"SettingSecret{len(imported) + 1}", setting.secret_arn
            )
        variable = f"{SECRET_VARIABLE_PREFIX}{len(secrets) + 1}"
        secrets[variable] = ecs.Secret.from_secrets_manager(imported[setting.secret_arn], setting.json_key)
        return {"env": variable}

    core = {"lang": site.default_language} | {
        name: value(setting) for name, setting in sorted(site.settings.core.items())
    }
    plugins = {
        plugin: {name: value(setting) for name, setting in sorted(settings.items())}
        for plugin, settings in sorted(site.settings.plugins.items())
    }
    document = json.dumps({"core": core, "plugins": plugins}, separators=(",", ":"))
    return ForcedSettings(environment={FORCED_SETTINGS_VARIABLE: document}, secrets=secrets)
