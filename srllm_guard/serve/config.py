"""``ServeConfig``: the guard service's settings, typed and documented in one place (file, flags or code)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from srllm_guard.config import GuardConfig
from srllm_guard.errors import ConfigError

__all__ = ["ServeConfig"]


class ServeConfig(BaseModel):
    """Settings of ``srllm-guard serve`` (:func:`srllm_guard.serve.create_app`).

    Example::

        ServeConfig(upstream="http://127.0.0.1:8000", api_key="s3cret", guard=GuardConfig(fallback="refuse"))
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    upstream: str
    """Base URL of the OpenAI-compatible model server whose replies are guarded (llama.cpp server, vLLM, a
    hosted API), with or without the trailing ``/v1``: ``http://127.0.0.1:8000``."""
    upstream_api_key: str | None = None
    """Bearer key sent to the upstream. ``None``: the client's ``Authorization`` header is passed through, unless
    ``api_key`` is set (then that header is the proxy's own and is never forwarded)."""
    api_key: str | None = None
    """When set, every ``/v1/...`` request must carry ``Authorization: Bearer <api_key>`` (401 otherwise).
    ``/healthz`` and ``/metrics`` stay open, for probes and scrapers."""
    host: str = "127.0.0.1"
    """Interface to bind; loopback unless told otherwise (``0.0.0.0`` exposes the proxy to the network)."""
    port: int = Field(default=8080, ge=0, le=65535)
    """Port to listen on."""
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    """Largest request body accepted (413 above it)."""
    upstream_timeout_s: float = Field(default=120.0, gt=0)
    """Seconds to wait for the upstream: for the whole reply, or between two chunks of a stream."""
    on_upstream_error: Literal["error", "refuse"] = "error"
    """When the upstream cannot be reached or times out: ``'error'`` answers 502/504 with an OpenAI-style error
    body; ``'refuse'`` answers a normal completion whose content is ``guard.refusal_message``. Errors the
    upstream itself returns (4xx/5xx) are always relayed as they are."""
    guard: GuardConfig = Field(default_factory=GuardConfig)
    """The guard's policy and model (thresholds, fallback, fail-open/closed, timeouts, backend)."""
    faithfulness: str | None = None
    """A rewrite faithfulness check for the guard (:mod:`srllm_guard.faithfulness`): ``'default'`` for the
    shipped one or the folder of one; ``None`` (default): none. Needs ``pip install 'srllm-guard[faithful]'``;
    its threshold is ``guard.min_faithfulness``."""

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None, **overrides: object) -> ServeConfig:
        """Settings from a JSON or YAML file (if given), then ``overrides`` (``None`` values are ignored); the
        ``guard`` section of the file and a ``guard`` override are merged field by field."""
        data: dict = {}
        if path is not None:
            file = Path(path)
            if not file.is_file():
                raise ConfigError(f"config file not found: {file}")
            text = file.read_text(encoding="utf-8")
            try:
                if file.suffix.lower() in (".yaml", ".yml"):
                    import yaml

                    data = yaml.safe_load(text) or {}
                else:
                    data = json.loads(text)
            except ImportError as exc:
                raise ConfigError(f"{file}: reading YAML needs pyyaml (pip install pyyaml), or use JSON") from exc
            except ValueError as exc:
                raise ConfigError(f"{file}: not valid {'YAML' if file.suffix != '.json' else 'JSON'}: {exc}") from exc
            if not isinstance(data, dict):
                raise ConfigError(f"{file}: expected a mapping of settings at the top level")
        guard = {**(data.pop("guard", None) or {}), **dict(overrides.pop("guard", None) or {})}  # type: ignore[call-overload]
        data.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls(**data, guard=GuardConfig(**guard))
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in exc.errors())
            raise ConfigError(f"invalid serve settings: {problems}") from exc

    def upstream_url(self, path: str) -> str:
        """The upstream URL of an OpenAI path such as ``/v1/chat/completions``."""
        base = self.upstream.rstrip("/")
        if base.endswith("/v1"):
            base = base[: -len("/v1")]
        return base + path
