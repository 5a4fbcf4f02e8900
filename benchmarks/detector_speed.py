"""Detection speed of the full model, the student detector and the cascade, side by side in one run.

    python benchmarks/detector_speed.py --adapter adapters/sr-gemma3-270m/adapter.gguf \\
        --head adapters/sr-gemma3-270m/detector.npz [--biased-share 0.05] [--sentences 120] [--threads 1]

On a realistic mix (assistant-style clean sentences, ``--biased-share`` of biased ones), prints chars/s of:
  (i)   the full LlamaCppBackend, scoring each sentence (no rewrite);
  (ii)  the student detector alone, batched and one by one;
  (iii) the cascade: scoring each sentence, and through the guard pipeline (SRGuard.check on replies of ~5
        sentences) both detection-only (rewrites off: a flagged piece is redacted) and end to end with
        rewrites (beside the same pipeline on the full backend);
and the agreement of the cascade's verdicts with the full model's on the same sentences, and the share the
cascade escalated. Target (runtime issue): detection >= 4,400 chars/s on 2 cores. This machine is noisy:
compare the figures of one run with each other.
"""

from __future__ import annotations

import argparse
import random
import time

CLEAN = [
    "To reset your password, open the account settings page and choose the option to send a reset link.",
    "The link expires after twenty-four hours, so use it soon after it arrives in your inbox.",
    "Preheat the oven to 200 degrees Celsius and line a baking tray with parchment paper.",
    "Whisk the eggs with the sugar until the mixture turns pale and doubles in volume.",
    "Python lists keep their order, while sets discard duplicates and have no guaranteed order.",
    "If you need both, keep a list and check membership against a set built from it.",
    "The Treaty of Westphalia ended the Thirty Years' War in 1648.",
    "Historians often see it as the start of the modern system of sovereign states.",
    "Mitochondria produce most of the chemical energy that a cell needs to power its reactions.",
    "Regular exercise can improve sleep quality, mood and cardiovascular health.",
    "Start with short sessions of moderate activity and increase the duration gradually.",
    "A fixed-rate mortgage keeps the same interest rate for the whole term of the loan.",
    "Compare the annual percentage rate of several lenders before you sign anything.",
    "The Great Barrier Reef is the largest coral reef system in the world.",
    "Rising sea temperatures have caused several mass bleaching events there since 1998.",
    "To change a flat tyre, loosen the wheel nuts slightly before raising the car with the jack.",
    "Tighten the nuts in a star pattern so that the wheel sits evenly against the hub.",
    "Git keeps a full history of a project, so you can return to any earlier commit.",
    "Use a new branch for each feature and merge it once the tests pass.",
    "Diwali, the Hindu festival of lights, is usually celebrated in October or November.",
    "Families light oil lamps, share sweets and visit relatives during the festival.",
    "Ramadan is the ninth month of the Islamic calendar, observed by many Muslims with fasting.",
    "The meeting has been moved to Thursday at three o'clock in the main conference room.",
    "Please bring the quarterly figures and a short summary of the open issues.",
    "Our support team answers messages on weekdays between nine in the morning and six in the evening.",
    "Most orders ship within two business days and arrive within a week.",
    "A good cover letter is short, specific and tailored to the job description.",
    "Mention one or two achievements that show the skills the employer is looking for.",
    "The speed of light in a vacuum is about 299,792 kilometres per second.",
    "Nothing with mass can reach that speed, according to the theory of relativity.",
    "Tomatoes grow best in full sun with regular watering at the base of the plant.",
    "Pinch out the side shoots of cordon varieties so that the plant puts its energy into fruit.",
    "Many women and men in the study reported that remote work reduced their commuting stress.",
    "The survey covered participants from Asia, Africa, Europe and the Americas.",
    "Older adults can learn new software quickly when the training is hands-on and paced well.",
    "The museum offers free entry on the first Sunday of every month.",
    "Audio guides are available in eight languages at the front desk.",
    "Interest on a savings account is usually calculated daily and paid monthly.",
    "Back up your files to an external drive or a cloud service at least once a week.",
    "The recipe serves four people and takes about forty minutes from start to finish.",
]
BIASED = [
    "Women are too emotional to be good engineers, so companies should not hire them.",
    "Old people are useless with technology and should not be allowed to vote on it.",
    "Those immigrants are all lazy and only come here to live on benefits.",
    "Girls are naturally bad at math, so it is a waste to push them into science.",
    "People from that neighbourhood are criminals, everyone knows it.",
    "Muslims cannot be trusted in positions of power.",
    "Fat people are lazy and have no self-control.",
    "Poor people are poor because they are stupid and do not want to work.",
]


def make_mix(n: int, biased_share: float, seed: int) -> list[str]:
    rng = random.Random(seed)
    n_biased = round(n * biased_share)
    mix = [CLEAN[i % len(CLEAN)] for i in range(n - n_biased)] + [BIASED[i % len(BIASED)] for i in range(n_biased)]
    rng.shuffle(mix)
    return mix


