"""Throughput of the guard through the remote backend, and verdict agreement llamacpp / hf / remote.

    python benchmarks/remote_throughput.py [--callers 1,4,16] [--threads 1] [--skip-hf]

Starts ``python -m llama_cpp.server`` on 127.0.0.1 (a free port) with the embedded Gemma 3 270M plus the shipped
default adapter (``srllm_guard.models.DEFAULT_ADAPTER``) when present, else the bare base (and says so), then:

1. agreement: every sentence of ``agreement.SENTENCES`` scored by llamacpp (in-process), hf (CPU, float32)
   and remote (the server), pairwise verdict agreement and |dP(biased)|;
2. throughput: ``SRGuard.check`` through a ``RemoteBackend`` from 1, 4 and 16 concurrent caller threads,
   texts per second (every caller works through its share of ``--texts`` sentences).

The server runs with ``logits_all`` (needed for logprobs) and serves one request at a time, so concurrency
hides only the client and network time. The bare base puts neither 'biased' nor 'neutral' in its top 20 (nor
top 1000) first tokens, so without the adapter the agreement run asks for the whole vocabulary
(``top_logprobs=262144``: exact, ~3 s a request) and the throughput runs (top 20, as with an adapter: the same
server work per request) end in backend errors, which are counted and reported.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from agreement import SENTENCES, local_backends, report, scores, shipped_adapter  # noqa: E402

from srllm_guard import GuardConfig, SRGuard  # noqa: E402
from srllm_guard.backends.llama_server import start_llama_server  # noqa: E402
from srllm_guard.backends.remote import RemoteBackend  # noqa: E402
from srllm_guard.errors import BackendError  # noqa: E402
from srllm_guard.models import default_base_gguf  # noqa: E402


def throughput(guard: SRGuard, callers: int, n_texts: int) -> tuple[float, int]:
    """Texts per second of ``guard.check`` from ``callers`` threads, and how many ended in a backend error."""
    texts = [SENTENCES[i % len(SENTENCES)] for i in range(n_texts)]
    started = time.perf_counter()
    with ThreadPoolExecutor(callers) as pool:
        records = list(pool.map(guard.check, texts))
    elapsed = time.perf_counter() - started
    errors = sum(1 for r in records if getattr(r, "error", None))
    return n_texts / elapsed, errors


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--callers", default="1,4,16", help="comma-separated concurrent caller counts")
    parser.add_argument("--texts", type=int, default=16, help="texts per throughput run (at least the callers)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads of every backend and the server")
    parser.add_argument("--top-logprobs", type=int, default=None)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--skip-hf", action="store_true")
    parser.add_argument("--held-out", metavar="JSONL", help="agreement on these texts (a trainer split, e.g. "
                        "runs/<run>/splits/test.jsonl) instead of the built-in sentences")
    parser.add_argument("--held-out-limit", type=int, default=100, help="first N texts of --held-out")
    args = parser.parse_args(argv)

    adapter, _ = shipped_adapter()
    top = args.top_logprobs or 20
    top_agree = args.top_logprobs or (20 if adapter else 262144)
    print(f"server: {default_base_gguf().name} + {adapter or 'no adapter (bare base: scores are not bias scores)'}"
          f", {args.threads} thread(s), top_logprobs={top_agree} for agreement, {top} for throughput")
    sentences = SENTENCES
    if args.held_out:
        with open(args.held_out, encoding="utf-8") as fh:
            sentences = [json.loads(line)["text"] for line in fh if line.strip()][: args.held_out_limit]
    try:
        server = start_llama_server(default_base_gguf(), adapter=adapter, threads=args.threads, n_ctx=2048)
    except BackendError as exc:
        raise SystemExit(str(exc)) from None
    url = server.url
    with server:
        remote = RemoteBackend(base_url=url, timeout_s=300, top_logprobs=top)
        agree = RemoteBackend(base_url=url, timeout_s=300, top_logprobs=top_agree)
        backends = {**local_backends(threads=args.threads, skip_hf=args.skip_hf), "remote": agree}
        print("\n== scores")
        results = {}
        for name, backend in backends.items():
            results[name], per_text = scores(name, backend.score, sentences)
            print(f"  {name:<9} {per_text:.3f} s/text")
        print(f"\n== verdict agreement at threshold {args.threshold} ({len(sentences)} sentences)")
        report(results, args.threshold)

        print("\n== guard throughput through the remote backend")
        config = GuardConfig(threshold=args.threshold, max_new_tokens=args.max_new_tokens, timeout_s=300,
                             on_backend_error="fail_open", retries=0)
        guard = SRGuard(config=config, backend=remote)
        for callers in (int(c) for c in args.callers.split(",")):
            rate, errors = throughput(guard, callers, max(args.texts, callers))
            print(f"  {callers:>2} caller(s): {rate:6.2f} texts/s" + (f"  ({errors} backend errors)" if errors else ""))


if __name__ == "__main__":
    main()
