"""Real-Moodle throughput with Redis over verified TLS against plain Redis: ``make bench-moodle``.

Opt-in: MOODLE_SRC names a Moodle tree (docs/IMAGE.md, "Testing against real Moodle"). The image is built
from it by the container harness (tests/image/container.py), installed once against the tests' MySQL and one
Redis server (AUTH; TLS and plain ports, the same data) on loopback, and then measured in alternating pairs
(A = TLS, certificate and name verified against a CA file shaped like the image's, B = plain TCP): wrk on

- /login/index.php (anonymous: a new session per request),
- /my/ with 10 logged-in sessions (one per connection),
- 10 parallel read-only AJAX calls on one session,

with Redis connections and commands per request from Redis's own counters. Prints the medians and the
ratio TLS/plain. Needs podman, mmdebstrap, runc, wrk, redis-server and openssl (Debian packages).
Bounded: about 4 minutes on 2 cores with podman's layer cache warm.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.cookiejar
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from moodle_infra import image_contract
from tests.image.container import (
    IMAGE_DIR,
    Container,
    Mount,
    build_image,
    checkout_tag,
    free_port,
    image_exists,
    loopback_file_server,
    pack_release,
    run_container,
    start_web,
    web_url,
)
from tests.image.image_testlib import make_runtime_dir, moodle_env, wait_until
from tests.image.mysql_server import MySQL, running_mysql
from tests.image.real_moodle import release_of

PAIRS = 3
SECONDS = 6
CONNECTIONS = 10
DEADLINE_SECONDS = 300
ADMIN_PASSWORD = "Bench-Password-1!"
REDIS_PASSWORD = "bench-redis-auth"
CA_IN_CONTAINER = "/run/redis-ca.pem"
AMAZON_ROOTS = Path("/usr/share/ca-certificates/mozilla")
# A read-only web service (readonlysession in lib/db/services.php): the navigation bar polls it.
AJAX_BODY = '[{"index":0,"methodname":"core_message_get_unread_conversations_count","args":{"useridto":2}}]'

WRK_SESSIONS_SCRIPT = """
local cookies = {%s}
local next_thread = 1
function setup(thread)
  thread:set("cookie", cookies[next_thread])
  next_thread = next_thread + 1
end
function init(args)
  wrk.headers["Cookie"] = "MoodleSession=" .. cookie
