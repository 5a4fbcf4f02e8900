"""Backends by name: the built-ins, the ``srllm_guard.backends`` entry-point group, or ``'module:Class'``.

A third-party package adds a backend by declaring an entry point::

    [project.entry-points."srllm_guard.backends"]
    mybackend = "my_package.backend:MyBackend"

after which ``GuardConfig(backend="mybackend")`` (or ``srllm-guard --backend mybackend``) builds it. The class
implements :class:`srllm_guard.backends.base.Backend` and takes keyword arguments; :func:`backend_kwargs`
passes it the ``GuardConfig`` fields its constructor names (see ``CONFIG_FIELDS``). Built-in names win over
entry points of the same name. Nothing here imports a backend module until it is asked for.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import logging
import threading
import weakref
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from srllm_guard.errors import ConfigError, MissingDependencyError

if TYPE_CHECKING:
    from srllm_guard.backends.base import Backend
    from srllm_guard.config import GuardConfig

__all__ = ["ENTRY_POINT_GROUP", "BUILTIN_BACKENDS", "CONFIG_FIELDS", "available_backends", "load_backend_class",
           "backend_kwargs", "build_backend"]

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "srllm_guard.backends"

BUILTIN_BACKENDS: dict[str, str] = {
    "llamacpp": "srllm_guard.backends.llamacpp:LlamaCppBackend",
    "hf": "srllm_guard.backends.hf:HFBackend",
    "remote": "srllm_guard.backends.remote:RemoteBackend",
}
"""The backends shipped with srllm-guard (name -> ``module:Class``)."""

CONFIG_FIELDS: dict[str, tuple[tuple[str, ...], bool]] = {
    "model_path": (("model_path", "model"), True),
    "adapter_path": (("adapter_path", "adapter"), True),
    "n_threads": (("n_threads",), True),
    "screen": (("screen",), False),
    "base_url": (("base_url",), False),
    "device": (("device",), False),
    "timeout_s": (("timeout_s",), False),
}
"""``GuardConfig`` field -> (constructor parameter names it may go to, in order; whether it also goes into a
``**kwargs`` constructor when left at ``None``). ``timeout_s`` and ``screen`` go only to a constructor that
names them (the remote backend: its HTTP budget then ends with the guard's; llama.cpp: the early-exit probe)."""


def available_backends() -> dict[str, str]:
    """Every backend name this installation knows, with its ``module:Class`` target."""
    found = dict(BUILTIN_BACKENDS)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in BUILTIN_BACKENDS:
            if ep.value != BUILTIN_BACKENDS[ep.name]:
                log.warning("entry point %s=%s ignored: %r is a built-in backend", ep.name, ep.value, ep.name)
            continue
        found.setdefault(ep.name, ep.value)
    return found


def load_backend_class(name: str) -> type:
    """The backend class for a name (built-in, entry point) or an import path ``'package.module:Class'``."""
    if not isinstance(name, str) or not name:
        raise ConfigError(f"backend must be a non-empty str, got {name!r}")
    known = available_backends()
    target = known.get(name, name)
    module_name, _, attr = target.partition(":")
    if not attr:
        raise ConfigError(
            f"unknown backend {name!r}: use one of {sorted(known)}, an entry point in the "
            f"{ENTRY_POINT_GROUP!r} group, or 'package.module:Class'"
        )
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except MissingDependencyError:
        raise
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"backend {name!r} ({target}) cannot be loaded: {exc}") from exc
    if not inspect.isclass(obj) or not callable(getattr(obj, "check", None)):
        raise ConfigError(f"backend {name!r} ({target}) is not a class with a check() method")
    return obj


def backend_kwargs(cls: type, config: Any) -> dict[str, Any]:
    """The constructor arguments for ``cls`` from a ``GuardConfig``.

    Each field of ``CONFIG_FIELDS`` goes to the first of its parameter names the constructor has. A field the
    user set (not left at its default) that the constructor cannot take is a :class:`ConfigError` rather
    than silently ignored (``adapter_path`` with the remote backend: the adapter is loaded by the server).
    """
    params = inspect.signature(cls).parameters
    open_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    defaults = type(config).model_fields
    kwargs: dict[str, Any] = {}
    refused = []
    for field, (names, always) in CONFIG_FIELDS.items():
        if field not in defaults:
            continue
        value = getattr(config, field)
        name = next((n for n in names if n in params and params[n].kind is not inspect.Parameter.VAR_KEYWORD), None)
        if name is not None:
            kwargs[name] = value
        elif open_kwargs and field not in ("timeout_s", "screen") and (always or value is not None):
            kwargs[names[0]] = value
        elif field == "screen" and value is None:
            continue  # 'no early-exit screen' is what a backend without one does anyway
        elif field in config.model_fields_set and value != defaults[field].default and field != "timeout_s":
            refused.append(f"{field}={value!r}")
    if refused:
        raise ConfigError(f"backend {config.backend!r} does not take {', '.join(refused)}"
                          + ("; the server loads the model and adapter" if "base_url" in kwargs else ""))
    taken = [n for n, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    for name, value in getattr(config, "backend_options", {}).items():
        if name in kwargs or any(name in names for names, _ in CONFIG_FIELDS.values()):
            field = next((f for f, (names, _) in CONFIG_FIELDS.items() if name in names), name)
            raise ConfigError(f"backend option {name!r} is a GuardConfig field: set {field}={value!r} instead")
        if name not in taken and not open_kwargs:
            raise ConfigError(f"backend {config.backend!r} does not take the option {name!r}; it takes: "
                              + ", ".join(taken))
        kwargs[name] = value
    return kwargs


_shared: weakref.WeakValueDictionary[tuple[Any, ...], Backend] = weakref.WeakValueDictionary()
"""Backends in use, by settings: guards of the same model share one, and it is freed when none holds it."""
_shared_lock = threading.Lock()


def build_backend(config: GuardConfig) -> Backend:
    """The backend ``config`` names (built-in, entry point or ``'module:Class'``), built with the config fields
    its constructor takes (:func:`backend_kwargs`), and shared by every guard of
    the same backend and arguments for as long as one of them holds it (a weak cache: no model stays loaded
    after the last guard using it is closed or collected)."""
    cls = load_backend_class(config.backend)
    kwargs = backend_kwargs(cls, config)
    key = (config.backend, tuple(sorted(kwargs.items())))
    with _shared_lock:
        backend = _shared.get(key)
        if backend is None:
            backend = cls(**kwargs)
            with contextlib.suppress(TypeError):  # a class with __slots__ and no __weakref__ is not shared
                _shared[key] = backend
        return backend
