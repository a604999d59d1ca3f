"""The tests' database: MySQL from Debian's packages in a container, on loopback, as RDS for MySQL serves.

Production runs RDS for MySQL 8.4 with the `mysqli` driver and a `caching_sha2_password` login; the image's
tests and the real-Moodle suite exercise exactly that path. Debian ships `mysql-server` only in its
unstable suite (sid: 9.7 at the end of 2026; bookworm and trixie have MariaDB only), so the server runs
in a container whose image is made the way the harness makes its base image (mmdebstrap, `podman
import`) and kept in podman's storage for later runs. It starts with the production parameter group's
settings (moodle_infra/database_parameters.py) plus test-only ones that trade durability for speed;
docs/IMAGE.md says how it differs from RDS's 8.4.

The container uses the host's network: the image's containers reach it on 127.0.0.1 like any host
service. The tests talk to it with the server's own `mysql` client, inside its container (`podman exec`),
so the host needs no database client.
"""

from __future__ import annotations

import contextlib
import hashlib
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

from moodle_infra.database_parameters import SERVER_PARAMETERS
from tests.image.container import Container, debian_image, free_port, podman_env

SUITE = "sid"
"""Debian's unstable suite: the only one with `mysql-server` (9.7.4 when this was written)."""
PACKAGES = ("mysql-server-core", "mysql-client-core")
"""mysqld and the mysql client, without the `mysql-server` package's service set-up (and its perl)."""
APT_OPTIONS = ('Acquire::Check-Valid-Until "false"',)
"""sid's Release file is valid for a week only, and a mirror snapshot of it outlives that; the archive
signature is still verified."""
RECIPE = hashlib.sha256(repr((SUITE, PACKAGES, APT_OPTIONS)).encode()).hexdigest()[:12]
IMAGE = f"localhost/moodle-test-mysql:{RECIPE}"
"""Tagged by its recipe: a changed recipe makes a new image, an unchanged one is reused across runs."""

DATA_DIR = "/var/lib/moodle-test-mysql"
SOCKET = f"{DATA_DIR}/mysqld.sock"
DB_USER = "moodle"
DB_PASSWORD = "moodle-test-password"
AUTH_PLUGIN = "caching_sha2_password"
"""What RDS for MySQL 8.4 gives a new user, and the only password plugin MySQL 9 has."""
RDS_MASTER_PRIVILEGES = (
    "SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, RELOAD, PROCESS, REFERENCES, INDEX, ALTER, "
    "SHOW DATABASES, CREATE TEMPORARY TABLES, LOCK TABLES, EXECUTE, REPLICATION SLAVE, REPLICATION CLIENT, "
    "CREATE VIEW, SHOW VIEW, CREATE ROUTINE, ALTER ROUTINE, CREATE USER, EVENT, TRIGGER, CREATE ROLE, "
    "DROP ROLE, APPLICATION_PASSWORD_ADMIN, ROLE_ADMIN, XA_RECOVER_ADMIN"
)
"""What RDS for MySQL (8.0.36 and later) grants its master user, the user the task definitions log in with
(RDS User Guide, "Master user account privileges"), less SET_USER_ID, which MySQL 8.2 removed. Neither
SUPER nor CONNECTION_ADMIN: as on RDS, Moodle's user may end its own sessions only."""
START_TIMEOUT = 120

# A throw-away server: no binary log (RDS keeps one for point-in-time recovery), no flush at each commit
# and no doublewrite buffer; MySQL's X protocol (port 33060) off, since every checkout on the machine
# shares the host's network; no file import or export (Debian's default directory for them is not there).
TEST_OPTIONS = (
    "--secure-file-priv=NULL",
    "--bind-address=127.0.0.1",
    "--mysqlx=OFF",
    "--skip-name-resolve",
    "--disable-log-bin",
    "--innodb-buffer-pool-size=256M",
    "--innodb-flush-log-at-trx-commit=0",
    "--innodb-doublewrite=OFF",
)

