"""Weight files for the llama.cpp backend: GGUF checks, the cache key of a file, its SHA-256, the adapter lookup."""

from __future__ import annotations

import os
from pathlib import Path

from srllm_guard import models
from srllm_guard.errors import ModelFileError

__all__ = ["check_gguf_file", "stamp", "file_sha256", "resolve_adapter"]

_GGUF_MAGIC = b"GGUF"
_HASHES: dict[tuple[str, int, int], str] = {}


def check_gguf_file(path: Path, what: str) -> None:
    """Raise :class:`ModelFileError` naming ``path`` unless it is a GGUF file."""
    if not path.is_file():
        raise ModelFileError(f"{what} not found: {path}")
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic != _GGUF_MAGIC:
        raise ModelFileError(f"{what} {path} is not a GGUF file (starts with {magic!r}, expected b'GGUF')")


def stamp(path: Path | None) -> tuple[str, int, int] | None:
    """Cache key of a file: a file replaced on disk (a retrained adapter) is loaded afresh."""
    if path is None:
        return None
    st = path.stat()
    return (str(path), st.st_size, st.st_mtime_ns)


def file_sha256(path: Path) -> str:
    """SHA-256 of a weights file, computed once per (path, size, mtime); the embedded base uses its stamp."""
    key = stamp(path)
    assert key is not None
    if key not in _HASHES:
        if models._hash_is_recorded(path, models.BASE_GGUF_SHA256):
            _HASHES[key] = models.BASE_GGUF_SHA256
        else:
            _HASHES[key] = models.known_sha256(path) or models.sha256_file(path)
    return _HASHES[key]


def resolve_adapter(adapter_path: str | os.PathLike[str] | None) -> Path | None:
    """The adapter GGUF for ``adapter_path``: ``'default'`` (the shipped one), a file or its folder, or ``None``."""
    if adapter_path is None:
        return None
    if adapter_path == "default":
        try:
            return models.adapter_path().resolve()
        except ModelFileError as exc:
            raise ModelFileError(
                f"the shipped SR-LLM adapter is not available ({exc}). Pass "
                "LlamaCppBackend(adapter_path='path/to/adapter.gguf'), or adapter_path=None to run the bare "
                "base model (which cannot debias)."
            ) from exc
    path = Path(adapter_path).expanduser()
    if path.is_dir():
        path = path / "adapter.gguf"
    return path.resolve()
