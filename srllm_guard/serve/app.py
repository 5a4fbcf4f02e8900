"""The guard service: an OpenAI-compatible proxy that guards the assistant's replies of any upstream model.

Routes (:func:`create_app`)::

    POST /v1/chat/completions   forwarded to the upstream as it is; the reply's assistant text is guarded
    POST /v1/guard/check        {"text": ...} -> the AuditRecord
    POST /v1/guard/rewrite      {"text": ...} -> {"text": guarded, "action": ..., "srllm_guard": record}
    GET  /healthz               model loaded, upstream reachable (200, else 503)
    GET  /metrics               Prometheus text: requests, actions, latencies, upstream errors

A whole reply comes back in the upstream's shape with each choice's ``message.content`` guarded, the audit
record under the choice's extra field ``srllm_guard`` and the action in the ``x-srllm-guard-action`` header
(the worst over the choices: ``fallback`` > ``rewrite`` > ``pass``). Tool calls are never touched. With
``"stream": true`` the reply is relayed as server-sent events with sentence hold-back (``SRGuard.atransform``):
text is released only after its sentence is checked, so no unchecked sentence ever reaches the client; the
chunk with ``finish_reason`` carries the audit record of the whole stream under ``srllm_guard``, then
``data: [DONE]``.

One model serves every request: it is loaded once at start-up, checks run in worker threads (the event loop
never waits on the model), and ``guard.max_concurrency`` bounds how many texts reach it at a time. The service
keeps no state between requests, so it scales out as replicas behind any load balancer.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from srllm_guard.audit import AuditRecord
from srllm_guard.backends.base import Backend
from srllm_guard.errors import require
from srllm_guard.serve.config import ServeConfig
from srllm_guard.serve.metrics import Metrics
from srllm_guard.serve.wire import DONE, completion, delta_of, error_body, sse, sse_payloads, to_chunk

__all__ = ["create_app"]

_RANK = {"pass": 0, "rewrite": 1, "fallback": 2}


class _Refused(Exception):
    """A request the service answers with an error status (bad body, missing key, ...)."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


class _BrokenStream(Exception):
    """The upstream's event stream ended in an error or could not be read."""


def _stream_response(events: Any, **kwargs: Any) -> Any:
    """A ``StreamingResponse`` that always watches for the client going away (whatever ASGI version the server
    speaks) and then stops the event generator, whose ``finally`` closes the upstream request at once.

    The stop is one plain task cancellation, not a cancelled anyio scope: a level-triggered scope would cancel
    httpx's own clean-up of the upstream connection too and leave it open."""
    from starlette.responses import StreamingResponse

    class _Watched(StreamingResponse):
        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            async def stream() -> None:
                with contextlib.suppress(OSError):  # a write to a closed socket: the client is gone
                    await self.stream_response(send)

            tasks = [asyncio.ensure_future(stream()), asyncio.ensure_future(self.listen_for_disconnect(receive))]
            try:
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                await self.body_iterator.aclose()  # type: ignore[attr-defined]

    return _Watched(events, media_type="text/event-stream", **kwargs)


