"""The url backend over TLS (valkeys://). The bundled servers have no TLS, so a TLS terminator
on 127.0.0.1 (a throwaway certificate) stands in front of a real embedded server."""

from __future__ import annotations

import contextlib
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from typer.testing import CliRunner

from valkey_workshop.cli.app import app
from valkey_workshop.content import Module
from valkey_workshop.server.base import ServerInfo
from valkey_workshop.server.url import UrlBackend


def _pump(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


@contextlib.contextmanager
def tls_in_front_of(server_url: str, folder: Path) -> Iterator[tuple[int, Path]]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    target = urlsplit(server_url)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def accept() -> None:
        while True:
            try:
                raw, _ = listener.accept()
                secure = context.wrap_socket(raw, server_side=True)
            except (OSError, ssl.SSLError):
                if listener.fileno() == -1:
                    return
                continue
            upstream = socket.create_connection((target.hostname, target.port))
            threading.Thread(target=_pump, args=(secure, upstream), daemon=True).start()
            threading.Thread(target=_pump, args=(upstream, secure), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield port, cert
    finally:
        listener.close()


def test_valkeys_url_works_for_the_backend_and_the_checks(
    server: ServerInfo, module3: Module, tmp_path: Path, hermetic: Path
) -> None:
    password = urlsplit(server.url).password
    assert password is not None
    with tls_in_front_of(server.url, tmp_path) as (port, cert):
        url = f"valkeys://:{password}@127.0.0.1:{port}/0?ssl_ca_certs={cert}"
        info = UrlBackend(url).start()
        assert info.description.endswith("over TLS")
        assert info.version == server.version
        exercise = hermetic / "module3" / "05_tracking.py"
        exercise.parent.mkdir(parents=True)
        shutil.copyfile(module3.step("tracking").solution, exercise)
        result = CliRunner().invoke(app, ["check", "module3", "tracking", "--url", url, "--json"])
        assert result.exit_code == 0, result.output
        assert "over TLS" in result.stderr
        assert password not in result.stderr


def test_a_plain_server_behind_valkeys_is_a_clear_error(server: ServerInfo) -> None:
    plain = urlsplit(server.url)
    result = CliRunner().invoke(
        app, ["check", "module3", "--url", f"valkeys://:{plain.password}@127.0.0.1:{plain.port}/0"]
    )
    assert result.exit_code == 2
    assert "Cannot reach Valkey at valkeys://:***@127.0.0.1" in result.stderr
    assert "Traceback" not in result.output
