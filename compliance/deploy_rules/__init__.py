"""Deploy-time rules: what AWS requires when it creates, updates or deletes what the templates say.

Each module holds one rule (a :class:`DeployRule` whose ``check`` docstring cites the AWS documentation
it enforces); :data:`RULES` lists them all. They run over every template of a cloud assembly in
:mod:`compliance.gate` (a violation fails ``make synth``) and in tests/deploy/, each beside a
non-compliant fixture it must catch.
"""

from compliance.deploy_rules.catalogue import RULES, run_rules
from compliance.deploy_rules.model import DeployRule, StackTemplate, Violation, templates_of_assembly

__all__ = ["RULES", "DeployRule", "StackTemplate", "Violation", "run_rules", "templates_of_assembly"]
