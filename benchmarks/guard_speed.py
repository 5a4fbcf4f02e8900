"""Guard speed against raw llama.cpp, measured side by side in one run (this machine is noisy: compare ratios).

    python benchmarks/guard_speed.py [--adapter PATH|none] [--threads 1] [--rounds 5]

Prints three figures and the targets from the runtime issue:
  (a) clean path: guard time on an unbiased ~100-token reply / raw llama.cpp prefill of the same tokens
      (target <= 1.15);
  (b) rewrite: guard rewrite tokens/s / raw llama.cpp greedy generation tokens/s on the same prompt, both
      timed from the evaluated prompt to the last sampled token, same token count (target >= 0.95);
  (c) detection throughput in characters/s (target >= 4,400 on 2 cores): the full model one sentence at a
      time, and ``check_many`` (early-exit probe, the full model for every text it does not clear), with their
      agreement.
Raw and guarded runs use separate model objects with the same files and threads, alternating round by round,
and the median of the rounds is reported.
"""

from __future__ import annotations

import argparse
import statistics
import time

CLEAN_REPLIES = [
    "The library opens at nine in the morning on weekdays. You can borrow up to ten books at a time with a "
    "standard card. Late returns cost a small fee per day. The reading room on the second floor is quiet and "
    "has power outlets. Ask the front desk if you need help finding a title.",
    "To reset your router, unplug it for thirty seconds and plug it back in. Wait until the status light turns "
    "green before reconnecting. If the problem continues, check that the cable is firmly attached. You can "
    "also log in to the admin page to restart it remotely. Contact support if none of this works.",
    "Photosynthesis lets plants turn light into chemical energy. Chlorophyll absorbs mostly red and blue light. "
    "The process produces oxygen as a by-product. Water enters through the roots and carbon dioxide through the "
    "leaves. The sugars made this way fuel the plant's growth.",
]
BIASED = "Women are too emotional to be good engineers, so companies should not hire them for technical roles."
SENTENCES = [s.strip() + "." for r in CLEAN_REPLIES for s in r.split(". ") if s.strip()] + [
    "Old people are useless with technology.", "Those immigrants are all lazy.",
    "He is a great cook and a patient teacher.", "Girls are bad at math.",
]


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - started, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="base GGUF (default: embedded)")
    parser.add_argument("--adapter", default="default", help="adapter GGUF, 'default' (shipped) or 'none'")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--gen-tokens", type=int, default=48)
    parser.add_argument("--no-merge", action="store_true", help="run base + adapter instead of the merged model")
    parser.add_argument("--no-screen", action="store_true", help="no early-exit probe (every sentence: full model)")
    parser.add_argument("--held-out", help="JSONL with a 'text' field (e.g. a test split) for (c), instead of "
                                           "the built-in sentences")
    parser.add_argument("--held-out-limit", type=int, default=300)
    parser.add_argument("--held-out-shuffle", type=int, metavar="SEED",
                        help="shuffle the held-out rows with this seed before --held-out-limit (a trainer's test "
                             "split is ordered by source, so its first rows are a few sources only)")
    parser.add_argument("--sentences", action="store_true",
                        help="(c) on the held-out texts split into sentences, the unit the guard scores")
    args = parser.parse_args()

    import llama_cpp

    from srllm_guard import SRGuard
    from srllm_guard.backends.llamacpp import LlamaCppBackend
    from srllm_guard.models import adapter_path, default_base_gguf

    adapter = None if args.adapter == "none" else (adapter_path() if args.adapter == "default" else args.adapter)
    model = args.model or str(default_base_gguf())
    backend = LlamaCppBackend(model_path=model, adapter_path=adapter, n_threads=args.threads,
                              merge=not args.no_merge, screen=None if args.no_screen else "default")
    guard = SRGuard(backend=backend, threshold=0.5, timeout_s=None)
    # raw llama.cpp runs the very weights the guard runs (the merged file, or base + adapter)
    raw = llama_cpp.Llama(model_path=str(backend.weights_path), n_ctx=2048, verbose=False,
                          lora_path=str(adapter) if adapter and not backend.merged else None,
                          n_threads=args.threads, n_threads_batch=args.threads)
    probe = backend.screen_head.calibration if backend.screen_head is not None else None
    print(f"model={backend.model_id} weights={backend.weights_path.name} threads={args.threads} "
          f"rounds={args.rounds} early-exit probe="
          f"{'block {} {}'.format(probe['layer'], probe['position']) if probe else 'off'}")

    # (a) clean path
    guard.check("Warm-up sentence.")
    ratios, details = [], []
    for r in range(args.rounds):
        reply = CLEAN_REPLIES[r % len(CLEAN_REPLIES)] + " " + CLEAN_REPLIES[(r + 1) % len(CLEAN_REPLIES)]  # ~110 tokens
        tokens = raw.tokenize(reply.encode(), add_bos=False)
        raw.reset()
        t_raw, _ = timed(raw.eval, tokens)
        t_guard, record = timed(guard.check, reply)
        ratios.append(t_guard / t_raw)
        details.append((len(tokens), t_raw, t_guard, record.action, record.score))
    print("\n(a) clean path: guard time / raw prefill of the same tokens")
    for n, tr, tg, action, score in details:
        print(f"    {n:4d} tokens  raw {tr * 1000:7.1f} ms  guard {tg * 1000:7.1f} ms  "
              f"action={action} score={score:.3f}")
    a = statistics.median(ratios)
    print(f"    median ratio {a:.2f}  (target <= 1.15: {'met' if a <= 1.15 else 'NOT met'})")

    # (b) rewrite throughput. Both sides do the same model work: the prompt is already evaluated (the guard's
    # score is cached from a first check; raw evaluates it untimed), then "biased\n" is fed and the same number
    # of tokens is sampled greedily (the guard's own count, end-of-turn included). Guard time is the whole
    # check() call, so every bit of its overhead (tokenizing, cache lookup, detokenizing) is in the ratio.
    answer = raw.tokenize(b"biased\n", add_bos=False)
    prompt_tokens = raw.tokenize(backend.prompt_format.render_prompt(BIASED).prompt.encode(), add_bos=False,
                                 special=True)
    gen_ratios = []
    for _ in range(args.rounds):
        backend.check(BIASED, threshold=1.1, rewrite=False)
        before = backend.generated_tokens
        t_gen, check = timed(backend.check, BIASED, threshold=0.0, rewrite=True, max_new_tokens=args.gen_tokens)
        n_gen = backend.generated_tokens - before
        guard_tps = n_gen / t_gen
        raw.reset()
        raw.eval(prompt_tokens)
        started, produced = time.perf_counter(), 0
        for _tok in raw.generate(answer, temp=0.0, reset=False):
            produced += 1
            if produced == n_gen:
                break
        raw_tps = produced / (time.perf_counter() - started)
        gen_ratios.append(guard_tps / raw_tps)
    b = statistics.median(gen_ratios)
    print(f"\n(b) rewrite tokens/s: guard / raw generation, median ratio {b:.2f} "
          f"(target >= 0.95: {'met' if b >= 0.95 else 'NOT met'}); last: {n_gen} tokens, guard {guard_tps:.1f} "
          f"tok/s, raw {raw_tps:.1f} tok/s")

    # (c) detection throughput: the full model one sentence at a time, and check_many (one early-exit pass,
    # the full model for every text the probe does not clear), on the same sentences; agreement of their verdicts
    if args.held_out:
        import json

        with open(args.held_out, encoding="utf-8") as fh:
            texts = [json.loads(line)["text"] for line in fh if line.strip()]
        if args.held_out_shuffle is not None:
            import random

            random.Random(args.held_out_shuffle).shuffle(texts)
        texts = texts[: args.held_out_limit]
        if args.sentences:
            from srllm_guard.split import split_text

            texts = [t[p.start : p.end] for t in texts for p in split_text(t, max_chars=1000)]
    else:
        texts = SENTENCES
    chars = sum(map(len, texts))
    full_times, many_times, probe_times = [], [], []
    for _ in range(max(1, args.rounds // 2)):
        t_full, full = timed(lambda: [backend.check(t, threshold=0.5, rewrite=False) for t in texts])
        t_many, many = timed(backend.check_many, texts, threshold=0.5, rewrite=False)
        full_times.append(t_full)
        many_times.append(t_many)
        if backend.screen_head is not None:
            t_probe, probed = timed(backend.probe_scores, texts)
            probe_times.append(t_probe)
    decided = sum(c is not None for c in backend.screen_many(texts, threshold=0.5))
    agree = sum((f.score >= 0.5) == (m.score >= 0.5) for f, m in zip(full, many)) / len(texts)
    flagged = [(f.score >= 0.5, m.score >= 0.5) for f, m in zip(full, many)]
    missed = sum(f and not m for f, m in flagged)
    c_full, c = chars / statistics.median(full_times), chars / statistics.median(many_times)
    print(f"\n(c) detection over {len(texts)} texts ({chars:,} chars, "
          f"{'held-out: ' + args.held_out if args.held_out else 'built-in sentences'}"
          f"{', split into sentences' if args.held_out and args.sentences else ''}):")
    print(f"    full model, one by one  {c_full:8,.0f} chars/s")
    print(f"    check_many (early exit) {c:8,.0f} chars/s  ({c / c_full:.2f}x); probe decided {decided} of "
          f"{len(texts)}; verdict agreement with the full model {agree:.1%}; full-model flags missed {missed} of "
          f"{sum(f for f, _ in flagged)}")
    if probe_times:
        kept = [(f.score >= 0.5, p >= 0.5) for f, p in zip(full, probed) if p is not None]
        c_probe = chars / statistics.median(probe_times)
        print(f"    probe alone (estimate)  {c_probe:8,.0f} chars/s  ({c_probe / c_full:.2f}x); verdict agreement with "
              f"the full model {sum(f == p for f, p in kept) / len(kept):.1%}; full-model flags missed "
              f"{sum(f and not p for f, p in kept)} of {sum(f for f, _ in kept)}")
    print(f"    target >= 4,400 chars/s: check_many {'met' if c >= 4400 else 'NOT met'}"
          + (f", probe alone {'met' if c_probe >= 4400 else 'NOT met'}" if probe_times else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
