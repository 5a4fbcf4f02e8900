"""Train the rewrite faithfulness check (:mod:`srllm_guard.faithfulness`) on CPU.

Faithful pairs are rewrites people or the templates wrote: ParaDetox's (toxic, neutral) pairs whose toxic side
is not in the test split, and the training split's pairs of the other sources (the SR-LLM pairs, WNC, SeeGULL,
HolisticBias, the functional templates), plus originals with one sentence left out (dropping a claim is
acceptable). Each faithful pair gives one unfaithful pair, its rewrite corrupted the way bad model rewrites
go wrong (read from the evaluation's rewrites, ``scripts/rewrite_diff.py``):

* ``negate``: a negation added after an auxiliary, or an existing one removed ("is a racist" -> "is not a racist");
* ``antonym``: a word swapped for its opposite ("a bad guy" -> "a good guy", "asleep" -> "awake");
* ``swap``: a content word the original and rewrite share swapped for an unrelated one ("held my ..." ->
  "held my hand", "twenty-year-old people" -> "women");
* ``invent``: a sentence replaced by another pair's sentence, or (for natural text, where no group was
  generalised about) by one of the templates' stock lines ("Feral cats are individuals, and ..."), or another
  pair's sentence appended.

The template sources get no stock-line negatives: for a stereotype statement the stock line is the wanted rewrite.
Deterministic for a seed. One epoch of ~23,000 pairs takes ~25 minutes on two cores::

    python -m trainers.faithfulness --data-dir ../shared/data --train-split runs/v16ctl/splits/train.jsonl \\
        --test-split runs/v16ctl/splits/test.jsonl --out adapters/faithful-minilm-v1 --threads 2
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from srllm_guard.eval.functional import capitalise

if TYPE_CHECKING:
    from srllm_guard.faithfulness import FaithfulnessCheck

__all__ = ["build_pairs", "corrupt", "fit"]

TEMPLATE_SOURCES = ("functional", "seegull", "holistic_bias", "srllm")
"""Sources whose originals generalise about a group, where a stock line is a faithful rewrite."""
CAPS = {"paradetox": 5000, "functional": 4000, "seegull": 727, "holistic_bias": 222, "srllm": 320, "wnc": 396,
        "drop": 800}
"""Faithful pairs taken per source (``drop``: originals of neutral natural rows with one sentence left out)."""

_SENT = re.compile(r"(?<=[.!?])\s+")
_AUX = re.compile(r"\b(is|are|was|were|will|can|do|does|did|has|have|would|should|could|must)\b( not\b|n't\b)?",
                  re.I)
_NOT = re.compile(r"\b(not|never|no longer) ", re.I)
_WORD = re.compile(r"[A-Za-z][a-z]{3,}")
_STOP = frozenset("""this that with they them their there then than have from what when were will would your about
which while where just like been being into also only some more most very such these those other because could
should people person""".split())
_ANTONYMS = """good bad|right wrong|smart stupid|best worst|love hate|true false|always never|more less|agree disagree
|win lose|won lost|strong weak|rich poor|safe dangerous|honest dishonest|legal illegal|happy sad|easy hard|clean dirty
|awake asleep|guilty innocent|friend enemy|success failure|support oppose|supports opposes|supported opposed
|accept reject|allow forbid|increase decrease|fair unfair|possible impossible|responsible irresponsible
|competent incompetent|moral immoral|kind cruel|smarter dumber|better worse|positive negative|hero villain
|protect attack|respect disrespect|trust distrust|help hurt|real fake|important unimportant|welcome unwelcome
|open closed|wise foolish|polite rude|calm angry|capable incapable|useful useless|sane insane|peaceful violent
|loyal disloyal|correct incorrect|healthy sick|fit unfit|proud ashamed|beautiful ugly|worthy unworthy|able unable
|likely unlikely|many few|most least|young old|alive dead|success failure|rise fall|remember forget|before after"""
_OPPOSITE = {a: b for pair in _ANTONYMS.replace("\n", "").split("|") for a, b in (pair.split(), pair.split()[::-1])}
_STOCK = ("{} are not all the same, and I should not generalize about them.",
          "{} are individuals, and generalizing about them is unfair.",
          "I am angry, but no one, including {}, should be hurt.", "{} deserve respect, like everyone else.",
          "I think it's fair to say that {} are individuals, like everyone else.")
_NOUN = re.compile(r"\b([A-Z][a-z]+s|people|men|women|kids|cops|liberals|democrats|republicans|cats|dogs)\b")


def _negate(text: str, rng: random.Random) -> str | None:
    if _NOT.search(text) and rng.random() < 0.5:
        return _NOT.sub("", text, count=1)
    found = list(_AUX.finditer(text))
    if not found:
        return None
    m = rng.choice(found)
    return text[: m.start()] + (m.group(1) if m.group(2) else m.group(1) + " not") + text[m.end():]


def _replace_word(text: str, m: re.Match[str], new: str) -> str:
    if m.group(0)[0].isupper():
        new = capitalise(new)
    return text[: m.start()] + new + text[m.end():]


def _antonym(text: str, rng: random.Random) -> str | None:
    found = [m for m in re.finditer(r"[A-Za-z]+", text) if m.group(0).lower() in _OPPOSITE]
    if not found:
        return None
    m = rng.choice(found)
    return _replace_word(text, m, _OPPOSITE[m.group(0).lower()])


def _swap(original: str, text: str, rng: random.Random, vocabulary: list[str]) -> str | None:
    shared = {w.lower() for w in _WORD.findall(original)}
    found = [m for m in _WORD.finditer(text) if m.group(0).lower() in shared and m.group(0).lower() not in _STOP]
    if not found:
        return None
    m = rng.choice(found)
    new = rng.choice(vocabulary)
    return None if new == m.group(0).lower() else _replace_word(text, m, new)


def _invent(original: str, text: str, source: str, rng: random.Random, others: list[str]) -> str:
    sentences = _SENT.split(text)
    i = rng.randrange(len(sentences))
    k = rng.random()
    if source not in TEMPLATE_SOURCES and k < 0.35:
        m = _NOUN.search(original)
        line = rng.choice(_STOCK).format(m.group(1) if m else "people")
        sentences[i] = capitalise(line)
    elif k < 0.75:
        sentences[i] = rng.choice(_SENT.split(rng.choice(others)))
    else:
        sentences.insert(i + 1, rng.choice(_SENT.split(rng.choice(others))))
    return " ".join(sentences)


CORRUPTIONS = (("negate", 0.35), ("antonym", 0.5), ("swap", 0.7))
"""Cumulative shares of the pairs each corruption is tried on; one that finds nothing to change, and the rest
(30%), become ``invent``. (Trying the others in turn before ``invent``, with antonyms and changed figures at 30%
and 10% of the pairs, scored better on synthetic antonyms but worse on the hand-labelled rewrites: see the
check's card.)"""


def corrupt(original: str, rewrite: str, source: str, rng: random.Random, others: list[str],
            vocabulary: list[str]) -> tuple[str, str]:
    """An unfaithful version of ``rewrite`` and the kind of corruption (see the module docstring)."""
    k = rng.random()
    for kind, upto in CORRUPTIONS:
        if k < upto:
            new = (_negate(rewrite, rng) if kind == "negate" else _antonym(rewrite, rng) if kind == "antonym"
                   else _swap(original, rewrite, rng, vocabulary))
            if new and new != rewrite:
                return new, kind
            break
    return _invent(original, rewrite, source, rng, others), "invent"


def build_pairs(data_dir: Path, train_split: Path, test_split: Path, *, seed: int = 0,
                caps: dict[str, int] | None = None) -> list[dict]:
    """Faithful and corrupted pairs (``a`` original, ``b`` rewrite, ``y`` 1 = faithful, ``source``, ``kind``),
    shuffled. Nothing of the test split is read except its texts, to leave them out."""
    caps = {**CAPS, **(caps or {})}
    rng = random.Random(seed)
    with test_split.open(encoding="utf-8") as fh:
        test = {json.loads(line)["text"] for line in fh if line.strip()}
    with train_split.open(encoding="utf-8") as fh:
        train = [json.loads(line) for line in fh if line.strip()]
    faithful: list[tuple[str, str, str]] = []
    with (data_dir / "paradetox" / "paradetox.tsv").open(encoding="utf-8") as fh:
        paradetox = []
        for row in csv.DictReader(fh, delimiter="\t"):
            rewrite = next((row[k] for k in ("neutral1", "neutral2", "neutral3")
                            if row.get(k) and row[k].strip().lower() != row["toxic"].strip().lower()), None)
            if rewrite and row["toxic"] not in test:
                paradetox.append((row["toxic"], rewrite, "paradetox"))
    rng.shuffle(paradetox)
    faithful += paradetox[: caps["paradetox"]]
    by_source: dict[str, list[tuple[str, str, str]]] = {}
    for row in train:
        if row.get("rewrite") and row["source"] != "paradetox":
            by_source.setdefault(row["source"], []).append((row["text"], row["rewrite"], row["source"]))
    for source in sorted(by_source):
        rows = by_source[source]
        rng.shuffle(rows)
        faithful += rows[: caps.get(source, 0)]
    neutral = [row["text"] for row in train if not row["biased"] and row["source"] in ("jigsaw", "bold", "answered")]
    rng.shuffle(neutral)
    dropped = 0
    for text in neutral:
        sentences = _SENT.split(text)
        if len(sentences) >= 2 and dropped < caps["drop"]:
            i = rng.randrange(len(sentences))
            faithful.append((text, " ".join(sentences[:i] + sentences[i + 1:]), "drop"))
            dropped += 1
    others = [rewrite for _, rewrite, _ in faithful]
    vocabulary = sorted({w.lower() for text in others for w in _WORD.findall(text)} - _STOP)
    pairs = []
    for original, rewrite, source in faithful:
        pairs.append({"a": original, "b": rewrite, "y": 1, "source": source, "kind": "faithful"})
        bad, kind = corrupt(original, rewrite, source, rng, others, vocabulary)
        pairs.append({"a": original, "b": bad, "y": 0, "source": source, "kind": kind})
    rng.shuffle(pairs)
    return pairs


def fit(pairs: list[dict], *, lr: float = 5e-4, batch_size: int = 32, held_out: float = 0.05, seed: int = 0,
        n_threads: int | None = None, progress: bool = True) -> FaithfulnessCheck:
    """One epoch over ``pairs`` less a held-out share (scored at the end, per corruption kind, into ``info``):
    AdamW on the LoRA weights and the head, linear warm-up over 50 steps then linear decay, gradients clipped at 1.
    The held-out pairs are the first of the shuffled list, so a held-out corruption's original may have been seen
    (faithful) in training: that AUC is an optimistic check of fit, hand-labelled rewrites are the measure."""
    import torch
    from sklearn.metrics import roc_auc_score
    from tqdm.auto import tqdm

    from srllm_guard.eval.judges import bce_step
    from srllm_guard.faithfulness import FaithfulnessCheck

    if n_threads:
        torch.set_num_threads(n_threads)
    n_held = max(2, int(len(pairs) * held_out))
    train, held = pairs[n_held:], pairs[:n_held]
    check = FaithfulnessCheck.new(seed=seed)
    params = [p for p in check.model.parameters() if p.requires_grad] + list(check.head.parameters())
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    steps = max(1, len(train) // batch_size)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 50) * max(0.0, 1 - s / steps))
    check.model.train()
    started = time.monotonic()
    with tqdm(total=steps, desc="fitting the faithfulness check", unit="step", disable=not progress) as bar:
        for k in range(steps):
            batch = train[k * batch_size : (k + 1) * batch_size]
            loss = bce_step(check.logits([(p["a"], p["b"]) for p in batch]), [p["y"] for p in batch], opt, sched,
                            params)
            bar.update(1)
            bar.set_postfix(loss=f"{loss:.3f}")
    check.model.eval()
    scores = check.score([(p["a"], p["b"]) for p in held])
    auc = {"all": roc_auc_score([p["y"] for p in held], scores)}
    for kind in sorted({p["kind"] for p in held} - {"faithful"}):
        idx = [i for i, p in enumerate(held) if p["kind"] in (kind, "faithful")]
        auc[kind] = roc_auc_score([held[i]["y"] for i in idx], [scores[i] for i in idx])
    check.info.update({"pairs": len(train), "held_out": len(held), "steps": steps, "lr": lr,
                       "batch_size": batch_size, "minutes": round((time.monotonic() - started) / 60, 1),
                       "held_out_auc": {k: round(v, 4) for k, v in auc.items()},
                       "faithful_by_source": dict(Counter(p["source"] for p in train if p["y"])),
                       "corruptions": dict(Counter(p["kind"] for p in train if not p["y"]))})
    return check


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", required=True, type=Path, help="../shared/data (reads paradetox/)")
    parser.add_argument("--train-split", required=True, type=Path, help="the adapter's training split (jsonl)")
    parser.add_argument("--test-split", required=True, type=Path, help="its test split: these texts are left out")
    parser.add_argument("--out", required=True, type=Path, help="folder to write the check to")
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = parser.parse_args()
    problems = [f"{flag}: {path} not found" for flag, path in (("--data-dir", args.data_dir / "paradetox"),
                ("--train-split", args.train_split), ("--test-split", args.test_split)) if not path.exists()]
    if problems:
        raise SystemExit("; ".join(problems))
    pairs = build_pairs(args.data_dir, args.train_split, args.test_split, seed=args.seed)
    check = fit(pairs, lr=args.lr, seed=args.seed, n_threads=args.threads)
    check.info.update({"train_split": str(args.train_split), "test_split": str(args.test_split)})
    check.save(args.out)
    print(json.dumps(check.info["held_out_auc"]))


if __name__ == "__main__":
    main()