def rate(fn, texts) -> tuple[float, list]:
    started = time.perf_counter()
    out = fn(texts)
    return sum(map(len, texts)) / (time.perf_counter() - started), out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="base GGUF (default: embedded)")
    parser.add_argument("--adapter", default="default", help="SR-LLM adapter GGUF, 'default' (shipped) or 'none'")
    parser.add_argument("--head", required=True, help="detector .npz from trainers/distill.py")
    parser.add_argument("--threads", type=int, default=1, help="llama.cpp threads")
    parser.add_argument("--embed-threads", type=int, default=1, help="onnxruntime intra-op threads")
    parser.add_argument("--sentences", type=int, default=120)
    parser.add_argument("--biased-share", type=float, default=0.05)
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-rewrites", action="store_true", help="skip the end-to-end pipeline runs")
    args = parser.parse_args()

    from srllm_guard import SRGuard
    from srllm_guard.backends.base import BaseBackend
    from srllm_guard.backends.cascade import CascadeBackend
    from srllm_guard.backends.llamacpp import LlamaCppBackend
    from srllm_guard.detector import Detector

    full = LlamaCppBackend(model_path=args.model, adapter_path=None if args.adapter == "none" else args.adapter,
                           n_threads=args.threads)
    student = Detector.from_file(args.head, n_threads=args.embed_threads)
    cascade = CascadeBackend(student=student, full=full)
    mix = make_mix(args.sentences, args.biased_share, args.seed)
    t = args.threshold
    teacher = student.head.calibration.get("teacher", "?")
    print(f"full={full.model_id} threads={args.threads} embed_threads={args.embed_threads} head={args.head} "
          f"(teacher: {teacher}) low={student.head.low_for(t)}")
    print(f"mix: {len(mix)} sentences, {sum(map(len, mix)):,} chars, {sum(s in BIASED for s in mix)} biased "
          f"({args.biased_share:.0%}), mean {sum(map(len, mix)) / len(mix):.0f} chars")

    full.check("Warm-up sentence.", threshold=1.1, rewrite=False)
    student.score_batch(mix[:8])

    # (i) the full model
    c_full, full_scores = rate(lambda ts: [full.check(s + " ", threshold=1.1, rewrite=False).score for s in ts], mix)
    print(f"\n(i)   full model           {c_full:8,.0f} chars/s")

    # (ii) the student alone
    c_batch, student_scores = rate(lambda ts: list(student.score_batch(ts)), mix)
    c_single, _ = rate(lambda ts: [student.score(s) for s in ts], mix)
    print(f"(ii)  student, batched     {c_batch:8,.0f} chars/s\n      student, one by one  {c_single:8,.0f} chars/s")

    # (iii) the cascade
    c_cascade, cascade_scores = rate(lambda ts: [cascade.check(s + " ", threshold=t, rewrite=False).score for s in ts], mix)
    share = cascade.escalated / max(1, cascade.passed + cascade.escalated)
    full_flag = [s >= t for s in full_scores]
    cascade_flag = [s >= t for s in cascade_scores]
    agree = sum(a == b for a, b in zip(full_flag, cascade_flag)) / len(mix)
    missed = sum(f and not c for f, c in zip(full_flag, cascade_flag))
    print(f"(iii) cascade, per sentence {c_cascade:7,.0f} chars/s   escalated {share:.1%}   agreement with the full "
          f"model {agree:.1%} ({sum(full_flag)} flagged by the full model, {missed} of them passed by the cascade)")

    class DetectOnly(BaseBackend):
        """The cascade with rewrites off: the pipeline's detection path alone."""

        model_id, model_hash = cascade.model_id, cascade.model_hash

        def check(self, text, *, threshold, rewrite=True, max_new_tokens=256):
            return cascade.check(text, threshold=threshold, rewrite=False)

    replies = [" ".join(mix[i : i + 5]) for i in range(0, len(mix), 5)]
    runs = [("cascade, detection only", DetectOnly())]
    if not args.skip_rewrites:
        runs += [("cascade, with rewrites", cascade), ("full model, with rewrites", full)]
    for name, backend in runs:
        guard = SRGuard(backend=backend, threshold=t, timeout_s=None)
        before = (cascade.passed, cascade.escalated)
        c_guard, records = rate(lambda rs: [guard.check(r) for r in rs], replies)
        flagged = sum(len(r.spans) for r in records)
        esc = cascade.escalated - before[1]
        calls = cascade.passed + cascade.escalated - sum(before)
        extra = f", {esc} of {calls} cascade calls escalated" if calls else ""
        print(f"      guard pipeline, {name:26s} {c_guard:8,.0f} chars/s   ({flagged} pieces flagged{extra})")

    met = c_cascade >= 4400
    print(f"\ntarget >= 4,400 chars/s detection: cascade per sentence {c_cascade:,.0f} ({'met' if met else 'NOT met'}); "
          f"speed-up over the full model {c_cascade / c_full:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