class _Service:
    def __init__(self, config: ServeConfig, backend: Backend | None) -> None:
        if config.faithfulness is not None:
            from srllm_guard.faithfulness import check_folder

            check_folder(config.faithfulness)  # fail now, not at start-up
        self.config = config
        self.metrics = Metrics()
        self.backend = backend
        self._owns_backend = backend is None
        self.guard: Any = None
        self.client: Any = None
        self.loop: asyncio.AbstractEventLoop | None = None
        """The event loop serving requests (set at start-up; tests count its tasks)."""

    @asynccontextmanager
    async def lifespan(self, app: Any) -> AsyncIterator[None]:
        import httpx

        from srllm_guard.guard import SRGuard, build_backend

        self.loop = asyncio.get_running_loop()
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(self.config.upstream_timeout_s, connect=10.0))
        try:
            if self.backend is None:
                self.backend = await asyncio.to_thread(build_backend, self.config.guard)  # load once, off the loop
            check = None
            if self.config.faithfulness is not None:
                from srllm_guard.faithfulness import FaithfulnessCheck

                check = await asyncio.to_thread(FaithfulnessCheck.load, self.config.faithfulness)
            self.guard = SRGuard(config=self.config.guard, backend=self.backend, faithfulness=check)
            yield
        finally:
            await self.client.aclose()
            if self._owns_backend and self.backend is not None and hasattr(self.backend, "close"):
                self.backend.close()

    # --- plumbing ---------------------------------------------------------------------------------------

    def endpoint(self, name: str, handler: Callable[[Any], Awaitable[Any]], *, auth: bool = True) -> Callable:
        from starlette.responses import JSONResponse, StreamingResponse

        async def run(request: Any) -> Any:
            started = time.perf_counter()
            try:
                if auth and not self._authorized(request):
                    raise _Refused(401, "missing or wrong API key: send 'Authorization: Bearer <key>'",
                                   "invalid_api_key")
                response = await handler(request)
            except _Refused as exc:
                response = JSONResponse(error_body(exc.message, code=exc.code), status_code=exc.status)
            self.metrics.requests.labels(name, str(response.status_code)).inc()
            if not isinstance(response, StreamingResponse):  # a stream observes its latency when it ends
                self.metrics.latency.labels(name).observe(time.perf_counter() - started)
            return response

        return run

    def _authorized(self, request: Any) -> bool:
        key = self.config.api_key
        if key is None:
            return True
        given = request.headers.get("authorization", "").encode("utf-8", "replace")
        return hmac.compare_digest(given, f"Bearer {key}".encode())

    async def _body(self, request: Any) -> bytes:
        cap = self.config.max_body_bytes
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > cap:
            raise _Refused(413, f"request body over {cap} bytes (ServeConfig.max_body_bytes)", "body_too_large")
        body = bytearray()
        async for part in request.stream():
            body += part
            if len(body) > cap:
                raise _Refused(413, f"request body over {cap} bytes (ServeConfig.max_body_bytes)", "body_too_large")
        return bytes(body)

    async def _json(self, request: Any) -> tuple[bytes, dict[str, Any]]:
        body = await self._body(request)
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise _Refused(400, f"the request body is not valid JSON: {exc}", "invalid_json") from None
        if not isinstance(data, dict):
            raise _Refused(400, "the request body must be a JSON object", "invalid_json")
        return body, data

    def _upstream_headers(self, request: Any) -> dict[str, str]:
        headers = {"content-type": "application/json", "accept": request.headers.get("accept", "application/json")}
        if self.config.upstream_api_key:
            headers["authorization"] = f"Bearer {self.config.upstream_api_key}"
        elif self.config.api_key is None and "authorization" in request.headers:
            headers["authorization"] = request.headers["authorization"]  # the client's own upstream key
        for name in ("openai-organization", "openai-project"):
            if name in request.headers:
                headers[name] = request.headers[name]
        return headers

    def _note(self, endpoint: str, record: AuditRecord) -> None:
        self.metrics.record(endpoint, record.action, record.latency_ms)

    def _upstream_failed(self, kind: str, exc: Exception, stream: bool) -> Any:
        from starlette.responses import JSONResponse

        self.metrics.upstream_errors.labels(kind).inc()
        message = f"upstream {self.config.upstream} {'timed out' if kind == 'timeout' else 'unreachable'}: {exc}"
        if self.config.on_upstream_error == "error":
            return JSONResponse(error_body(message, type="upstream_error", code=kind),
                                status_code=504 if kind == "timeout" else 502)
        text = self.config.guard.refusal_message
        record = AuditRecord(biased=False, score=0.0, action="fallback", original="", text=text, error=message)
        self._note("chat", record)
        if not stream:
            body = completion(text)
            body["choices"][0]["srllm_guard"] = record.to_metadata()
            return JSONResponse(body, headers={"x-srllm-guard-action": "fallback"})
        events = [sse({}, {"role": "assistant", "content": text}),
                  sse({}, {}, finish_reason="stop", extra={"srllm_guard": record.to_metadata()}), DONE]
        return _stream_response(_replay(events))

    # --- routes -----------------------------------------------------------------------------------------

    async def chat(self, request: Any) -> Any:
        import httpx
        from starlette.responses import JSONResponse, Response

        started = time.perf_counter()
        body, payload = await self._json(request)
        stream = bool(payload.get("stream"))
        if stream and isinstance(payload.get("n"), int) and payload["n"] > 1:
            raise _Refused(400, "streaming with n > 1 is not supported by the guard proxy; use n=1 or stream=false")
        url = self.config.upstream_url("/v1/chat/completions")
        upstream = self.client.build_request("POST", url, content=body, headers=self._upstream_headers(request))
        try:
            reply = await self.client.send(upstream, stream=stream)
        except httpx.TimeoutException as exc:
            return self._upstream_failed("timeout", exc, stream)
        except httpx.HTTPError as exc:
            return self._upstream_failed("connect", exc, stream)
        if reply.status_code >= 400:  # relayed faithfully: status, body and content type
            content = await reply.aread()
            await reply.aclose()
            self.metrics.upstream_errors.labels("status").inc()
            return Response(content, status_code=reply.status_code,
                            media_type=reply.headers.get("content-type", "application/json"))
        if stream:
            return _stream_response(self._relay(reply, started), headers={"cache-control": "no-cache"})
        try:
            data = reply.json()
        except ValueError:
            raise _Refused(502, "the upstream answered 200 with a body that is not JSON",
                           "bad_upstream_reply") from None
        action = await self._guard_choices(data)
        return JSONResponse(data, headers={"x-srllm-guard-action": action})

    async def _guard_choices(self, data: dict[str, Any]) -> str:
        worst = "pass"
        for choice in data.get("choices") or []:
            message = choice.get("message") or {}
            content = message.get("content")
            if not isinstance(content, str) or not content:
                continue  # tool calls only, or no text: nothing to guard
            record = await self.guard.acheck(content)
            message["content"] = record.text
            choice["srllm_guard"] = record.to_metadata()
            self._note("chat", record)
            worst = max(worst, record.action, key=_RANK.__getitem__)
        return worst

    async def _relay(self, reply: Any, started: float) -> AsyncIterator[bytes]:
        import httpx

        meta: dict[str, Any] = {}
        end: dict[str, Any] = {"finish": None, "usage": None}

        async def chunks() -> AsyncIterator[Any]:
            async for payload in sse_payloads(reply.aiter_lines()):
                if payload.strip() == "[DONE]":
                    return
                try:
                    data = json.loads(payload)
                except ValueError:
                    raise _BrokenStream(f"upstream sent an event that is not JSON: {payload[:200]!r}") from None
                if data.get("error") and not data.get("choices"):
                    raise _BrokenStream(f"upstream stream error: {json.dumps(data['error'])[:500]}")
                for key in ("id", "created", "model", "system_fingerprint"):
                    if key in data:
                        meta.setdefault(key, data[key])
                end["usage"] = data.get("usage") or end["usage"]
                for choice in data.get("choices") or []:
                    end["finish"] = choice.get("finish_reason") or end["finish"]
                    yield to_chunk(choice.get("delta") or {})

        audit = None
        role_sent = False
        try:
            async for out in self.guard.atransform(chunks()):
                if not role_sent:
                    role_sent = True
                    yield sse(meta, {"role": "assistant", "content": ""})
                audit = out.response_metadata.get("srllm_guard") or audit
                delta = delta_of(out)
                if delta:
                    yield sse(meta, delta)
            if not role_sent:
                yield sse(meta, {"role": "assistant", "content": ""})
            if audit is not None:
                self._note("chat", AuditRecord.model_validate(audit))
            extra = {"srllm_guard": audit, **({"usage": end["usage"]} if end["usage"] else {})}
            yield sse(meta, {}, finish_reason=end["finish"] or "stop", extra=extra)
            yield DONE
        except (httpx.HTTPError, _BrokenStream) as exc:
            self.metrics.upstream_errors.labels("stream").inc()
            yield b"data: " + json.dumps(error_body(f"the upstream stream failed: {exc}", type="upstream_error",
                                                    code="upstream_stream")).encode() + b"\n\n"
            yield DONE
        finally:
            await reply.aclose()
            self.metrics.latency.labels("chat").observe(time.perf_counter() - started)

    async def _text(self, request: Any) -> str:
        _, payload = await self._json(request)
        text = payload.get("text")
        if not isinstance(text, str):
            raise _Refused(400, "expected a JSON object with a string field 'text'")
        return text

    async def check(self, request: Any) -> Any:
        from starlette.responses import JSONResponse

        record = await self.guard.acheck(await self._text(request))
        self._note("check", record)
        return JSONResponse(record.to_metadata(), headers={"x-srllm-guard-action": record.action})

    async def rewrite(self, request: Any) -> Any:
        from starlette.responses import JSONResponse

        record = await self.guard.acheck(await self._text(request))
        self._note("rewrite", record)
        return JSONResponse({"text": record.text, "action": record.action, "srllm_guard": record.to_metadata()},
                            headers={"x-srllm-guard-action": record.action})

    async def healthz(self, request: Any) -> Any:
        import httpx
        from starlette.responses import JSONResponse

        headers = {"authorization": f"Bearer {self.config.upstream_api_key}"} if self.config.upstream_api_key else {}
        try:
            probe = await self.client.get(self.config.upstream_url("/v1/models"), headers=headers, timeout=5.0)
            reachable, detail = probe.status_code < 500, f"HTTP {probe.status_code}"
        except httpx.HTTPError as exc:
            reachable, detail = False, f"{type(exc).__name__}: {exc}"
        loaded = self.guard is not None and self.backend is not None
        body = {"status": "ok" if loaded and reachable else "unavailable", "model_loaded": loaded,
                "model_id": getattr(self.backend, "model_id", None),
                "upstream": {"url": self.config.upstream, "reachable": reachable, "detail": detail}}
        return JSONResponse(body, status_code=200 if loaded and reachable else 503)

    async def metrics_text(self, request: Any) -> Any:
        from starlette.responses import Response

        content, media_type = self.metrics.render()
        return Response(content, media_type=media_type)


async def _replay(events: list[bytes]) -> AsyncIterator[bytes]:
    for event in events:
        yield event


def create_app(config: ServeConfig, *, backend: Backend | None = None) -> Any:
    """The ASGI app (Starlette) of the guard service; ``backend``: a ready model (default: built from
    ``config.guard`` at start-up). Run it with ``uvicorn`` or ``srllm-guard serve``."""
    require("starlette", extra="serve")
    require("httpx", extra="serve")
    require("prometheus_client", extra="serve", package="prometheus-client")
    from starlette.applications import Starlette
    from starlette.routing import Route

    service = _Service(config, backend)
    routes = [
        Route("/v1/chat/completions", service.endpoint("chat", service.chat), methods=["POST"]),
        Route("/v1/guard/check", service.endpoint("check", service.check), methods=["POST"]),
        Route("/v1/guard/rewrite", service.endpoint("rewrite", service.rewrite), methods=["POST"]),
        Route("/healthz", service.endpoint("healthz", service.healthz, auth=False), methods=["GET"]),
        Route("/metrics", service.endpoint("metrics", service.metrics_text, auth=False), methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=service.lifespan)
    app.state.service = service
    return app
