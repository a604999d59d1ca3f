"""Print what a synthesis produced: every stack of the cloud assembly with its account, region and
resource count, nested stage assemblies included, and how long the configured Moodle release still gets
security fixes (Moodle's release calendar, moodle_infra/release_calendar.py)."""

import json
import sys
from collections.abc import Iterator
from pathlib import Path

from moodle_infra.release_calendar import configured_version, support

CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"


def stacks(assembly: Path) -> Iterator[tuple[str, str, int]]:
    manifest = json.loads((assembly / "manifest.json").read_text())
    for artifact_id, artifact in sorted(manifest.get("artifacts", {}).items()):
        if artifact["type"] == "aws:cloudformation:stack":
            template = json.loads((assembly / artifact["properties"]["templateFile"]).read_text())
            environment = artifact["environment"].removeprefix("aws://")
            yield artifact.get("displayName", artifact_id), environment, len(template.get("Resources", {}))
        elif artifact["type"] == "cdk:cloud-assembly":
            yield from stacks(assembly / artifact["properties"]["directoryName"])


def main(argv: list[str]) -> int:
    assembly = Path(argv[1] if len(argv) > 1 else "cdk.out")
    rows = list(stacks(assembly))
    width = max(len(name) for name, _, _ in rows)
    print(f"Synthesized {len(rows)} stacks, {sum(count for _, _, count in rows)} resources into {assembly}/:")
    for name, environment, count in rows:
        print(f"  {name:<{width}}  {environment:<26} {count:>4} resources")
    print(support(configured_version(CDK_JSON)).describe())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
