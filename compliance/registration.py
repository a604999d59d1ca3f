"""Registers the cdk-nag packs on the App, the only place where they reach every stack.

cdk-nag 3.x packs are CDK validation plugins. Registered on the App they walk the whole construct tree
after synthesis: the pipeline stack, every stage the pipeline deploys (including each stage's us-east-1
stack) and the sandbox stage. Registered on a Stage nested in the pipeline they silently check nothing,
and added as an Aspect they crash, hence one function that ``app.py`` calls on the App itself.

Any unacknowledged finding, error or warning, makes ``app.synth()`` raise ``RuntimeError`` (so ``cdk
synth`` exits 1) and CDK writes every finding to ``cdk.out/validation-report.json``.
"""

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks, NagPack, NIST80053R5Checks

NAG_PACKS: tuple[type[NagPack], ...] = (AwsSolutionsChecks, NIST80053R5Checks)
"""AWS Solutions and NIST 800-53 rev 5, in the order they report."""


def register_compliance_checks(app: App) -> None:
    """Run every pack of :data:`NAG_PACKS` over the whole app when it is synthesized."""
    if not App.is_app(app):
        raise TypeError("cdk-nag packs must be registered on the App: on a nested Stage they check nothing")
    if getattr(app, _MARKER, False):
        raise RuntimeError("the cdk-nag packs are already registered on this App: each would report twice")
    setattr(app, _MARKER, True)
    Validations.of(app).add_plugins(*(pack(app) for pack in NAG_PACKS))


_MARKER = "_moodle_compliance_checks_registered"
