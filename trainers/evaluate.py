"""Measure an adapter against issue 10's acceptance numbers, through the path users get.

    python -m trainers.evaluate --adapter runs/sr/adapter.gguf --test runs/sr/splits/test.jsonl \\
        --data-dir ../shared/data --out runs/sr/eval

Verdicts come from the guard's own path (:mod:`srllm_guard.eval.judgement`): sentence split, the early-exit
screen clearing what it is sure of and the full model deciding the rest, as the pipeline does (default
``LlamaCppBackend``: merged weights and the probe shipped next to the adapter), ``GuardConfig()``'s threshold;
rewrites from ``SRGuard.check`` (drift check, re-check, fallback).
Results are cached per sentence in ``<out>/cache.jsonl`` under the backend's ``verdict_key`` (base, adapter,
merging, scale, prompt format and probe file), so a rerun with the same files only scores what is new.

Reports (``metrics.json`` + a table on stdout, with each target):

- verdict P / R / F1 / AUC on the trainer's held-out test split, overall and per source, and on labelled
  sources no recipe trains on (the labelled Jigsaw slices);
- the functional suite's held-out side (groups, templates and attributes training never saw): flag rate per
  functionality, per held-out part, obfuscated against plain spelling; SeeGULL and HolisticBias held-out items;
- counterfactual-inhouse (never trained on): flag rate overall and per demographic column;
- parity: the same held-out stereotype templates and attributes for every group, majority groups included;
- rewrites of flagged biased items: accepted share (not fallback), a judge fitted here on labelled data (never
  on the model's outputs; by default MiniLM fine-tuned end to end, ``--judge``), SIM (all-MiniLM-L6-v2 cosine),
  and the group-and-attribute rule check.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

from srllm_guard.config import GuardConfig
from srllm_guard.errors import DataError, SRGuardError
from srllm_guard.eval.datasets import read_counterfactual
from srllm_guard.eval.detection import confusion
from srllm_guard.eval.functional import SuiteItem
from trainers.data import read_jsonl

__all__ = ["read_counterfactual_items", "verdicts", "main", "cli"]


def verdicts(pairs: list[tuple[bool, float]], threshold: float) -> dict:
    """Confusion counts, precision, recall and F1 from (gold, score) pairs; positive = biased."""
    return confusion([int(gold) for gold, _ in pairs], [score for _, score in pairs], threshold)


def read_counterfactual_items(path: str | Path, limit: int | None, seed: int = 0) -> list[tuple[str, str]]:
    """(variant column, sentence) pairs from counterfactual-inhouse.csv; a seeded sample when ``limit``."""
    if not Path(path).is_file():
        raise DataError(f"counterfactual file not found: {path}; pass --counterfactual PATH")
    items = [(col, text) for row in read_counterfactual(path)
             for col, text in [("Original", row.original), *row.variants.items()]]
    if limit and limit < len(items):
        items = random.Random(seed).sample(items, limit)
    return items


def _suite(data_dir: Path | None, per_functionality: int, per_method: int, seed: int) -> list:
    """The held-out side of the suite (+ SeeGULL / HolisticBias when their files are there, + the negative
    generalisations about things of :mod:`~srllm_guard.eval.nonhuman` and the insults at one person of
    :mod:`~srllm_guard.eval.insults`, the stories about one person of :mod:`~srllm_guard.eval.anecdotes`, the
    explanatory sentences about groups of :mod:`~srllm_guard.eval.discussion`, the threats at one person of
    :mod:`~srllm_guard.eval.threats` (veiled ones included) with their harmless side and the hedged stereotypes of
    :mod:`~srllm_guard.eval.hedged` with their twins and rejections), sampled."""
    from srllm_guard.eval import anecdotes, discussion, functional, hedged, insults, nonhuman, sources, threats
    from srllm_guard.eval.judgement import kind_of, obfuscated_copies

    groups = sources.load_groups(data_dir)
    made = functional.generate(groups, side="test", per_group=1, seed=seed, cap=per_functionality)
    if data_dir is not None and (data_dir / "seegull").is_dir():
        made += sources.seegull_items(data_dir, side="test", seed=seed)
    if data_dir is not None and (data_dir / "holistic_bias").is_dir():
        made += sources.holistic_items(data_dir, side="test", per_template=200, seed=seed)
    made += nonhuman.items(side="test", seed=seed)
    made += insults.items(side="test", seed=seed)
    made += anecdotes.items(side="test", seed=seed)
    made += discussion.items(side="test", seed=seed, twins=True)
    made += threats.items(side="test", seed=seed, veiled=True)
    made += hedged.items(side="test", seed=seed)
    by: dict[str, list] = defaultdict(list)
    for item in made:
        by[kind_of(item.source, item.functionality)].append(item)
    items = []
    for kind, group in sorted(by.items()):
        rng = random.Random(f"{seed}:suite:{kind}")
        items += rng.sample(group, min(per_functionality, len(group)))
    plain = [i for i in items if i.source == "functional"]
    return items + obfuscated_copies(plain, per_method=per_method, seed=seed)


def _fresh(data_dir: Path | None, per_functionality: int, seed: int) -> list:
    """Items of the fresh test-only families (``z`` templates, :data:`srllm_guard.eval.templates_extra.FRESH`):
    phrasings no recipe has trained on, whatever the hash split, for comparing adapters on unseen templates."""
    from srllm_guard.eval import functional, sources
    from srllm_guard.eval.templates import TEMPLATES

    fresh = [t for t in TEMPLATES if t.id.startswith("z")]
    made = functional.generate(sources.load_groups(data_dir), side="test", per_group=1, seed=seed, templates=fresh)
    by: dict[str, list] = defaultdict(list)
    for item in made:
        by[item.functionality].append(item)
    return [i for kind, group in sorted(by.items())
            for i in random.Random(f"{seed}:fresh:{kind}").sample(group, min(per_functionality, len(group)))]


UNSEEN = ("jigsaw/dummy_sample/test.csv", "jigsaw/ibm_max_sample/test_examples.csv")
"""Labelled files no training recipe reads (trainers/mix.py): a source the adapter never saw."""
NATURAL_SOURCES = ("srllm", "srllm_infer", "paradetox", "jigsaw", "wnc")
"""Test-split sources of human-written text whose flagged biased rows also go through the guard (rewrites on
natural text); ``paradetox_cannot`` is left out: its annotators found no non-toxic rewrite."""


def _unseen_rows(data_dir: Path | None, files: list[str] | None) -> list[tuple[str, bool, str]]:
    from srllm_guard.eval.datasets import read_detection

    paths = [Path(f) for f in files] if files else [data_dir / rel for rel in UNSEEN] if data_dir else []
    rows = []
    for path in paths:
        if not path.is_file():
            if files:
                raise DataError(f"--unseen {path}: file not found")
            continue
        name = "unseen:" + (path.parent.name if path.parent.name != "jigsaw" else path.stem)
        rows += [(it.text, bool(it.label), name) for it in read_detection(path)]
    return rows


def rewrite_candidate(item) -> bool:
    """Whether a suite item can be drawn for the rewrite grading: a biased template sentence in plain spelling."""
    return item.biased and item.obfuscation is None and item.source == "functional"


def rewrite_sample(suite: list, scores: list[float], threshold: float, limit: int, seed: int) -> list:
    """The suite items whose rewrites the report grades: flagged :func:`rewrite_candidate` items, a seeded sample
    of ``limit``."""
    flagged = [i for i, s in zip(suite, scores) if s >= threshold and rewrite_candidate(i)]
    return random.Random(seed).sample(flagged, min(limit, len(flagged)))


def guard_key(scorer_system: str, config: GuardConfig, faithfulness: str | None = None) -> str:
    """Cache key of a text's trip through the guard: the scorer's key (model, adapter, probe, threshold), the
    fingerprint of the guard's faithfulness check (``faithfulness``, none by default) and every ``GuardConfig``
    field that can change what the guard returns (not the ones that only bound waiting, nor
    ``min_faithfulness`` when there is no check to read it)."""
    exclude = {"audit_hook", "timeout_s", "retries", "max_concurrency", "n_threads"}
    if faithfulness is None:
        exclude.add("min_faithfulness")
    check = f"+faithfulness:{faithfulness}" if faithfulness else ""
    return scorer_system + check + ":" + json.dumps(config.model_dump(mode="json", exclude=exclude), sort_keys=True)


def _rate(flags: list[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def main(args: argparse.Namespace) -> dict:
    from tqdm.auto import tqdm

    from srllm_guard.backends.llamacpp import LlamaCppBackend
    from srllm_guard.eval import judgement as J
    from srllm_guard.eval.answered import answered_items, answered_rates
    from srllm_guard.eval.cache import ResultCache
    from srllm_guard.eval.sources import load_groups
    from srllm_guard.guard import SRGuard

    started = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data_dir = Path(args.data_dir) if args.data_dir else None
    adapter = None if args.adapter == "none" else args.adapter
    screen = None if args.screen == "none" else args.screen
    backend = LlamaCppBackend(model_path=args.model, adapter_path=adapter, n_threads=args.threads, screen=screen,
                              merge=not args.no_merge)
    config = GuardConfig(threshold=args.threshold, timeout_s=None, retries=0, rewrite_attempts=args.rewrite_attempts,
                         retry=args.retry, answered_questions=args.answered_questions,
                         min_faithfulness=args.min_faithfulness)
    check = None
    if args.faithfulness:
        from srllm_guard.faithfulness import FaithfulnessCheck

        check = FaithfulnessCheck.load(args.faithfulness)
    cache = ResultCache(out / "cache.jsonl")
    bar = tqdm(desc="sentences scored", unit="sent", dynamic_ncols=True)
    scorer = J.Scorer(backend, config, cache=cache, progress=bar.update)

    test = read_jsonl(args.test)[: args.limit] if args.test else []
    suite = _suite(data_dir, args.per_functionality, args.obfuscated_per_method, args.seed)
    fresh = _fresh(data_dir, args.per_functionality, args.seed)
    answered = answered_items(load_groups(data_dir), per_functionality=args.answered_per_functionality, seed=args.seed)
    parity = J.parity_items(n_templates=args.parity_templates, n_attributes=args.parity_attributes, seed=args.seed)
    cf = (read_counterfactual_items(args.counterfactual, args.counterfactual_limit or None)
          if args.counterfactual else [])

    rows = [(ex.text, ex.biased, ex.source) for ex in test]
    unseen = _unseen_rows(data_dir, args.unseen)
    test_scores = scorer([r[0] for r in rows])
    unseen_scores = scorer([r[0] for r in unseen])
    suite_scores = scorer([i.text for i in suite])
    fresh_scores = scorer([i.text for i in fresh])
    answered_scores = scorer([i.text for i in answered])
    parity_scores = scorer([i.text for i in parity])
    cf_scores = scorer([t for _, t in cf])
    bar.close()
    t = config.threshold

    metrics: dict = {
        "model_id": backend.model_id, "verdict_key": backend.verdict_key, "adapter_hash": backend.adapter_hash,
        "prompt_format": backend.prompt_format.version, "merged": backend.merged,
        "screen": str(backend.screen_path) if backend.screen_path else None, "threshold": t,
        "guard_config": config.model_dump(mode="json", exclude={"audit_hook"}),
        "faithfulness": ({"path": args.faithfulness, "fingerprint": check.fingerprint, "info": check.info}
                         if check is not None else None),
    }
    if rows:
        metrics["detection"] = J.detection_by_source(rows, test_scores, t)
    if unseen:
        metrics["unseen_sources"] = J.detection_by_source(unseen, unseen_scores, t)
    metrics["functional"] = J.functional_rates(suite, suite_scores, t)
    metrics["fresh_templates"] = J.functional_rates(fresh, fresh_scores, t)
    metrics["answered_questions"] = answered_rates(answered, answered_scores, t)
    sources_rates: dict[str, dict] = defaultdict(lambda: defaultdict(list))
    for item, score in zip(suite, suite_scores):
        if item.source != "functional":
            sources_rates[item.source][item.functionality].append(score >= t)
    metrics["templated_sources"] = {s: {k: {"n": len(v), "rate": _rate(v)} for k, v in d.items()}
                                    for s, d in sources_rates.items()}
    metrics["parity"] = J.parity_rates(parity, parity_scores, t)
    by_col: dict[str, list[bool]] = defaultdict(list)
    for (col, _), score in zip(cf, cf_scores):
        by_col[col].append(score >= t)
    cf_flags = [f for v in by_col.values() for f in v]
    metrics["counterfactual"] = {"n": len(cf_flags), "rate": _rate(cf_flags),
                                 "by_column": {k: _rate(v) for k, v in sorted(by_col.items())}}

    # held-out groups: stereotype statements about groups training never saw; neutral / positive naming groups
    held_group = [s >= t for i, s in zip(suite, suite_scores) if i.obfuscation is None and "group" in i.held_out
                  and i.functionality in ("stereotype", "stereotype_polite")]
    naming = [s >= t for i, s in zip(suite, suite_scores) if i.obfuscation is None
              and i.functionality in ("neutral_identity", "positive_identity", "hb_neutral")]
    metrics["held_out_groups"] = {"stereotype_flagged": {"n": len(held_group), "rate": _rate(held_group)},
                                  "neutral_naming_groups_flagged": {
                                      "n": len(naming) + len(cf_flags),
                                      "rate": _rate(naming + cf_flags), "suite_only": _rate(naming)}}

    # rewrites: flagged biased suite items, through the guard
    flagged = rewrite_sample(suite, suite_scores, t, args.rewrite_limit, args.seed)
    guard = SRGuard(backend=backend, config=config, faithfulness=check)

    def through_guard(items: list, desc: str) -> list:
        out = []
        system = guard_key(scorer.system, config, check.fingerprint if check is not None else None)
        for item in tqdm(items, desc=desc, unit="text", dynamic_ncols=True):
            hit = cache.get("guard", system, item.text)
            if hit is None:
                record = guard.check(item.text)
                hit = {"action": record.action, "output": record.text,
                       "reasons": sorted({s.reason for s in record.spans if s.reason}),
                       "rejected": [[s.original, s.rejected_rewrite] for s in record.spans if s.rejected_rewrite]}
                cache.put("guard", system, item.text, hit)
            # an entry cached before the rejected rewrites were kept does not say what they were
            rejected = [(a, b) for a, b in hit["rejected"]] if "rejected" in hit else None
            out.append(J.RewriteResult(item, hit["action"], hit["output"], hit["reasons"], rejected))
        return out

    results = through_guard(flagged, "rewrites")
    # the same on natural text: flagged biased rows of the test split, up to N per source (templates are not
    # what users' models write; the pair and comment sources are closer)
    by_source: dict[str, list] = defaultdict(list)
    for ex, score in zip(test, test_scores):  # each keeps its human rewrite, if any, as the reference
        if ex.biased and score >= t and ex.source in NATURAL_SOURCES:
            by_source[ex.source].append(SuiteItem(ex.text, True, ex.rewrite, ex.source, "natural", None, None, (),
                                                  source=ex.source))
    natural = [i for src in sorted(by_source) for i in random.Random(args.seed).sample(
        by_source[src], min(args.natural_per_source, len(by_source[src])))]
    natural_results = through_guard(natural, "rewrites (natural text)")
    judge = embedder = None
    if data_dir is not None and results and not args.no_judge:
        from srllm_guard.eval.judges import MiniLMEmbedder

        embedder = MiniLMEmbedder(n_threads=1)
        judge = J.fit_judge(data_dir, embedder, seed=args.seed, exclude=[r[0] for r in rows], kind=args.judge,
                            n_threads=args.threads, cache=out / "judge.pt" if args.judge == "finetuned" else None)
    metrics["rewrites"] = J.rewrite_outcomes(results, judge=judge, embedder=embedder)
    if natural_results:
        metrics["rewrites_natural"] = {**J.rewrite_outcomes(natural_results, judge=judge, embedder=embedder),
                                       "per_source": args.natural_per_source}
    if judge is not None:
        from srllm_guard.eval import anecdotes, discussion, hedged, insults, nonhuman, threats
        from srllm_guard.eval.judges import judge_accuracy

        # the judge's own quality on labelled text it was not fitted on: held-out suite items, plain spelling (not
        # the things, the insults, the stories, the explanations, the threats at one person or the hedges, which came
        # after the cards it is compared across)
        later = (nonhuman.SOURCE, insults.SOURCE, anecdotes.SOURCE, discussion.SOURCE, threats.SOURCE, hedged.SOURCE)
        held = [i for i in suite if i.obfuscation is None and i.source not in later]
        metrics["rewrites"]["judge_accuracy_held_out_suite"] = judge_accuracy(
            judge, [int(i.biased) for i in held], [i.text for i in held])
        # and on hand-written minimal pairs (a biased sentence and a benign one on its topic, naming its group)
        from srllm_guard.eval.judge_pairs import JUDGE_PAIRS

        metrics["rewrites"]["judge_accuracy_minimal_pairs"] = judge_accuracy(
            judge, [1] * len(JUDGE_PAIRS) + [0] * len(JUDGE_PAIRS),
            [b for b, _ in JUDGE_PAIRS] + [g for _, g in JUDGE_PAIRS])
    metrics["summary"] = _summary(metrics)
    metrics["wall_time_s"] = round(time.perf_counter() - started, 1)
    metrics["command"] = "python -m trainers.evaluate " + " ".join(sys.argv[1:])
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    # each item's score, so that two evaluations of the same rows can be compared item by item (trainers.compare)
    for name, items, scores in (("scores", suite, suite_scores), ("scores_fresh", fresh, fresh_scores),
                                ("scores_answered", answered, answered_scores)):
        (out / f"{name}.jsonl").write_text("".join(
            json.dumps({"text": i.text, "functionality": i.functionality, "source": i.source,
                        "held_out": i.held_out, "obfuscation": i.obfuscation, "group": i.group, "biased": i.biased,
                        "score": s}) + "\n" for i, s in zip(items, scores)))
    cache.close()
    return metrics


def _summary(m: dict) -> dict:
    """The figures issue 10 names, each with its target and whether it is met."""
    from srllm_guard.eval.judgement import TARGETS

    f = m["functional"]["by_functionality"]
    gaps = [abs(v["gap"]) for v in m["functional"]["obfuscation"].values() if v["gap"] is not None]
    values = {
        "f1_overall": m.get("detection", {}).get("overall", {}).get("f1"),
        "heldout_group_stereotype_flagged": m["held_out_groups"]["stereotype_flagged"]["rate"],
        "neutral_naming_groups_flagged": m["held_out_groups"]["neutral_naming_groups_flagged"]["rate"],
        "parity_spread": m["parity"]["spread"],
        "threat_flagged": f.get("threat", {}).get("rate"),
        "dehumanisation_flagged": f.get("dehumanisation", {}).get("rate"),
        "threat_at_person_flagged": f.get("threats:threat", {}).get("rate"),
        "threat_lookalike_flagged": f.get("threats:threat_lookalike", {}).get("rate"),
        "hedged_stereotype_flagged": f.get("hedged:hedged_stereotype", {}).get("rate"),
        "hedged_individual_flagged": f.get("hedged:hedged_individual", {}).get("rate"),
        "hedged_rejected_flagged": f.get("hedged:hedged_rejected", {}).get("rate"),
        "counter_speech_flagged": f.get("counter_speech", {}).get("rate"),
        "negated_stereotype_flagged": f.get("negated_stereotype", {}).get("rate"),
        "obfuscation_gap_max": max(gaps) if gaps else None,
        "accepted_rewrite_share": m["rewrites"].get("accepted_rewrite_share"),
        "accepted_rewrite_share_natural": m.get("rewrites_natural", {}).get("accepted_rewrite_share"),
        "judge_not_biased_share": m["rewrites"].get("judge_not_biased_share"),
        "sim_median": m["rewrites"].get("sim_median"),
        "still_asserts_share": m["rewrites"].get("still_asserts", {}).get("share"),
    }
    out = {}
    for name, value in values.items():
        op, target = TARGETS[name]
        met = None if value is None else (value >= target if op == ">=" else value <= target)
        out[name] = {"value": value, "target": f"{op} {target}", "met": met}
    return out


def _print(metrics: dict) -> None:
    print(f"\n{'figure':36s} {'value':>8s}  target     met")
    for name, row in metrics["summary"].items():
        value = "-" if row["value"] is None else f"{row['value']:.3f}"
        print(f"{name:36s} {value:>8s}  {row['target']:9s}  {row['met']}")
    for title, rows in (("flag rate per functionality (held-out side, plain spelling)",
                         metrics["functional"]["by_functionality"]),
                        ("the same, items asked as a question", metrics["functional"].get("questions")),
                        ("fresh test-only templates (z families, never in any training mix)",
                         metrics.get("fresh_templates", {}).get("by_functionality")),
                        ("held-out questions followed by one more sentence (evaluation-only follow-ups)",
                         metrics.get("answered_questions", {}).get("summary"))):
        if rows:
            print(f"\n{title}:")
            for name, row in rows.items():
                ci = row.get("ci95")
                interval = f"  [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else ""
                print(f"  {name:22s} {row['rate']:.3f}{interval}  (n={row['n']})")
    for key, title in (("rewrites", "template rewrites"), ("rewrites_natural", "natural-text rewrites")):
        ref = metrics.get(key, {}).get("references", {})
        if "judge_not_biased_share" in ref:
            nan = float("nan")
            print(f"\n{title}, the same {ref['n']} items: judge not biased / SIM median: reference rewrites "
                  f"{ref['judge_not_biased_share']:.3f} / {ref.get('sim_median', nan):.3f}, the guard's "
                  f"{ref['judge_not_biased_share_of_outputs']:.3f} / {ref.get('sim_median_of_outputs', nan):.3f}")
    if "detection" in metrics:
        print("\nverdict per source (test split; unseen: sources no recipe trains on):")
        blocks = {**metrics["detection"]["by_source"], **metrics.get("unseen_sources", {}).get("by_source", {})}
        for name, row in blocks.items():
            f1 = "-" if row["f1"] is None else f"{row['f1']:.3f}"
            rec = "-" if row["recall"] is None else f"{row['recall']:.3f}"
            fpr = row["fpr"] if row["fpr"] is None else round(row["fpr"], 3)
            print(f"  {name:18s} F1 {f1}  recall {rec}  fpr {fpr}"
                  f"  (n={row['n']})")


def cli(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trainers.evaluate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--adapter", default="default", help="adapter GGUF, 'default' (the shipped one) or 'none'")
    parser.add_argument("--model", help="base GGUF (default: the embedded Gemma 3 270M)")
    parser.add_argument("--screen", default="default", help="early-exit probe: 'default' (next to the adapter), "
                                                             "a .npz path, or 'none'")
    parser.add_argument("--no-merge", action="store_true", help="run base + adapter instead of the merged file")
    parser.add_argument("--test", help="test split JSONL written by the trainer")
    parser.add_argument("--data-dir", help="folder shaped like shared/data (SeeGULL, HolisticBias, judge data)")
    parser.add_argument("--counterfactual", help="counterfactual-inhouse.csv (default: under --data-dir)")
    parser.add_argument("--unseen", action="append", help="labelled detection file(s) of a source no recipe trains on "
                                                          "(default: the labelled Jigsaw slices under --data-dir)")
    parser.add_argument("--counterfactual-limit", type=int, default=1100, help="seeded sample size (0: all)")
    parser.add_argument("--per-functionality", type=int, default=120, help="held-out suite items per functionality")
    parser.add_argument("--obfuscated-per-method", type=int, default=30,
                        help="items per biased functionality disguised by each obfuscation")
    parser.add_argument("--parity-templates", type=int, default=6, help="held-out stereotype templates for parity")
    parser.add_argument("--parity-attributes", type=int, default=8, help="attributes per parity template")
    parser.add_argument("--rewrite-limit", type=int, default=300, help="flagged items sent through the guard")
    parser.add_argument("--natural-per-source", type=int, default=40,
                        help="flagged biased test-split rows per natural source sent through the guard")
    parser.add_argument("--no-judge", action="store_true", help="skip the MiniLM judge and SIM")
    parser.add_argument("--judge", default="finetuned", choices=("finetuned", "mlp"),
                        help="the rewrite judge: MiniLM fine-tuned end to end (default) or an MLP on its embeddings")
    parser.add_argument("--limit", type=int, default=None, help="evaluate only the first N test items")
    parser.add_argument("--threshold", type=float, default=GuardConfig().threshold)
    parser.add_argument("--rewrite-attempts", type=int, default=GuardConfig().rewrite_attempts,
                        help="rewrites the guard may write for one flagged piece (GuardConfig.rewrite_attempts)")
    parser.add_argument("--retry", choices=("bar_words", "no_copy"), default=GuardConfig().retry,
                        help="how a further attempt is written (GuardConfig.retry)")
    parser.add_argument("--answered-questions", action=argparse.BooleanOptionalAction,
                        default=GuardConfig().answered_questions,
                        help="judge a flagged question with the sentence after it (GuardConfig.answered_questions; "
                             "default: the guard's default)")
    parser.add_argument("--faithfulness", default=None, metavar="FOLDER",
                        help="a faithfulness check (trainers.faithfulness) the guard runs on every rewrite")
    parser.add_argument("--min-faithfulness", type=float, default=GuardConfig().min_faithfulness,
                        help="lowest P(faithful) of a used rewrite (GuardConfig.min_faithfulness; read only with "
                             "--faithfulness)")
    parser.add_argument("--answered-per-functionality", type=int, default=120,
                        help="held-out questions per family, each followed by every kind of follow-up (120 from "
                             "stop 48; at 40 a rate of 7 of 40 has a 95%% interval of 8.7-31.9%%)")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, help="folder for metrics.json, scores*.jsonl (each item's score: the "
                        "suite, the fresh templates, the answered questions) and cache.jsonl")
    args = parser.parse_args(argv)
    if args.counterfactual is None and args.data_dir:
        default = Path(args.data_dir) / "sr_llm_inhouse" / "counterfactual-inhouse.csv"
        args.counterfactual = str(default) if default.is_file() else None
    try:
        metrics = main(args)
    except SRGuardError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _print(metrics)
    return 0


if __name__ == "__main__":
    raise SystemExit(cli())
