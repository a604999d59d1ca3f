"""The README's architecture diagram is current: its committed Graphviz source (docs/diagram/dev.dot)
is what ``make diagram`` draws from the current code. Compared as source, never as pixels.

Uses the session's synthesis of the shipped app (``shipped_synthesis``). The source needs Node.js and
cdk-dia only (``make install``); Graphviz is needed for the picture, which is not compared.
"""

import json
from pathlib import Path

import pytest

from tests.compliance.conftest import Synthesis
from tools import diagram


def test_the_committed_diagram_source_is_what_the_code_draws(shipped_synthesis: Synthesis) -> None:
    committed = (diagram.OUTPUT / f"{diagram.NAME}.dot").read_text()
    assert diagram.dot_source(shipped_synthesis.outdir) == committed, (
        "docs/diagram/dev.dot is out of date: run `make diagram` and commit docs/diagram/"
    )


def test_a_changed_app_draws_a_different_source(shipped_synthesis: Synthesis, tmp_path: Path) -> None:
    """Negative control: without the dev Data stack's Redis, the drawn source no longer matches."""
    tree = json.loads((shipped_synthesis.outdir / "tree.json").read_text())
    data = tree["tree"]["children"]["MoodlePipeline"]["children"]["Dev"]["children"]["Data"]
    del data["children"]["Cache"]
    (tmp_path / "tree.json").write_text(json.dumps(tree))
    changed = diagram.dot_source(tmp_path)
    assert "MoodlePipeline/Dev/Data/Cache" not in changed
    assert changed != (diagram.OUTPUT / f"{diagram.NAME}.dot").read_text()


def test_the_source_is_portable_and_names_no_machine_path() -> None:
    committed = (diagram.OUTPUT / f"{diagram.NAME}.dot").read_text()
    assert str(diagram.ROOT) not in committed
    assert 'image = "node_modules/cdk-dia/icons/' in committed


def test_only_the_dev_stage_is_drawn() -> None:
    tree = {"tree": {"id": "App", "path": "", "children": {"Sandbox": {"id": "Sandbox"}}}}
    with pytest.raises(diagram.DiagramError, match="no construct MoodlePipeline/Dev"):
        diagram.stage_tree(tree)
