"""Helpers of the failure tests (issue 22): forcing an error inside an image script without changing it, and
the image's files as they were before the fixes, for the negative controls.

A failure is forced with an ini file that disables one PHP function the script calls (PHP_INI_SCAN_DIR adds
it to the image's own): the call then throws "Call to undefined function", exactly what configure-cache's
call of clilib's cli_error() did. A "before the fix" file is the shipped file with the fix cut out, so the
control keeps matching the code it guards.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from pathlib import Path

from tests.image.container import free_port
from tests.image.image_testlib import IMAGE_DIR

BIN = IMAGE_DIR / "bin"

HELPER_DIR = "/usr/local/lib/moodle-image"
"""Where the Dockerfile puts image/bin."""
PHP_CLI_SCAN_DIR = "/etc/php/8.4/cli/conf.d"
FORCED_INI_DIR = "/run/forced-failure"

PLAN_LEAVES_THE_FLAG = "$step !== STEP_PLAN && "
"""The condition that keeps the plan step from clearing a stale upgrade flag (install-or-upgrade.php)."""
HANDLER_CALL = "moodle_image_report_errors();\n"
"""What each script calls to report its uncaught errors and fatals (image/bin/cli-errors.php)."""


def documented_exit_codes() -> dict[int, str]:
    """docs/IMAGE.md's exit-code table: code -> meaning."""
    text = (IMAGE_DIR.parent / "docs" / "IMAGE.md").read_text()
    table = text[text.index("| exit code | meaning |") :]
    rows = re.findall(r"^\| (\d+) \| (.+) \|$", table.split("\n\n")[0], re.MULTILINE)
    return {int(code): meaning for code, meaning in rows}


def disabled_function_env(root: Path, function: str) -> tuple[dict[str, str], tuple[Path, str, str]]:
    """The variable and the mount that make PHP's CLI run without `function`."""
    directory = root / f"without-{function}"
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o755)
    ini = directory / "99-forced-failure.ini"
    ini.write_text(f"disable_functions = {function}\n")
    ini.chmod(0o644)
    return {"PHP_INI_SCAN_DIR": f"{PHP_CLI_SCAN_DIR}:{FORCED_INI_DIR}"}, (directory, FORCED_INI_DIR, "ro")


def before_the_fix(text: str, fix: str, *, replacement: str = "") -> str:
    """`text` with the fix cut out: the shipped file as it behaved before it (the fix must be in it)."""
    assert fix in text, f"the fix is no longer in the file: {fix!r}"
    return text.replace(fix, replacement)


def config_php_before_the_fix() -> str:
    """config.php without the outage handling around Moodle's bootstrap (image/bin/outage.php)."""
    shipped = (IMAGE_DIR / "moodle" / "config.php").read_text()
    fix = shipped[shipped.index("require_once('/usr/local/lib/moodle-image/outage.php');") :]
    return before_the_fix(shipped, fix, replacement="require_once(__DIR__ . '/lib/setup.php');\n")


def write_world_readable(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o755)
    path.write_text(text)
    path.chmod(0o644)
    return path


def error_lines(stderr: str, script: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(f"{script}: ERROR: ")]


def php_exit_codes(source: str) -> set[int]:
    """Codes a PHP file names: its EXIT_ constants and literal exit(N)."""
    constants = re.findall(r"^const EXIT_\w+ = (\d+);", source, re.MULTILINE)
    literals = re.findall(r"\bexit\((\d+)\)", source)
    return {int(code) for code in [*constants, *literals]}


def exit_codes_with_includes(script: Path) -> set[int]:
    """The codes of a script of image/bin and of the image's files it requires (__DIR__-relative)."""
    names = re.findall(r"require(?:_once)?\(__DIR__ \. '/([\w-]+\.php)'\)", script.read_text())
    codes: set[int] = set()
    for path in [script, *(BIN / name for name in names)]:
        codes |= php_exit_codes(path.read_text())
    return codes


class TcpProxy:
    """A loopback port that forwards to another: the database as the containers see it. stop() refuses new
    connections and cuts the open ones, as a stopped database server does; start() serves again."""

    def __init__(self, target_port: int) -> None:
        self.port = free_port()
        self.target_port = target_port
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> TcpProxy:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._listener is not None:
            # shutdown() ends the accept() its thread waits in; close() alone would leave the port listening.
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            for connection in self._open:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
                connection.close()
            self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=10)
            except OSError:
                return
            upstream.settimeout(None)
            with self._lock:
                self._open |= {client, upstream}
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                target.shutdown(socket.SHUT_WR)
