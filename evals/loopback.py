"""Processes on the loopback interface, for benchmarks and tests that start real servers
(`bpo-kb serve`, `chroma run`, llama.cpp): a free port, asking `serve` over Gradio's HTTP API,
a real Chroma server, and stopping a process politely, then firmly."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

__all__ = ["ChromaServer", "ask_http", "free_port", "stop_process"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ask_http(url: str, question: str, history_json: str = "", timeout: float = 60) -> Any:
    """One call of `serve`'s `ask` endpoint over Gradio's HTTP API (no gradio_client needed):
    POST the question, then read the result off the event stream."""
    base = url.rstrip("/")
    body = json.dumps({"data": [question, history_json]}).encode()
    req = urllib.request.Request(base + "/gradio_api/call/ask", data=body,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        event_id = json.loads(r.read())["event_id"]
    with urllib.request.urlopen(f"{base}/gradio_api/call/ask/{event_id}", timeout=timeout) as r:
        event = None
        for raw in r:
            line = raw.decode().strip()
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                data = json.loads(line.split(":", 1)[1])
                if event == "error":
                    raise RuntimeError(f"ask failed: {data}")
                return data[0]
    raise RuntimeError("ask: the event stream ended without a result")


def stop_process(proc: subprocess.Popen[Any], grace: float = 15) -> None:
    """SIGTERM, wait up to `grace` seconds, then SIGKILL and wait again."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(grace)


class ChromaServer:
    """A real `chroma run` on a free loopback port, its data in `path` (which survives a
    stop/start on the same port); the server's output goes to a log beside `path`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = path.parent / f"chroma-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> None:
        """Start the server and wait for its heartbeat."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [str(Path(sys.executable).parent / "chroma"), "run", "--path", str(self.path),
                 "--host", "127.0.0.1", "--port", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT,
                env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=2).close()
                return
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError(f"chroma run did not come up on {self.url} within "
                                       f"{timeout} s; see {self.log_path}") from None
                time.sleep(0.2)

    def rss_mb(self) -> float:
        """The server process's resident memory."""
        import psutil

        assert self.proc is not None, "the server is not running"
        return round(psutil.Process(self.proc.pid).memory_info().rss / 1e6, 1)

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, 20)
            self.proc = None