# Runs in the container: a new data directory (root without a password, reachable only through the socket
# inside the container), then the server itself with the options given as arguments. As root: the package
# that would create the `mysql` user (mysql-server) is left out, and nothing else runs in the container.
START_SCRIPT = f"""set -e
mkdir -p {DATA_DIR}
mysqld --no-defaults --initialize-insecure --user=root --datadir={DATA_DIR}/data
exec mysqld --no-defaults --user=root --datadir={DATA_DIR}/data --socket={SOCKET} "$@"
"""


def server_options(port: int) -> list[str]:
    """The production parameter group's settings, then the test-only ones."""
    production = [f"--{name}={value}" for name, value in SERVER_PARAMETERS.items()]
    return [*production, *TEST_OPTIONS, f"--port={port}"]


@dataclass(frozen=True)
class MySQL:
    """A running test server: Moodle's user `moodle` logs in on 127.0.0.1:`port`."""

    container: Container
    port: int

    def mysql(self, *options: str, as_moodle_user: bool = False) -> list[str]:
        """The server's mysql client, as run in its container: root over the socket, or Moodle's user over
        TCP (with `caching_sha2_password`, as Moodle logs in)."""
        if as_moodle_user:
            login = ["-h", "127.0.0.1", "-P", str(self.port), "-u", DB_USER, f"-p{DB_PASSWORD}"]
        else:
            login = [f"--socket={SOCKET}", "-uroot"]
        return ["mysql", "--no-defaults", *login, "-N", "-B", *options]

    def client(self, *options: str, as_moodle_user: bool = False) -> list[str]:
        """The same, run from the host (with `podman_env()`, as `sql` and `start_client` do)."""
        command = self.mysql(*options, as_moodle_user=as_moodle_user)
        return ["podman", "exec", "--interactive", self.container.name, *command]

    def sql(self, statement: str) -> str:
        """Runs statements as root; their tab-separated output."""
        result = subprocess.run(
            self.client("-e", statement),
            env=podman_env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if result.returncode != 0:
            raise AssertionError(f"MySQL refused {statement!r}: {result.stderr.strip()}")
        return result.stdout

    def start_client(self, *options: str, as_moodle_user: bool = False) -> subprocess.Popen[str]:
        """A client session in the background, reading statements from its stdin; killing it ends the
        session (the client inside the container sees its input close)."""
        return subprocess.Popen(
            self.client("--unbuffered", *options, as_moodle_user=as_moodle_user),
            env=podman_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )

    def hold_lock(self, name: str) -> subprocess.Popen[str]:
        """A session that holds GET_LOCK(name) until it is killed."""
        process = self.start_client()
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(f"SELECT GET_LOCK('{name}', 5);\n")
        process.stdin.flush()
        assert process.stdout.readline().strip() == "1"
        return process

    def answers(self) -> bool:
        return self.container.exec(*self.mysql("-e", "SELECT 1")).returncode == 0


def ensure_mysql_image() -> str:
    return debian_image(IMAGE, SUITE, packages=PACKAGES, apt_options=APT_OPTIONS)


@contextlib.contextmanager
def running_mysql() -> Iterator[MySQL]:
    """A new MySQL server on a free loopback port with Moodle's user, removed on exit."""
    port = free_port()
    container = Container(ensure_mysql_image()).start(
        "bash", "-c", START_SCRIPT, "start-mysql", *server_options(port), env={}
    )
    server = MySQL(container, port)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not server.answers():
            if not container.running() or time.monotonic() > deadline:
                raise AssertionError(f"MySQL did not start:\n{container.logs()[-4000:]}")
            time.sleep(0.2)
        server.sql(
            f"CREATE USER '{DB_USER}'@'127.0.0.1' IDENTIFIED WITH {AUTH_PLUGIN} BY '{DB_PASSWORD}';"
            f"GRANT {RDS_MASTER_PRIVILEGES} ON *.* TO '{DB_USER}'@'127.0.0.1' WITH GRANT OPTION;"
        )
        yield server
    finally:
        container.remove()
