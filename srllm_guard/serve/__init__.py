"""The guard service (``srllm-guard serve``): put the guard in front of any OpenAI-compatible model by changing
one base URL. See :mod:`srllm_guard.serve.app` for the routes and what each returns.

    srllm-guard serve --upstream http://127.0.0.1:8000 --port 8080
    # then point any OpenAI client at http://127.0.0.1:8080/v1

Needs the ``serve`` extra: ``pip install 'srllm-guard[serve]'`` (Starlette, uvicorn, httpx, prometheus-client).
"""

from __future__ import annotations

from typing import Any

from srllm_guard.serve.config import ServeConfig

__all__ = ["ServeConfig", "create_app", "run"]


def create_app(config: ServeConfig, *, backend: Any = None) -> Any:
    """The ASGI app; see :func:`srllm_guard.serve.app.create_app`."""
    from srllm_guard.serve.app import create_app as _create

    return _create(config, backend=backend)


def __dir__() -> list[str]:
    return sorted(set(__all__) | {n for n in globals() if n.startswith("__")})


def run(config: ServeConfig) -> None:
    """Serve ``config`` with uvicorn until interrupted (binds ``config.host``, loopback by default)."""
    from srllm_guard.errors import require

    uvicorn = require("uvicorn", extra="serve")
    uvicorn.run(create_app(config), host=config.host, port=config.port, log_level="info")
