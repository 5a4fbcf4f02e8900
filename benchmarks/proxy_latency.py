"""The guard proxy against the same upstream, side by side in one run: latency ratio and throughput.

    python benchmarks/proxy_latency.py [--rounds 5] [--upstream URL] [--threads 1]

Without ``--upstream`` it starts a ``llama_cpp.server`` with the embedded Gemma 3 270M under the chatml template
(the pretrained base echoes the user's message, so each reply is a known clean sentence of ~10 tokens). The
proxy runs in this process (uvicorn in a thread) with the shipped default guard (merged weights, early-exit
probe). Prints:

- clean replies: median latency direct to the upstream and through the proxy, interleaved request by request,
  and their ratio (what the guard adds to a clean reply);
- throughput through the proxy and direct, with 1, 4 and 16 concurrent clients (requests per second, median
  latency), every client sending whole (non-streamed) requests.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TOPICS = ("the sea", "a quiet library", "morning coffee", "a mountain trail", "the city at night", "a summer garden",
          "an old bridge", "a train journey")


_NONCE = iter(range(1, 1 << 30))


def request(topic: str) -> dict:
    """A clean request whose prompt no earlier request shares beyond the template: llama.cpp's server reuses a
    cached prompt, so the same prompt sent twice in a row would make whichever path goes second look faster."""
    return {"model": "m", "temperature": 0, "max_tokens": 24, "seed": 1,
            "messages": [{"role": "user", "content": f"Note {next(_NONCE)}: write one sentence about {topic}."}]}


def timed(client: httpx.Client, url: str, body: dict) -> float:
    started = time.perf_counter()
    reply = client.post(url + "/v1/chat/completions", json=body, timeout=300)
    reply.raise_for_status()
    return time.perf_counter() - started


@contextlib.contextmanager
def upstream_server(url: str | None, threads: int):
    if url:
        yield url
        return
    from srllm_guard.backends.llama_server import start_llama_server
    from srllm_guard.models import default_base_gguf

    with start_llama_server(default_base_gguf(), threads=threads, n_ctx=1024,
                            extra=("--chat_format", "chatml")) as server:
        yield server.url


@contextlib.contextmanager
def proxy_server(upstream: str, threads: int):
    import uvicorn

    from srllm_guard.backends.llama_server import free_port
    from srllm_guard.config import GuardConfig
    from srllm_guard.serve import ServeConfig, create_app

    config = ServeConfig(upstream=upstream, guard=GuardConfig(n_threads=threads, timeout_s=None))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(config), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            sys.exit("the proxy did not start")
        time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


def throughput(url: str, clients: int, total: int) -> tuple[float, float]:
    bodies = [request(TOPICS[i % len(TOPICS)]) for i in range(total)]
    local = threading.local()

    def one(body: dict) -> float:
        if not hasattr(local, "client"):
            local.client = httpx.Client()
        return timed(local.client, url, body)

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        latencies = list(pool.map(one, bodies))
    return total / (time.perf_counter() - started), statistics.median(latencies)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="passes over the 8 clean prompts for the latency ratio")
    parser.add_argument("--upstream", help="an OpenAI-compatible server to use instead of starting llama.cpp")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads of the upstream and of the guard each")
    parser.add_argument("--concurrency", default="1,4,16")
    args = parser.parse_args()
    with upstream_server(args.upstream, args.threads) as upstream, proxy_server(upstream, args.threads) as proxy:
        client = httpx.Client()
        for topic in TOPICS:  # warm both: the guard's first call loads the model, the upstream caches prompts
            timed(client, upstream, request(topic))
            timed(client, proxy, request(topic))
        direct, guarded = [], []
        for _ in range(args.rounds):
            for topic in TOPICS:
                direct.append(timed(client, upstream, request(topic)))
                guarded.append(timed(client, proxy, request(topic)))
        d, g = statistics.median(direct), statistics.median(guarded)
        print(f"clean replies, {len(direct)} requests each, interleaved:")
        print(f"  direct median {d * 1000:.0f} ms; through the proxy {g * 1000:.0f} ms; "
              f"ratio proxy / direct {g / d:.2f}"
              f" (the guard adds {max(g - d, 0) * 1000:.0f} ms)")
        print("throughput (whole requests; each row: proxy, then direct to the same upstream):")
        for clients in (int(c) for c in args.concurrency.split(",")):
            total = max(16, 2 * clients)
            p_rps, p_lat = throughput(proxy, clients, total)
            d_rps, d_lat = throughput(upstream, clients, total)
            print(f"  {clients:2d} clients: proxy {p_rps:.2f} req/s (median {p_lat * 1000:.0f} ms); "
                  f"direct {d_rps:.2f} req/s (median {d_lat * 1000:.0f} ms); ratio {p_rps / d_rps:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
