"""The compliance suite reads the shipped app's synthesis (``shipped_synthesis``, tests/conftest.py);
building and checking the full app takes seconds, so the suite has two full syntheses in all: that one
and the negative control's (tests/compliance/test_negative_controls.py).
"""

from tests.synthesis import ROOT, Synthesis, cdk_context, synthesize

__all__ = ["ROOT", "Synthesis", "cdk_context", "synthesize"]