end
"""


@dataclass(frozen=True)
class Services:
    database: MySQL
    redis_tls_port: int
    redis_plain_port: int
    ca_file: Path

    def redis(self, *args: str) -> str:
        command = ["redis-cli", "-h", "127.0.0.1", "-p", str(self.redis_plain_port), "--no-auth-warning"]
        return subprocess.run(
            [*command, "-a", REDIS_PASSWORD, *args], capture_output=True, text=True, check=True
        ).stdout

    def redis_answers(self) -> bool:
        """PING answered; False (not an error) while the server is still starting."""
        try:
            return self.redis("PING").strip() == "PONG"
        except subprocess.CalledProcessError:
            return False

    def redis_counters(self) -> tuple[int, int]:
        """Connections and commands so far (INFO's own commands excluded by the caller's difference)."""
        stats = dict(line.split(":", 1) for line in self.redis("INFO", "stats").splitlines() if ":" in line)
        return int(stats["total_connections_received"]), int(stats["total_commands_processed"])


def run(*command: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, input=stdin, capture_output=True, text=True, check=True)


@contextlib.contextmanager
def services(root: Path) -> Iterator[Services]:
    """MySQL (the tests' server, tests/image/mysql_server.py), and one Redis server with AUTH on a TLS and a
    plain port, on loopback."""
    # A test CA signs the server's certificate (for "localhost"). The CA file the site verifies with holds
    # the image's five Amazon and Starfield roots too, so a TLS connect costs what it costs on AWS.
    ca_key, ca_cert, key, request, cert = (root / n for n in ("ca.key", "ca.crt", "r.key", "r.csr", "r.crt"))
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Bench CA",
        "-keyout", str(ca_key), "-out", str(ca_cert))  # fmt: skip
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
        "-keyout", str(key), "-out", str(request))  # fmt: skip
    run("openssl", "x509", "-req", "-in", str(request), "-CA", str(ca_cert), "-CAkey", str(ca_key),
        "-CAcreateserial", "-days", "2", "-extfile", "/dev/stdin", "-out", str(cert),
        stdin="subjectAltName=DNS:localhost\n")  # fmt: skip
    ca_file = root / "ca-file.pem"
    roots = [AMAZON_ROOTS / f"Amazon_Root_CA_{n}.crt" for n in range(1, 5)]
    ca_file.write_text("".join(path.read_text() for path in [*roots, ca_cert]))
    for path in (ca_file, cert):
        path.chmod(0o644)
    with running_mysql() as mysql:
        mysql.sql("CREATE DATABASE bench CHARACTER SET utf8mb4")
        tls_port, plain_port = free_port(), free_port()
        redis = subprocess.Popen(
            ["redis-server", "--port", str(plain_port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
             "no", "--dir", str(root), "--requirepass", REDIS_PASSWORD, "--tls-port", str(tls_port),
             "--tls-cert-file", str(cert), "--tls-key-file", str(key), "--tls-auth-clients", "no",
             "--maxclients", "1000"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            found = Services(mysql, tls_port, plain_port, ca_file)
            wait_until(found.redis_answers, 20, "Redis")
            yield found
        finally:
            redis.terminate()
            redis.wait(timeout=60)


def site_env(found: Services, *, tls: bool) -> dict[str, str]:
    return moodle_env(
        MOODLE_DB_PORT=str(found.database.port),
        MOODLE_DB_NAME="bench",
        MOODLE_ADMIN_PASSWORD=ADMIN_PASSWORD,
        MOODLE_REDIS_HOST="localhost",
        MOODLE_REDIS_PORT=str(found.redis_tls_port if tls else found.redis_plain_port),
        MOODLE_REDIS_TLS="true" if tls else "false",
        MOODLE_REDIS_AUTH=REDIS_PASSWORD,
        MOODLE_REDIS_CAFILE=CA_IN_CONTAINER,
    )


def log_in() -> tuple[str, str]:
    """A logged-in admin session: its cookie and sesskey."""
    cookies = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cookies))
    page = opener.open(web_url("/login/index.php"), timeout=60).read().decode()
    token = re.search(r'name="logintoken" value="(\w+)"', page)
    assert token, "the login page has a logintoken"
    form = {"username": "admin", "password": ADMIN_PASSWORD, "logintoken": token[1]}
    opener.open(web_url("/login/index.php"), data=urllib.parse.urlencode(form).encode(), timeout=60).read()
    dashboard = opener.open(web_url("/my/"), timeout=60).read().decode()
    sesskey = re.search(r'"sesskey":"(\w+)"', dashboard)
    assert sesskey, "logged in: the dashboard carries a sesskey"
    cookie = next(c.value for c in cookies if c.name == "MoodleSession" and c.value)
    return cookie, sesskey[1]


@dataclass(frozen=True)
class Load:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    redis_connections_per_request: float
    redis_commands_per_request: float


def milliseconds(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    assert match, f"not a wrk latency: {value}"
    return float(match[1]) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[match[2]]


def percentile(output: str, which: int) -> float:
    """A latency percentile of wrk --latency, in ms."""
    match = re.search(rf"^\s*{which}%\s+(\S+)\s*$", output, re.MULTILINE)
    assert match, f"wrk printed no {which}th percentile:\n{output}"
    return milliseconds(match[1])


def wrk(found: Services, url: str, *options: str, threads: int = 2) -> Load:
    before = found.redis_counters()
    output = run("wrk", "--latency", f"-t{threads}", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--timeout", "10s",
                 *options, url).stdout  # fmt: skip
    after = found.redis_counters()
    requests = int(re.search(r"(\d+) requests in", output)[1])  # type: ignore[index]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return Load(
        requests_per_second=float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1]),  # type: ignore[index]
        p50_ms=percentile(output, 50),
        p99_ms=percentile(output, 99),
        errors=(int(errors[1]) if errors else 0)
        + (sum(map(int, socket_errors.groups())) if socket_errors else 0),
        # INFO itself is one connection and one command of the counters.
        redis_connections_per_request=(after[0] - before[0] - 1) / max(requests, 1),
        redis_commands_per_request=(after[1] - before[1] - 1) / max(requests, 1),
    )


def warm_up(cookie: str) -> None:
    """A new task's first requests fill OPcache and its local caches (measured apart: README); a few
    requests one at a time, then the workers' share, so that every page is measured warm."""
    for path in ("/login/index.php", "/my/", "/login/index.php", "/my/"):
        run("curl", "-fsS", "-o", "/dev/null", "--cookie", f"MoodleSession={cookie}", web_url(path))
    run("wrk", "-t2", "-c10", "-d3s", web_url("/login/index.php"))


def measure(found: Services, root: Path, sessions: list[tuple[str, str]]) -> dict[str, Load]:
    script = root / "sessions.lua"
    script.write_text(WRK_SESSIONS_SCRIPT % ", ".join(f'"{cookie}"' for cookie, _ in sessions))
    ajax = root / "ajax.lua"
    ajax.write_text(
        f'wrk.method = "POST"\nwrk.body = {json.dumps(AJAX_BODY)}\n'
        f'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Cookie"] = "MoodleSession={sessions[0][0]}"\n'
    )
    ajax_url = web_url(f"/lib/ajax/service.php?sesskey={sessions[0][1]}&info=unread_count")
    return {
        "login": wrk(found, web_url("/login/index.php")),
        "my": wrk(found, web_url("/my/"), "-s", str(script), threads=CONNECTIONS),
        "ajax": wrk(found, ajax_url, "-s", str(ajax)),
    }


def configure(image: str, found: Services, dataroot: Path, *, tls: bool) -> list[Mount]:
    """install-or-upgrade with the variant's Redis settings: it rewrites the MUC store's connection."""
    mounts: list[Mount] = [
        (dataroot, image_contract.SHARED_DATA_PATH),
        (found.ca_file, CA_IN_CONTAINER, "ro"),
    ]
    result = run_container(image, image_contract.COMMAND_INSTALL_OR_UPGRADE, env=site_env(found, tls=tls),
                           mounts=mounts, timeout=600)  # fmt: skip
    if result.returncode != 0:
        raise SystemExit(f"install-or-upgrade failed:\n{result.stderr[-3000:]}")
    return mounts


def build(tree: Path, root: Path) -> str:
    """The image of this tree and of image/ as they are now; built only when no such image exists yet."""
    release = release_of(tree)
    archive = pack_release(tree, root / f"moodle-{release}.tgz", version=release)
    digest = hashlib.sha256(archive.sha256.encode())
    for path in sorted(IMAGE_DIR.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(IMAGE_DIR)).encode() + b"\0" + path.read_bytes())
    tag = checkout_tag(f"bench-{release}-{digest.hexdigest()[:12]}")
    if not image_exists(tag):
        with loopback_file_server(root) as url:
            built = build_image(tag=tag, release_url=f"{url}/{archive.path.name}", release=archive)
        if built.result.returncode != 0:
            raise SystemExit(f"building the image failed:\n{built.output[-4000:]}")
    archive.path.unlink()
    return tag


