"""A scripted OpenAI-compatible upstream for the guard-proxy tests: its reply is decided by the last user message.

    python tests/_scripted_upstream.py PORT

Scripts (the last user message):

    say: TEXT          reply TEXT (streamed in 6-character deltas when "stream": true)
    slow: S TEXT       like say, after S seconds (streams: S seconds before each delta)
    die: TEXT          streams: send TEXT's first 30 characters, then the process exits; whole: exit at once
    tool               a tool call (no text)
    status: N          answer HTTP N with an OpenAI-style error body

``GET /v1/models`` answers like a real server; ``GET /_seen`` returns what the upstream saw: the
``authorization`` header of the last request and how many streams a client closed before their end.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

SEEN = {"authorization": None, "closed_early": 0, "requests": 0}
TOOL_CALL = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}


def _chunk(delta: dict, finish: str | None = None) -> bytes:
    body = {"id": "chatcmpl-up", "object": "chat.completion.chunk", "created": 1700000000, "model": "scripted",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return f"data: {json.dumps(body)}\n\n".encode()


async def chat(request: Request):
    SEEN["requests"] += 1
    SEEN["authorization"] = request.headers.get("authorization")
    body = await request.json()
    script = body["messages"][-1]["content"]
    stream = bool(body.get("stream"))
    delay, text = 0.0, ""
    kind, _, rest = script.partition(":")
    rest = rest.strip()
    if kind == "status":
        return JSONResponse({"error": {"message": f"scripted {rest}", "type": "scripted", "code": rest}},
                            status_code=int(rest))
    if kind == "slow":
        seconds, _, text = rest.partition(" ")
        delay = float(seconds)
    elif kind in ("say", "die"):
        text = rest
    if kind == "die" and not stream:
        os._exit(1)
    if not stream:
        await asyncio.sleep(delay)
        message = ({"role": "assistant", "content": None, "tool_calls": [TOOL_CALL]} if script == "tool"
                   else {"role": "assistant", "content": text})
        return JSONResponse({"id": "chatcmpl-up", "object": "chat.completion", "created": 1700000000,
                             "model": "scripted",
                             "usage": {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8},
                             "choices": [{"index": 0, "message": message,
                                          "finish_reason": "tool_calls" if script == "tool" else "stop"}]})

    async def events():
        finished = False
        try:
            yield _chunk({"role": "assistant", "content": ""})
            if script == "tool":
                call = TOOL_CALL
                yield _chunk({"tool_calls": [{"index": 0, "id": call["id"], "type": "function",
                                              "function": {"name": call["function"]["name"], "arguments": ""}}]})
                args = call["function"]["arguments"]
                for i in range(0, len(args), 5):
                    yield _chunk({"tool_calls": [{"index": 0, "function": {"arguments": args[i:i + 5]}}]})
                yield _chunk({}, "tool_calls")
            else:
                for i in range(0, len(text), 6):
                    if kind == "die" and i >= 30:
                        os._exit(1)
                    await asyncio.sleep(delay or 0.005)
                    if await request.is_disconnected():
                        return  # the client (the proxy) closed the request: counted below
                    yield _chunk({"content": text[i:i + 6]})
                yield _chunk({}, "stop")
            yield b"data: [DONE]\n\n"
            finished = True
        finally:
            if not finished:
                SEEN["closed_early"] += 1

    return StreamingResponse(events(), media_type="text/event-stream")


async def models(request: Request):
    model = {"id": "scripted", "object": "model", "created": int(time.time())}
    return JSONResponse({"object": "list", "data": [model]})


async def seen(request: Request):
    return JSONResponse(SEEN)


app = Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"]), Route("/v1/models", models),
                        Route("/_seen", seen)])

if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
