"""``python -m tools.diagram [cdk.out] [docs/diagram]``: the architecture diagram of one environment,
drawn by cdk-dia from the synthesized app, for the README.

cdk-dia (npm, pinned in package-lock.json) reads ``tree.json`` and writes a Graphviz ``.dot`` file;
``tools/diagram_source.js`` calls its public API for that step only (the CLI always renders a PNG too,
which needs Graphviz and crashed Debian's Graphviz 2.42 on a slightly different tree). Graphviz's
``dot`` (Debian package ``graphviz``) then draws the picture. Around that:

- Only the dev stage's subtree of ``tree.json`` is handed over: one environment is what a reader
  needs (the others are the same shape), and cdk-dia 0.12.3 stops with "Unable to calculate a unique
  id for an empty set of components" on the whole app.
- The ``.dot`` names each icon by its absolute path inside ``node_modules``; those paths are made
  relative to the repository, so the committed source is the same on every machine and
  ``tests/compliance/test_diagram.py`` can compare it with what the current code produces.
- The picture is rendered from that committed source with Graphviz's ``unflatten`` and left-to-right
  ranks at :data:`DPI`: cdk-dia draws every resource of a stage in one row (it finds no edges in
  this app), which at its own 200 dpi is a 30000-pixel-wide, 3 MB strip nobody can read in a README.
"""

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CDK_DIA = ROOT / "node_modules" / "cdk-dia"
SOURCE_SCRIPT = ROOT / "tools" / "diagram_source.js"
ICONS = CDK_DIA / "icons"
OUTPUT = ROOT / "docs" / "diagram"
STAGE_PATH = ("MoodlePipeline", "Dev")
"""The environment drawn: the pipeline's dev stage."""
NAME = "dev"
DPI = 40
CHAIN = 3
"""``unflatten -c``: unconnected resources are stacked in chains of this many, which wraps the row."""


class DiagramError(Exception):
    """The diagram could not be drawn; the message says what is missing."""


def stage_tree(tree: dict[str, Any], path: tuple[str, ...] = STAGE_PATH) -> dict[str, Any]:
    """``tree.json`` with only the construct at ``path`` (and everything below it) under the root."""
    node = tree["tree"]
    for construct_id in path:
        children = node.get("children") or {}
        if construct_id not in children:
            raise DiagramError(f"tree.json has no construct {'/'.join(path)}")
        node = children[construct_id]
    return {**tree, "tree": {**tree["tree"], "children": {node["id"]: node}}}


def portable(dot: str) -> str:
    """Icon paths relative to the repository instead of this machine's node_modules."""
    return dot.replace(f'"{ICONS}/', f'"{ICONS.relative_to(ROOT).as_posix()}/')


def dot_source(assembly: Path) -> str:
    """cdk-dia's Graphviz source for the dev stage of the assembly, with portable icon paths. Needs
    Node.js and cdk-dia, not Graphviz."""
    if not CDK_DIA.is_dir():
        raise DiagramError(f"cdk-dia is not installed in {CDK_DIA}: run `make install`")
    tree = json.loads((assembly / "tree.json").read_text())
    with tempfile.TemporaryDirectory(prefix="diagram-") as scratch:
        tree_file, dot_file = Path(scratch) / "tree.json", Path(scratch) / f"{NAME}.dot"
        tree_file.write_text(json.dumps(stage_tree(tree)))
        drawn = subprocess.run(
            ["node", str(SOURCE_SCRIPT), str(tree_file), str(dot_file)],
            capture_output=True,
            text=True,
            check=False,
        )
        if drawn.returncode != 0 or not dot_file.exists():
            raise DiagramError(f"cdk-dia failed (exit {drawn.returncode}): {drawn.stderr.strip()[-2000:]}")
        return portable(dot_file.read_text())


def render(dot_file: Path, png_file: Path) -> None:
    """The picture, drawn from the committed source (icons resolve from the repository root)."""
    if shutil.which("dot") is None or shutil.which("unflatten") is None:
        raise DiagramError("Graphviz is not installed: install the Debian package graphviz")
    wrapped = subprocess.run(
        ["unflatten", "-c", str(CHAIN), str(dot_file)], check=True, capture_output=True, text=True
    )
    subprocess.run(
        ["dot", "-Tpng", f"-Gdpi={DPI}", "-Grankdir=LR", "-o", str(png_file)],
        input=wrapped.stdout,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )


def main(argv: list[str]) -> int:
    assembly = Path(argv[0]) if argv else ROOT / "cdk.out"
    output = Path(argv[1]) if len(argv) > 1 else OUTPUT
    try:
        source = dot_source(assembly)
    except DiagramError as error:
        print(f"diagram: {error}", file=sys.stderr)
        return 1
    output.mkdir(parents=True, exist_ok=True)
    dot_file, png_file = output / f"{NAME}.dot", output / f"{NAME}.png"
    dot_file.write_text(source)
    try:
        render(dot_file, png_file)
    except DiagramError as error:
        print(f"diagram: {dot_file} written; no picture: {error}", file=sys.stderr)
        return 1
    print(f"diagram: {dot_file} and {png_file} ({png_file.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
