"""php-fpm's pool sized from the web task's CPU and memory (issue 19): the task definition passes it."""

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match

from moodle_infra import image_contract
from moodle_infra.config import _FARGATE_MEMORY_MIB, ConfigError, load_config
from moodle_infra.php_fpm import PhpFpmPool, pool_for
from tests.conftest import TemplateOf

SHIPPED = json.loads((Path(__file__).resolve().parents[2] / "cdk.json").read_text())["context"]["moodle"]


@pytest.mark.parametrize(
    ("cpu", "memory_mib", "workers"),
    [(512, 1024, 4), (1024, 2048, 8), (2048, 4096, 16), (4096, 8192, 32), (256, 1024, 2), (2048, 4096, 16)],
)
def test_workers_follow_the_cpu(cpu: int, memory_mib: int, workers: int) -> None:
    assert pool_for(cpu=cpu, memory_mib=memory_mib).max_children == workers


def test_memory_bounds_the_workers_of_a_small_task() -> None:
    """4 vCPU with 8 GiB gets 32 workers; with the 512 MiB a quarter vCPU may have, php-fpm gets none."""
    assert pool_for(cpu=1024, memory_mib=2048).max_children == 8
    assert pool_for(cpu=4096, memory_mib=8192).max_children == 32
    with pytest.raises(ValueError, match="512 MiB leaves room for 0 php-fpm workers"):
        pool_for(cpu=256, memory_mib=512)


def test_every_fargate_size_gives_a_pool_php_fpm_accepts() -> None:
    """php-fpm refuses to start unless min_spare <= start <= max_spare <= max_children."""
    for cpu, memories in _FARGATE_MEMORY_MIB.items():
        for memory_mib in memories:
            if memory_mib < 1024:
                continue
            pool = pool_for(cpu=cpu, memory_mib=memory_mib)
            assert 1 <= pool.min_spare_servers <= pool.start_servers <= pool.max_spare_servers
            assert pool.max_spare_servers <= pool.max_children, (cpu, memory_mib, pool)


def test_the_pool_is_the_entrypoints_variables() -> None:
    assert PhpFpmPool(
        max_children=8, start_servers=4, min_spare_servers=4, max_spare_servers=8
    ).environment() == {
        "PHP_FPM_MAX_CHILDREN": "8",
        "PHP_FPM_START_SERVERS": "4",
        "PHP_FPM_MIN_SPARE_SERVERS": "4",
        "PHP_FPM_MAX_SPARE_SERVERS": "8",
    }
    entrypoint = (Path(__file__).resolve().parents[2] / "image" / "bin" / "entrypoint.sh").read_text()
    for name in pool_for(cpu=1024, memory_mib=2048).environment():
        assert f'export {name}="${{{name}:-' in entrypoint, f"the entrypoint reads {name}"


@pytest.mark.parametrize(("environment", "workers"), [("dev", "4"), ("prod", "8")])
def test_the_web_task_definition_sizes_php_fpm(template: TemplateOf, environment: str, workers: str) -> None:
    web = template(environment, "Application").find_resources(
        "AWS::ECS::TaskDefinition",
        {
            "Properties": {
                "ContainerDefinitions": [Match.object_like({"Command": [image_contract.COMMAND_WEB]})]
            }
        },
    )
    (task,) = web.values()
    variables = {e["Name"]: e["Value"] for e in task["Properties"]["ContainerDefinitions"][0]["Environment"]}
    assert variables["PHP_FPM_MAX_CHILDREN"] == workers


def test_only_the_web_task_sizes_php_fpm(template: TemplateOf) -> None:
    """Cron and install-or-upgrade run no php-fpm."""
    for task in template("prod", "Application").find_resources("AWS::ECS::TaskDefinition").values():
        container = task["Properties"]["ContainerDefinitions"][0]
        has_pool = any(e["Name"] == "PHP_FPM_MAX_CHILDREN" for e in container.get("Environment", []))
        assert has_pool == (container["Command"] == [image_contract.COMMAND_WEB])


def test_a_web_task_too_small_for_php_fpm_is_refused() -> None:
    raw: dict[str, Any] = copy.deepcopy(SHIPPED)
    raw["environments"]["dev"]["web"] |= {"cpu": 256, "memory_mib": 512}
    with pytest.raises(ConfigError) as raised:
        load_config(raw)
    assert raised.value.errors == [
        "moodle.environments.dev.web.memory_mib: must be at least 608 for a web task (OPcache, nginx and 2 "
        "php-fpm workers of 80 MiB), got 512"
    ]
