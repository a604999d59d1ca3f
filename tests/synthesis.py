"""The shipped app, built by ``app.build_app`` exactly as ``cdk synth`` builds it (cdk.json's context,
cdk-nag registered), synthesized into a directory: what the compliance and deploy-time suites read.

The session's one synthesis of it is the ``shipped_synthesis`` fixture (tests/conftest.py); the negative
control of tests/compliance synthesizes it a second time with planted violations.
"""

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import App

from app import build_app
from compliance.assembly import Assembly, read_assembly

ROOT = Path(__file__).resolve().parent.parent


def cdk_context() -> dict[str, Any]:
    """What the CDK CLI gives the app: cdk.json's context (configuration and feature flags) and the
    cached lookups of cdk.context.json."""
    context: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
    cached = ROOT / "cdk.context.json"
    if cached.exists():
        context = {**json.loads(cached.read_text()), **context}
    return context


@dataclass
class Synthesis:
    app: App
    outdir: Path
    error: str | None
    """The synthesis error (``ValidationFailed`` when cdk-nag found something), None if it passed."""

    @functools.cached_property
    def assembly(self) -> Assembly:
        return read_assembly(self.outdir)


def synthesize(outdir: Path, *, after_build: Callable[[App], None] | None = None) -> Synthesis:
    """``build_app`` on a fresh App with the CLI's context, then ``app.synth()``."""
    app = build_app(App(outdir=str(outdir), context=cdk_context()))
    if after_build is not None:
        after_build(app)
    try:
        app.synth()
    except RuntimeError as error:
        return Synthesis(app, outdir, str(error))
    return Synthesis(app, outdir, None)
