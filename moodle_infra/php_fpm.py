"""php-fpm's worker pool sized from the task's CPU and memory, the same way for Fargate and the load test.

Without this every task size ran the entrypoint's default of 10 workers: too many for 0.5 vCPU (requests
queue inside php-fpm while the CPU is shared ten ways) and too few for 2 vCPU. Moodle's pages spend most of
their time on the CPU and the rest waiting for the database and Redis, so a few workers per vCPU keep the
CPU busy; memory bounds the count where the task is small (docs/CAPACITY.md has the measurements).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

WORKERS_PER_VCPU = 8
"""Workers per vCPU: enough to cover the time a page waits for MySQL and Redis (the capacity anchor ran
90 workers on 12 vCPU, 7.5 per vCPU)."""

WORKER_MIB = 80
"""Memory budgeted per worker: a quiz page's private memory, with headroom (docs/CAPACITY.md)."""

RESERVED_MIB = 288 + 160
"""Memory that is not the workers': OPcache's shared memory and interned strings (image/php/opcache.ini:
256 + 32 MiB), and 160 MiB for nginx, the php-fpm master, its health worker and the kernel's share."""

MIN_WORKERS = 2
"""Fewer leaves one slow request blocking the whole task."""


@dataclass(frozen=True, kw_only=True)
class PhpFpmPool:
    """The dynamic pool of image/php-fpm/moodle.conf, as the entrypoint's PHP_FPM_* variables."""

    max_children: int
    start_servers: int
    min_spare_servers: int
    max_spare_servers: int

    def environment(self) -> dict[str, str]:
        return {
            "PHP_FPM_MAX_CHILDREN": str(self.max_children),
            "PHP_FPM_START_SERVERS": str(self.start_servers),
            "PHP_FPM_MIN_SPARE_SERVERS": str(self.min_spare_servers),
            "PHP_FPM_MAX_SPARE_SERVERS": str(self.max_spare_servers),
        }


def workers_memory_allows(memory_mib: int) -> int:
    """Workers that fit in a task's memory beside OPcache and nginx."""
    return max(0, (memory_mib - RESERVED_MIB) // WORKER_MIB)


def pool_for(*, cpu: int, memory_mib: int) -> PhpFpmPool:
    """The pool of a task with ``cpu`` units (1024 per vCPU) and ``memory_mib``. Half the workers are
    started at once and kept as spares, so that a synchronized start of an exam does not wait for forks."""
    by_cpu = math.ceil(WORKERS_PER_VCPU * cpu / 1024)
    by_memory = workers_memory_allows(memory_mib)
    if by_memory < MIN_WORKERS:
        raise ValueError(
            f"{memory_mib} MiB leaves room for {by_memory} php-fpm workers; at least {MIN_WORKERS} are needed"
        )
    children = max(MIN_WORKERS, min(by_cpu, by_memory))
    spares = max(1, children // 2)
    return PhpFpmPool(
        max_children=children,
        start_servers=spares,
        min_spare_servers=spares,
        max_spare_servers=children,
    )
