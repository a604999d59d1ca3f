"""Compliance gate of the app: cdk-nag packs on every synthesis, cfn-lint and checkov on every template,
and the Markdown report that shows reviewers what was checked and what was acknowledged, and why.

- :mod:`compliance.registration`: ``register_compliance_checks(app)``, called by ``app.py``.
- :mod:`compliance.acknowledgments`: what construct files call to acknowledge one finding on one
  resource, or skip a checkov check on it, next to the code that creates it.
- :mod:`compliance.cdk_internals`: skips that hold for the Lambdas CDK creates for itself.
- :mod:`compliance.gate`: ``python -m compliance.gate cdk.out``: cfn-lint, checkov and the report.

Construct modules import the submodules they need, so building a stage never loads cdk-nag.
"""