def start(image: str, env: dict[str, str], mounts: list[Mount]) -> Container:
    """`web`, waiting while another checkout's container still holds the port."""
    deadline = time.monotonic() + 300
    while True:
        try:
            return start_web(image, env=env, mounts=mounts)
        except AssertionError as error:
            if "is taken" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(2)


def median_load(loads: list[Load]) -> Load:
    return Load(
        *(statistics.median(getattr(load, name) for load in loads) for name in Load.__dataclass_fields__)
    )


def report(results: dict[str, dict[str, list[Load]]]) -> str:
    lines = [
        f"Medians of {PAIRS} alternating pairs, wrk {CONNECTIONS} connections x {SECONDS} s each:",
        f"{'page':<8}{'variant':<8}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
        f"{'conn/req':>10}{'cmd/req':>9}",
    ]
    medians = {
        variant: {page: median_load(loads) for page, loads in pages.items()}
        for variant, pages in results.items()
    }
    for page in ("login", "my", "ajax"):
        for variant in ("tls", "plain"):
            load = medians[variant][page]
            lines.append(
                f"{page:<8}{variant:<8}{load.requests_per_second:>8.1f}{load.p50_ms:>9.0f}{load.p99_ms:>9.0f}"
                f"{load.errors:>8.0f}{load.redis_connections_per_request:>10.2f}"
                f"{load.redis_commands_per_request:>9.1f}"
            )
        ratio = medians["tls"][page].requests_per_second / medians["plain"][page].requests_per_second
        lines.append(f"{page:<8}TLS/plain throughput: {ratio:.0%}")
    return "\n".join(lines)


