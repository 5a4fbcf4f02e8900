"""SR-LLM behind an OpenAI-compatible HTTP server (``python -m llama_cpp.server``, llama.cpp's ``llama-server``,
vLLM), spoken to with httpx.

One ``check`` is one or two ``POST /v1/completions`` requests with the raw rendered prompt (the model has no
chat template, so the chat endpoint would wrap it in the wrong one):

1. **Verdict**: ``max_tokens=1`` with ``logprobs=top_logprobs``; P(biased) is read from the top-k logprobs of
   the first answer token (see :func:`verdict_score`). A server that returns no logprobs is a
   :class:`BackendError` that says how to start it with logprobs support.
2. **Rewrite** (only when flagged): ``prompt + 'biased\\n'``, greedy (``temperature=0``, ``repeat_penalty=1``:
   llama_cpp.server's default is 1.1), ``stop=['<end_of_turn>']``.

Transport: one pooled ``httpx.Client`` (thread-safe) and one ``httpx.AsyncClient`` per event loop (a client is
bound to the loop it first ran on) for the native async twin. ``timeout_s`` is the budget of a whole ``check``
(both requests, retries and back-off included): each attempt may read for what is left of it, so a read
timeout ends the call as :class:`BackendTimeout`. Transient failures are retried with exponential back-off up
to ``retries`` times while budget remains: connection refused or reset, the server dropping the connection
mid-request, and HTTP 502/503/504. A 4xx (or any other status) is never retried.

Traps:

* The server tokenizes the whole prompt string with special tokens parsed, and adds ``<bos>`` itself
  (llama.cpp when the GGUF says ``add_bos_token``, vLLM by default), so the prompt is sent without ``<bos>``.
  ``prompt.clean_text`` defuses the template markers in the user's text, but other special-token strings in
  it (``<unused0>``, ``<start_of_image>`` ...) are parsed as special by the server, where the in-process
  backends keep them plain text. Scores of such texts can differ.
* ``llama_cpp.server`` needs ``logits_all`` (its default, ~4x slower prompts) for logprobs, and serves one
  request at a time; a request abandoned by its client still runs to the end on the server.
* vLLM stops at the EOS ids of the model's ``generation_config.json`` and hides special tokens from the text,
  so ``stop=['<end_of_turn>']`` alone may not match there: serve a model whose generation config lists
  ``<end_of_turn>`` (id 106 for Gemma 3) as EOS.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Sequence
from urllib.parse import urlparse

from srllm_guard import prompt
from srllm_guard.backends.base import BaseBackend, Check
from srllm_guard.errors import BackendError, BackendTimeout, ConfigError, require

__all__ = ["RemoteBackend", "verdict_score"]

_TRANSIENT_STATUS = frozenset({502, 503, 504})
_LOGPROBS_HINT = (
    "start the server with logprobs support: `python -m llama_cpp.server --model M.gguf --logits_all true` "
    "(llama_cpp.server's default), or vLLM with `--max-logprobs` >= top_logprobs"
)


class _Transient(Exception):
    """An HTTP 502/503/504 answer: retried, then reported as a BackendError."""


def verdict_score(body: Any, *, top_logprobs: int | None = None) -> float:
    """P(biased) from a completions response whose first token carries top-k logprobs.

    P(biased) = exp(lp_biased) / (exp(lp_biased) + exp(lp_neutral)): the two verdict tokens' logprobs
    renormalised, which equals the in-process backends' softmax over their two logits. When one verdict token
    is missing from the top-k, its logprob is taken as the *floor* of the listed ones (the lowest listed
    logprob, an upper bound of its true value): the score is then a lower bound of P(biased) when ``neutral``
    is missing and an upper bound when ``biased`` is missing; the true score lies further toward the verdict
    that *was* listed. When neither is listed the model is not answering in the SR-LLM format and this raises
    :class:`BackendError` (a llama.cpp server can list the whole vocabulary: see ``top_logprobs``).

    Accepts the OpenAI completions format (``top_logprobs``: a list of ``{token: logprob}``) and the
    chat-style one (``content: [{top_logprobs: [{token, logprob}]}]``).
    """
    try:
        logprobs = body["choices"][0].get("logprobs")
    except (KeyError, IndexError, TypeError, AttributeError):
        raise BackendError(f"the server's completion has no choices: {str(body)[:200]}") from None
    top: Any = None
    if isinstance(logprobs, dict):
        if isinstance(logprobs.get("top_logprobs"), list) and logprobs["top_logprobs"]:
            top = logprobs["top_logprobs"][0]
        elif isinstance(logprobs.get("content"), list) and logprobs["content"]:
            entries = logprobs["content"][0].get("top_logprobs") or []
            top = {e.get("token"): e.get("logprob") for e in entries if isinstance(e, dict)}
    if not isinstance(top, dict) or not top:
        choice = body["choices"][0]
        if isinstance(logprobs, dict) and choice.get("finish_reason") == "stop" and not choice.get("text"):
            raise BackendError(  # llama.cpp lists logprobs only for generated tokens, and an end-of-turn isn't one
                "the served model ended its answer at once (its most likely first token is end-of-turn), so the "
                "server listed no logprobs: it is not an SR-LLM fine-tune (load the adapter on the server)"
            )
        raise BackendError(f"the server returned no logprobs for the verdict token; {_LOGPROBS_HINT}")
    values = [float(v) for v in top.values() if isinstance(v, (int, float)) and math.isfinite(v)]
    if not values:
        raise BackendError(f"the server returned no finite logprobs for the verdict token: {top}")
    floor = min(values)
    biased, neutral = top.get(prompt.BIASED), top.get(prompt.NEUTRAL)
    if biased is None and neutral is None:
        raise BackendError(
            f"neither {prompt.BIASED!r} nor {prompt.NEUTRAL!r} is among the server's top {len(top)} first tokens "
            f"(it would answer {max(top, key=lambda k: top[k])!r}): the served model is not an SR-LLM fine-tune "
            "(load the adapter on the server), or raise top_logprobs"
            + (f" above {top_logprobs}" if top_logprobs else "")
        )
    diff = (floor if neutral is None else float(neutral)) - (floor if biased is None else float(biased))
    return 1.0 / (1.0 + math.exp(diff)) if diff < 700 else 0.0


def _rewrite_text(body: Any) -> str:
    try:
        text = body["choices"][0]["text"]
    except (KeyError, IndexError, TypeError):
        raise BackendError(f"the server's completion has no text: {str(body)[:200]}") from None
    for marker in (prompt.END_OF_TURN, "<eos>"):
        text = text.split(marker, 1)[0]
    return text.strip()


class RemoteBackend(BaseBackend):
    """SR-LLM served over the OpenAI-compatible completions API (llama.cpp server, vLLM).

    Example::

        # python -m llama_cpp.server --model base.gguf --lora_path adapter.gguf --n_threads 1 --port 8000
        backend = RemoteBackend(base_url="http://127.0.0.1:8000")
        backend.check("Women can't do math.", threshold=0.5)
    """

    def __init__(
        self,
        *,
        base_url: str = "http://127.0.0.1:8000",
        model: str | None = None,
        api_key: str | None = None,
        timeout_s: float | None = 30.0,
        retries: int = 2,
        top_logprobs: int = 20,
        connect_timeout_s: float = 5.0,
        max_connections: int = 16,
        prompt_format: str | None = None,
    ) -> None:
        """Configure the client (nothing is sent until the first check).

        Args:
            base_url: the server, ``http://host:port`` or ``http://host:port/v1``.
            model: the served model's name (``model`` field of each request); ``None`` leaves it out, which
                llama_cpp.server and recent vLLM read as their only model.
            api_key: sent as ``Authorization: Bearer``; ``None`` reads ``$SRLLM_GUARD_API_KEY`` (may be unset).
            timeout_s: budget of one ``check`` (both requests, retries, back-off); ``None`` waits forever.
            retries: extra attempts after a transient failure (connect error, dropped connection, 502/503/504).
            top_logprobs: logprobs asked for the verdict token (vLLM caps this at ``--max-logprobs``, 20). A
                llama.cpp server has no cap: the whole vocabulary (262144 for Gemma 3) gives exact scores for any
                model, at ~3 s a request for the 270M on one thread instead of ~1 s.
            connect_timeout_s: longest wait for a TCP connection (within ``timeout_s``).
            max_connections: connection pool size (per client; one sync client, one async per event loop).
            prompt_format: the prompt format the served adapter was trained with (``srllm.format_version`` in
                its GGUF; see :data:`srllm_guard.prompt.FORMATS`); ``None`` is the current one.
        """
        self._httpx = require("httpx", extra="server")
        url = urlparse(base_url)
        problems = []
        if url.scheme not in ("http", "https") or not url.hostname:
            problems.append(f"base_url={base_url!r} must be http(s)://host[:port][/v1]")
        if timeout_s is not None and not (isinstance(timeout_s, (int, float)) and timeout_s > 0):
            problems.append(f"timeout_s={timeout_s!r} must be > 0 or None")
        if not isinstance(retries, int) or not 0 <= retries <= 10:
            problems.append(f"retries={retries!r} must be an int in 0..10")
        if not isinstance(top_logprobs, int) or top_logprobs < 2:
            problems.append(f"top_logprobs={top_logprobs!r} must be an int >= 2")
        if not connect_timeout_s > 0 or not isinstance(max_connections, int) or max_connections < 1:
            problems.append("connect_timeout_s must be > 0 and max_connections a positive int")
        if prompt_format is not None and prompt_format not in prompt.FORMATS:
            problems.append(f"prompt_format={prompt_format!r} must be one of {', '.join(prompt.FORMATS)}")
        if problems:
            raise ConfigError("RemoteBackend: " + "; ".join(problems))
        self.prompt_format = prompt.get_format(prompt_format)
        root = base_url.rstrip("/")
        self.base_url = root
        self.url = root + ("/completions" if root.endswith("/v1") else "/v1/completions")
        self.model = model
        self.timeout_s = None if timeout_s is None else float(timeout_s)
        self.retries = retries
        self.top_logprobs = top_logprobs
        self.connect_timeout_s = float(connect_timeout_s)
        self.model_id = f"remote:{model or 'default'}@{root}"
        key = api_key if api_key is not None else os.environ.get("SRLLM_GUARD_API_KEY")
        self._headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._max_connections = max_connections
        self._limits = self._httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        self._client = self._httpx.Client(headers=self._headers, limits=self._limits)
        self._aclients: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()

    # ---- public API ---------------------------------------------------------------------------------
    def check(self, text: str, *, threshold: float, rewrite: bool = True, max_new_tokens: int = 256) -> Check:
        deadline = self._deadline()
        score = verdict_score(self._post(self._score_payload(text), deadline), top_logprobs=self.top_logprobs)
        if not rewrite or score < threshold or max_new_tokens == 0:
            return Check(score=score)
        return Check(score=score, rewrite=_rewrite_text(self._post(self._rewrite_payload(text, max_new_tokens),
                                                                   deadline)))

    async def acheck(
        self, text: str, *, threshold: float, rewrite: bool = True, max_new_tokens: int = 256
    ) -> Check:
        deadline = self._deadline()
        body = await self._apost(self._score_payload(text), deadline)
        score = verdict_score(body, top_logprobs=self.top_logprobs)
        if not rewrite or score < threshold or max_new_tokens == 0:
            return Check(score=score)
        body = await self._apost(self._rewrite_payload(text, max_new_tokens), deadline)
        return Check(score=score, rewrite=_rewrite_text(body))

    def check_many(
        self, texts: Sequence[str], *, threshold: float, rewrite: bool = True, max_new_tokens: int = 256
    ) -> list[Check]:
        """:meth:`check` for each text, the requests sent concurrently (up to ``max_connections`` at a time), so an
        engine that batches requests (vLLM; llama.cpp server with several slots) scores them together."""
        if len(texts) <= 1:
            return super().check_many(texts, threshold=threshold, rewrite=rewrite, max_new_tokens=max_new_tokens)
        with ThreadPoolExecutor(max_workers=min(len(texts), self._max_connections)) as pool:
            return list(pool.map(lambda text: self.check(text, threshold=threshold, rewrite=rewrite,
                                                         max_new_tokens=max_new_tokens), texts))

    async def acheck_many(
        self, texts: Sequence[str], *, threshold: float, rewrite: bool = True, max_new_tokens: int = 256
    ) -> list[Check]:
        """Async twin of :meth:`check_many` (the async client's pool bounds the requests in flight)."""
        return list(await asyncio.gather(*(self.acheck(text, threshold=threshold, rewrite=rewrite,
                                                       max_new_tokens=max_new_tokens) for text in texts)))

    def close(self) -> None:
        """Close the pooled connections (async clients are dropped; use :meth:`aclose` inside their loop)."""
        self._client.close()
        self._aclients.clear()

    async def aclose(self) -> None:
        """Close the async client of the running event loop."""
        client = self._aclients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()

    # ---- requests -----------------------------------------------------------------------------------
    def _payload(self, text: str, **fields: Any) -> dict[str, Any]:
        body = {"prompt": self.prompt_format.render_prompt(text, bos=False).prompt, "temperature": 0.0, "top_p": 1.0,
                "repeat_penalty": 1.0, "stream": False, **fields}
        if self.model is not None:
            body["model"] = self.model
        return body

    def _score_payload(self, text: str) -> dict[str, Any]:
        return self._payload(text, max_tokens=1, logprobs=self.top_logprobs)

    def _rewrite_payload(self, text: str, max_new_tokens: int) -> dict[str, Any]:
        if not isinstance(max_new_tokens, int) or max_new_tokens < 0:
            raise ConfigError(f"max_new_tokens must be an int >= 0, got {max_new_tokens!r}")
        body = self._payload(text, max_tokens=max_new_tokens, stop=[prompt.END_OF_TURN])
        body["prompt"] += f"{prompt.BIASED}\n"
        return body

    def _deadline(self) -> float:
        return math.inf if self.timeout_s is None else time.monotonic() + self.timeout_s

    def _timeout(self, deadline: float) -> Any:
        left = deadline - time.monotonic()
        if left <= 0:
            raise BackendTimeout(f"{self.url} did not answer within timeout_s={self.timeout_s}s")
        read = None if math.isinf(left) else left
        return self._httpx.Timeout(read, connect=min(self.connect_timeout_s, left))

    def _retrying(self, deadline: float, cls: Callable[..., Any]) -> Any:
        from tenacity import retry_if_exception, wait_exponential

        def stop(state: Any) -> bool:
            sleep = getattr(state, "upcoming_sleep", 0.0) or 0.0
            return state.attempt_number > self.retries or time.monotonic() + sleep >= deadline

        return cls(stop=stop, wait=wait_exponential(multiplier=0.1, max=2.0),
                   retry=retry_if_exception(self._is_transient), reraise=True)

    def _is_transient(self, exc: BaseException) -> bool:
        h = self._httpx
        return isinstance(exc, (_Transient, h.ConnectError, h.ConnectTimeout, h.RemoteProtocolError, h.ReadError))

    def _post(self, payload: dict[str, Any], deadline: float) -> Any:
        from tenacity import Retrying

        try:
            for attempt in self._retrying(deadline, Retrying):
                with attempt:
                    response = self._client.post(self.url, json=payload, timeout=self._timeout(deadline))
                    return self._json(response)
        except Exception as exc:
            error = self._error(exc)
            if error is exc:
                raise
            raise error from exc
        raise AssertionError("unreachable")  # pragma: no cover

    async def _apost(self, payload: dict[str, Any], deadline: float) -> Any:
        from tenacity import AsyncRetrying

        client = self._aclient()
        try:
            async for attempt in self._retrying(deadline, AsyncRetrying):
                with attempt:
                    response = await client.post(self.url, json=payload, timeout=self._timeout(deadline))
                    return self._json(response)
        except Exception as exc:
            error = self._error(exc)
            if error is exc:
                raise
            raise error from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _aclient(self) -> Any:
        loop = asyncio.get_running_loop()
        client = self._aclients.get(loop)
        if client is None:
            client = self._aclients[loop] = self._httpx.AsyncClient(headers=self._headers, limits=self._limits)
        return client

    # ---- answers and errors -------------------------------------------------------------------------
    def _json(self, response: Any) -> Any:
        if response.status_code in _TRANSIENT_STATUS:
            raise _Transient(f"HTTP {response.status_code} from {self.url}: {response.text[:200]}")
        if response.status_code != 200:
            detail = response.text[:300]
            if "logprobs" in detail or "logits_all" in detail:
                raise BackendError(f"the server cannot return logprobs (HTTP {response.status_code}: {detail}); "
                                   f"{_LOGPROBS_HINT}")
            hint = {401: "; check api_key", 403: "; check api_key",
                    404: f"; is {self.base_url} an OpenAI-compatible server (base_url is http://host:port or .../v1)?"}
            raise BackendError(f"HTTP {response.status_code} from {self.url}: {detail}"
                               + hint.get(response.status_code, ""))
        try:
            return response.json()
        except ValueError:
            raise BackendError(f"{self.url} answered with invalid JSON: {response.text[:200]!r}") from None

    def _error(self, exc: Exception) -> Exception:
        h = self._httpx
        if isinstance(exc, BackendError):
            return exc
        if isinstance(exc, h.TimeoutException) and not isinstance(exc, h.ConnectTimeout):
            return BackendTimeout(
                f"{self.url} did not answer within timeout_s={self.timeout_s}s ({type(exc).__name__})")
        if isinstance(exc, (h.ConnectError, h.ConnectTimeout)):
            return BackendError(
                f"cannot connect to {self.base_url} ({type(exc).__name__}: {exc}) after {self.retries + 1} attempts; "
                "check the server is running and listening there (e.g. `python -m llama_cpp.server --model "
                "M.gguf --host 127.0.0.1 --port 8000`)"
            )
        if isinstance(exc, (h.RemoteProtocolError, h.ReadError)):
            return BackendError(f"{self.base_url} dropped the connection mid-request ({exc}); the server crashed "
                                "or restarted: check its log")
        if isinstance(exc, _Transient):
            return BackendError(f"{exc} (still failing after {self.retries + 1} attempts; the server is overloaded "
                                "or restarting)")
        if isinstance(exc, h.HTTPError):
            return BackendError(f"request to {self.url} failed: {type(exc).__name__}: {exc}")
        return exc
