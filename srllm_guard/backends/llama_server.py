"""A local ``python -m llama_cpp.server`` for the remote backend: try the remote path on one machine, and what
the remote tests and benchmarks start.

Example::

    with start_llama_server("model.gguf", adapter="adapter.gguf") as server:
        RemoteBackend(base_url=server.url).check("Some text.", threshold=0.5)
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from srllm_guard.errors import BackendError

__all__ = ["LocalLlamaServer", "start_llama_server", "free_port"]


def free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LocalLlamaServer:
    """A running server: ``url`` for ``RemoteBackend(base_url=...)``, ``proc`` the process."""

    proc: subprocess.Popen
    url: str
    log: IO[str]
    """Its output (a file, not a pipe: the server logs a lot and would block on a full pipe)."""

    def log_tail(self, chars: int = 3000) -> str:
        self.log.seek(0)
        return self.log.read()[-chars:]

    def stop(self) -> None:
        """Terminate it (kill after 10 s) and close its log; safe to call twice."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self.log.closed:
            self.log.close()

    def __enter__(self) -> LocalLlamaServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def start_llama_server(model: str | os.PathLike[str], *, adapter: str | os.PathLike[str] | None = None,
                       threads: int = 1, n_ctx: int = 2048, extra: tuple[str, ...] = (),
                       timeout_s: float = 120.0) -> LocalLlamaServer:
    """Start ``llama_cpp.server`` on a free loopback port and return once it answers ``/v1/models``.

    Raises :class:`BackendError` with the end of its log when it exits or does not answer within ``timeout_s``.
    """
    import httpx

    port = free_port()
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(Path(model)), "--host", "127.0.0.1",
           "--port", str(port), "--n_threads", str(threads), "--n_threads_batch", str(threads), "--n_ctx", str(n_ctx),
           *extra]
    if adapter is not None:
        cmd += ["--lora_path", str(adapter)]
    log = tempfile.TemporaryFile("w+")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"})
    server = LocalLlamaServer(proc=proc, url=f"http://127.0.0.1:{port}", log=log)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = server.log_tail()
            server.stop()
            raise BackendError(f"llama_cpp.server exited with {proc.returncode}:\n{tail}")
        try:
            if httpx.get(server.url + "/v1/models", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.stop()
    raise BackendError(f"llama_cpp.server did not start within {timeout_s:g} s")
