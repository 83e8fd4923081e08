"""A real HTTP server on 127.0.0.1 for download tests: serves a folder, counts requests, can cut
a response short (fewer bytes than its Content-Length, then the connection closes).

Test modules import the fixtures from here (``from ff_local_http import server_fixture``); a
``conftest.py`` per folder would clash with the other folders' under ``--doctest-modules``.
"""

from __future__ import annotations

import http.server
import os
import socket
import threading
from pathlib import Path

import pytest


class LocalServer:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.requests: list[str] = []
        self.truncate: dict[str, int] = {}  # file name -> bytes actually sent
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                name = self.path.lstrip("/").split("?", 1)[0]
                server.requests.append(name)
                path = server.root / name
                if not path.is_file():
                    self.send_error(404, "Not Found")
                    return
                data = path.read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if name in server.truncate:
                    self.wfile.write(data[: server.truncate[name]])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def add(self, name: str, data: bytes) -> Path:
        path = self.root / name
        path.write_bytes(data)
        return path

    def count(self, name: str) -> int:
        return self.requests.count(name)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


def closed_port_url() -> str:
    """A base URL on 127.0.0.1 where nothing listens (connection refused, like no network)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def files_under(folder) -> list[str]:
    """Every file below ``folder``, relative, sorted."""
    out = []
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            out.append(os.path.relpath(os.path.join(dirpath, name), folder))
    return sorted(out)


@pytest.fixture(name="server")
def server_fixture(tmp_path):
    root = tmp_path / "served"
    root.mkdir()
    local = LocalServer(root)
    yield local
    local.close()


@pytest.fixture(name="keras_home")
def keras_home_fixture(tmp_path, monkeypatch):
    """An empty Keras cache root (``$KERAS_HOME``), no dataset mirror."""
    home = tmp_path / "keras_home"
    monkeypatch.setenv("KERAS_HOME", str(home))
    monkeypatch.delenv("FEATHERFLOW_DATASETS_ORIGIN", raising=False)
    return home


@pytest.fixture(name="mirror")
def mirror_fixture(server, keras_home, monkeypatch):
    """The dataset loaders pointed at the local server, with an empty Keras cache."""
    monkeypatch.setenv("FEATHERFLOW_DATASETS_ORIGIN", server.url)
    server.home = keras_home
    server.cache = keras_home / "datasets"
    return server
