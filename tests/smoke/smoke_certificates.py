"""A throwaway CA and a server certificate for 127.0.0.1, made once per test run with the openssl CLI.

The ``cryptography`` package is not installed here, and the smoke program must not need it; the
openssl command line is on every build image.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import ssl
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

SERVER_EXTENSIONS = """\
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""
KEY_OPTIONS = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")


@dataclass(frozen=True)
class TlsFiles:
    ca_certificate: Path
    server_certificate: Path
    server_key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.server_certificate, self.server_key)
        return context


def openssl(*args: str | Path) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)


@functools.cache
def certificates() -> TlsFiles:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl CLI is needed to make test certificates")
    folder = Path(tempfile.mkdtemp(prefix="smoke-tls-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    files = TlsFiles(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    openssl(
        "req", "-x509", *KEY_OPTIONS, "-keyout", folder / "ca.key", "-out", files.ca_certificate,
        "-days", "2", "-subj", "/CN=smoke test CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    openssl(
        "req", "-new", *KEY_OPTIONS, "-keyout", files.server_key, "-out", folder / "server.csr",
        "-subj", "/CN=127.0.0.1",
    )  # fmt: skip
    (folder / "server.ext").write_text(SERVER_EXTENSIONS)
    openssl(
        "x509", "-req", "-in", folder / "server.csr", "-out", files.server_certificate, "-days", "2",
        "-CA", files.ca_certificate, "-CAkey", folder / "ca.key", "-CAcreateserial",
        "-extfile", folder / "server.ext",
    )  # fmt: skip
    return files
