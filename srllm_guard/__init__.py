"""srllm-guard: detect biased LLM output and swap in benign rewrites (SR-LLM, arXiv 2404.01399).

``import srllm_guard`` stays light: torch and llama_cpp are imported only when a backend is built, and
``SRGuard``, ``GuardConfig`` and ``AuditRecord`` (with langchain_core and pydantic) load on first access.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from srllm_guard.errors import (
    BackendError,
    BackendTimeout,
    ConfigError,
    DataError,
    MissingDependencyError,
    ModelFileError,
    SRGuardError,
)

__version__ = "0.11.0"

if TYPE_CHECKING:
    from srllm_guard.audit import AuditRecord
    from srllm_guard.config import GuardConfig
    from srllm_guard.guard import SRGuard

_LAZY = {"SRGuard": "srllm_guard.guard", "GuardConfig": "srllm_guard.config", "AuditRecord": "srllm_guard.audit"}

__all__ = [
    "__version__",
    "SRGuard",
    "GuardConfig",
    "AuditRecord",
    "SRGuardError",
    "ConfigError",
    "ModelFileError",
    "MissingDependencyError",
    "DataError",
    "BackendError",
    "BackendTimeout",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'srllm_guard' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public names only (what ``from srllm_guard import *`` gives), plus the dunders."""
    return sorted(set(__all__) | {n for n in globals() if n.startswith("__")})