def moodle_tree(bench: str, tools: tuple[str, ...]) -> Path:
    """MOODLE_SRC's Moodle tree; a bench without it or without its Debian packages exits 2 naming them."""
    source = os.environ.get("MOODLE_SRC")
    if not source:
        print("set MOODLE_SRC to a Moodle tree (docs/IMAGE.md: Testing against real Moodle)", file=sys.stderr)
        raise SystemExit(2)
    missing = [tool for tool in tools if not shutil.which(tool)]
    if missing:
        print(f"{bench} needs {', '.join(missing)} (Debian packages)", file=sys.stderr)
        raise SystemExit(2)
    return Path(source).resolve()


@contextlib.contextmanager
def bench_site(source: Path, prefix: str) -> Iterator[tuple[str, Services, Path]]:
    """The image built from ``source``, the services it runs against and a work directory (removed
    afterwards): what every real-Moodle bench starts from."""
    started = time.monotonic()
    root = Path(tempfile.mkdtemp(prefix=prefix))
    root.chmod(0o755)
    try:
        image = build(source, root)
        print(f"image {image} ready after {time.monotonic() - started:.0f} s", flush=True)
        with services(root) as found:
            yield image, found, root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> int:
    source = moodle_tree("bench-moodle", ("podman", "mmdebstrap", "wrk", "redis-server", "openssl"))
    started = time.monotonic()
    with bench_site(source, "moodle-bench-") as (image, found, root):
        dataroot = make_runtime_dir(root / "moodledata")
        results: dict[str, dict[str, list[Load]]] = {"tls": {}, "plain": {}}
        sessions: list[tuple[str, str]] = []
        for pair in range(PAIRS):
            # ABBA: a slow drift of the shared machine does not favour one variant.
            for variant in ("tls", "plain") if pair % 2 == 0 else ("plain", "tls"):
                mounts = configure(image, found, dataroot, tls=variant == "tls")
                web = start(image, site_env(found, tls=variant == "tls"), mounts)
                try:
                    if not sessions:
                        sessions = [log_in() for _ in range(CONNECTIONS)]
                    warm_up(sessions[0][0])
                    for page, load in measure(found, root, sessions).items():
                        results[variant].setdefault(page, []).append(load)
                        print(f"  {variant} {page}: {load}", flush=True)
                finally:
                    web.remove()
            print(f"pair {pair + 1} done at {time.monotonic() - started:.0f} s", flush=True)
            if time.monotonic() - started > DEADLINE_SECONDS:
                print("time budget reached: fewer pairs", flush=True)
                break
    print(report(results))
    print(f"total {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
