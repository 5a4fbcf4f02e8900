"""Exceptions raised by srllm-guard.

The tree, in one place::

    SRGuardError                  base of everything this package raises on purpose
    ├── ConfigError               a setting or argument is wrong (message names it and the fix)
    ├── ModelFileError            a model/adapter file is missing, corrupt or does not fit the base
    ├── MissingDependencyError    an optional extra is not installed (message has the pip line)
    ├── DataError                 a data file is missing, malformed or yields an empty split
    └── BackendError              the model backend failed at run time
        └── BackendTimeout        ... or did not answer within the configured time
"""

from __future__ import annotations

__all__ = [
    "SRGuardError",
    "ConfigError",
    "ModelFileError",
    "MissingDependencyError",
    "DataError",
    "BackendError",
    "BackendTimeout",
    "require",
]


class SRGuardError(Exception):
    """Base class for errors raised by srllm-guard."""


class ConfigError(SRGuardError, ValueError):
    """A setting or argument is wrong."""


class ModelFileError(SRGuardError):
    """A model or adapter file is missing, corrupt, or does not fit the base model."""


class MissingDependencyError(SRGuardError, ImportError):
    """An optional dependency is not installed."""


class DataError(SRGuardError, ValueError):
    """A data file is missing or malformed, or a split came out empty."""


class BackendError(SRGuardError, RuntimeError):
    """The model backend failed."""


class BackendTimeout(BackendError, TimeoutError):
    """The model backend did not answer within the configured time."""


def require(module: str, *, extra: str, package: str | None = None):
    """Import an optional dependency, or fail with the exact install line that fixes it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise MissingDependencyError(
            f"{package or module} is required for this feature; install it with "
            f"`pip install 'srllm-guard[{extra}]'`"
        ) from exc
