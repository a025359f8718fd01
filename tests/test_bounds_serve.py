"""Issue 17, item 7: `scraper site serve` serves regular files inside the folder, nothing else."""

from __future__ import annotations

import http.client
import os
import re
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest


@pytest.fixture
def served(tmp_path: Path):
    """`scraper site serve --port 0` on a small site, as its own process: (port, the site,
    the process)."""
    site = tmp_path / "site"
    (site / "models").mkdir(parents=True)
    (site / "index.html").write_text("<html>home</html>", encoding="utf-8")
    (site / "models" / "index.html").write_text("<html>models</html>", encoding="utf-8")
    (site / "big.json").write_bytes(b"[" + b"0," * 4_000_000 + b"0]")
    outside = tmp_path / "private"
    outside.mkdir()
    (outside / "passwd").write_text("root:x:0:0\n", encoding="utf-8")
    (site / "etclink").symlink_to(outside, target_is_directory=True)
    (site / "page.html").symlink_to(outside / "passwd")
    os.mkfifo(site / "fifo.html")
    command = [sys.executable, "-u", "-m", "scraper.cli", "site", "serve", "--out", str(site)]
    process = subprocess.Popen(
        [*command, "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    line = process.stdout.readline()
    port = int(re.search(r"127\.0\.0\.1:(\d+)/", line)[1])
    yield port, site, process
    process.terminate()
    process.wait(10)


def get(port: int, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.putrequest("GET", path, skip_accept_encoding=True)
    connection.endheaders()
    answer = connection.getresponse()
    body = answer.read()
    connection.close()
    return answer.status, body


def test_serve_answers_files_only_and_survives_hostile_requests(served) -> None:
    port, site, process = served
    assert get(port, "/") == (200, b"<html>home</html>")
    assert get(port, "/models/") == (200, b"<html>models</html>")
    assert get(port, "/models")[0] == 301
    for outside in ("/etclink/passwd", "/page.html", "/etclink/", "/fifo.html", "/%2e%2e/"):
        status, body = get(port, outside)
        assert status == 404 and b"root:" not in body, outside
    for malformed in ("/%00", "/a%00.html", "/%ff%fe", "/..%5c..%5cetc", "*"):
        assert get(port, malformed)[0] == 400, malformed
    for _ in range(3):  # a client that asks for a large file and hangs up at once
        with socket.create_connection(("127.0.0.1", port)) as hangup:
            hangup.sendall(b"GET /big.json HTTP/1.1\r\nHost: x\r\n\r\n")
            hangup.recv(100)
            hangup.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    time.sleep(0.5)
    assert get(port, "/")[0] == 200  # still serving
    process.terminate()
    _, errors = process.communicate(timeout=10)
    assert "Traceback" not in errors and "Error" not in errors, errors
