"""Compare evaluations of adapters run on the same rows, item by item where the rows allow it.

    python -m trainers.compare runs/v55/full runs/v58/full [runs/v55s2/full ...] [--alpha 0.05] [--all]

Each folder is a ``trainers.evaluate --out`` folder; the first is the reference. Two kinds of rows:

- **paired** (``scores.jsonl``: the functional suite and the templated sources; ``scores_fresh.jsonl``: the fresh
  templates; ``scores_answered.jsonl``: the answered questions; one score per item, see :data:`SETS`): the same items
  were scored by both adapters, so each functionality is compared by its discordant items (``lost``: flagged by the
  reference only; ``gained``: by the other only) with McNemar's exact test (a two-sided binomial test on the discordant
  pairs, ``scipy.stats.binomtest``). This tells far smaller changes apart than two separate 95% intervals do: 120
  items at 85% against 95% have overlapping Wilson intervals, while 12 discordant items all one way give p = 0.0005.
- **unpaired** (every other rate in ``metrics.json`` that carries ``n`` and ``flagged``: the answered questions'
  totals over families, accepted rewrites by functionality, held-out groups, and every rate of a per-item file one
  of the two folders lacks): only the two rates and their Wilson intervals are at hand, marked ``apart`` when the
  intervals do not overlap.

A difference this test calls real is real for *these two adapters*; whether it is more than what training the same
recipe again with another ``train.seed`` gives is a question for a replicate: pass it as a third folder and read its
row against the reference's beside the candidate's. Written at stop 53, when the stages after v14 moved figures by
5-10 points in both directions and there was no way to tell which of them a second run of v14's recipe would move too.

Only rows with a difference at ``--alpha`` (paired) or intervals apart (unpaired) are printed, unless ``--all``.
An evaluation has 77 paired rows (35 of the suite, 42 of the fresh templates and answered questions), so at
``--alpha 0.05`` about four rows are expected by chance alone: a lone row near 0.05 is no finding, a cost that recurs
across candidates (or a p far below it) is.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from scipy.stats import binomtest

from srllm_guard.eval.judgement import kind_of, wilson

__all__ = ["SETS", "Paired", "Unpaired", "load_flags", "row_name", "paired", "unpaired", "main"]

Key = tuple[str, str, int]
"""(row name, text, occurrence): an item of ``scores.jsonl`` (a few texts occur twice); see :func:`row_name`."""


@dataclass(frozen=True)
class Paired:
    name: str
    """See :func:`row_name`."""
    n: int
    ref: int
    """Items the reference flags."""
    other: int
    lost: int
    """Flagged by the reference, not by the other."""
    gained: int
    """Flagged by the other, not by the reference."""

    @property
    def p(self) -> float:
        """McNemar's exact two-sided p-value (1.0 with no discordant item)."""
        d = self.lost + self.gained
        return float(binomtest(self.gained, d, 0.5).pvalue) if d else 1.0


@dataclass(frozen=True)
class Unpaired:
    name: str
    ref: tuple[int, int]
    """(flagged, n) of the reference."""
    other: tuple[int, int]

    @property
    def apart(self) -> bool:
        """The two 95% Wilson intervals do not overlap."""
        a, b = wilson(*self.ref), wilson(*self.other)
        return a is not None and b is not None and (a[1] < b[0] or b[1] < a[0])


SETS: dict[str, tuple[str, tuple[str, ...]]] = {
    "scores": ("", ("functional.",)),
    "scores_fresh": ("fresh: ", ("fresh_templates.",)),
    "scores_answered": ("answered: ", ("answered_questions.by_functionality.",)),
}
"""The per-item files ``trainers.evaluate`` writes (``<name>.jsonl``): the prefix of their rows' names, and the
``metrics.json`` rates they cover (left out of the unpaired rows when both folders have the file). Evaluations before
stop 53 wrote ``scores.jsonl`` only."""

Flags = dict[str, dict[Key, bool]]
"""Per-item flags by set (a key of :data:`SETS`)."""


def load_flags(folder: Path) -> Flags:
    """Each item of ``folder``'s per-item files flagged or not at the evaluation's threshold (``metrics.json``)."""
    scores, metrics = folder / "scores.jsonl", folder / "metrics.json"
    for f in (scores, metrics):
        if not f.is_file():
            raise SystemExit(f"{f} is missing: pass the --out folder of a finished `python -m trainers.evaluate` run")
    threshold = float(json.loads(metrics.read_text())["threshold"])
    out: Flags = {}
    for name, (prefix, _) in SETS.items():
        path = folder / f"{name}.jsonl"
        if not path.is_file():
            continue
        seen: Counter[tuple[str, str]] = Counter()
        flags = out[name] = {}
        for line in path.read_text().splitlines():
            row = json.loads(line)
            key = (prefix + row_name(row["source"], row["functionality"], row["obfuscation"]), row["text"])
            flags[(key[0], key[1], seen[key])] = row["score"] >= threshold
            seen[key] += 1
    return out


def row_name(source: str, functionality: str, obfuscation: str | None) -> str:
    """The functionality as ``metrics.json``'s ``by_functionality`` names it (``source:functionality`` outside the
    functional suite; those rates are over plain spellings), with ``, obfuscated`` for the obfuscated copies."""
    name = functionality if source == "answered" else kind_of(source, functionality)
    return name if obfuscation is None else f"{name}, obfuscated"


def paired(ref: Flags, other: Flags) -> list[Paired]:
    """One :class:`Paired` per functionality of each set both have; raises when the two evaluations did not score
    the same items."""
    cells: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for name in ref.keys() & other.keys():
        a, b = ref[name], other[name]
        if a.keys() != b.keys():
            only_ref, only_other = len(a.keys() - b.keys()), len(b.keys() - a.keys())
            raise SystemExit(f"the evaluations scored different items in {name}.jsonl ({only_ref} only in the "
                             f"reference, {only_other} only in the other): compare runs evaluated on the same --test "
                             "split with the same code")
        for key, r in a.items():
            o = b[key]
            c = cells[key[0]]
            c[0] += 1
            c[1] += r
            c[2] += o
            c[3] += r and not o
            c[4] += o and not r
    return [Paired(name, *c) for name, c in sorted(cells.items())]


_SILENT = frozenset({"by_functionality", "summary"})
"""Levels of ``metrics.json`` left out of a rate's printed name."""


def _rates(node: object, path: str = "") -> Iterator[tuple[str, str, tuple[int, int]]]:
    """(path, printed name, (flagged, n)) of each rate under ``node``."""
    if isinstance(node, dict):
        if isinstance(node.get("n"), int) and isinstance(node.get("flagged"), int) and "rate" in node:
            yield path, ".".join(p for p in path.split(".") if p not in _SILENT), (node["flagged"], node["n"])
            return
        for k, v in node.items():
            yield from _rates(v, f"{path}.{k}" if path else str(k))


def unpaired(ref: dict, other: dict, paired_sets: Iterable[str] = ("scores",)) -> list[Unpaired]:
    """The rates with ``n`` and ``flagged`` in both ``metrics.json`` that the sets compared item by item
    (``paired_sets``, keys of :data:`SETS`) do not cover."""
    covered = tuple(c for s in paired_sets for c in SETS[s][1])
    b = {path: rate for path, _, rate in _rates(other)}
    return [Unpaired(name, rate, b[path]) for path, name, rate in _rates(ref)
            if path in b and not (path + ".").startswith(covered)]


W = 52
"""Width of the printed name column."""


def _pct(k: int, n: int) -> str:
    return f"{100 * k / n:5.1f}% of {n}" if n else "   - "


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trainers.compare", description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path, help="trainers.evaluate --out folders; the first is the "
                        "reference")
    parser.add_argument("--alpha", type=float, default=0.05, help="print paired rows with p below this")
    parser.add_argument("--all", action="store_true", help="print every row, not only the differences")
    args = parser.parse_args(argv)
    if len(args.folders) < 2:
        parser.error("give the reference folder and at least one folder to compare with it")
    ref_folder, *others = args.folders
    ref_flags, ref_metrics = load_flags(ref_folder), json.loads((ref_folder / "metrics.json").read_text())
    for folder in others:
        flags, metrics = load_flags(folder), json.loads((folder / "metrics.json").read_text())
        both = sorted(ref_flags.keys() & flags.keys())
        print(f"\n== {folder} against {ref_folder}")
        print("paired: " + ", ".join(f"{name}.jsonl" for name in both))
        for name in sorted(ref_flags.keys() ^ flags.keys()):
            print(f"({name}.jsonl is in one folder only: its rates are compared unpaired)")
        print(f"{'paired, item by item':{W}s} {'reference':>14s} {'this':>14s} {'lost':>5s} {'gained':>6s} {'p':>7s}")
        for row in paired(ref_flags, flags):
            if args.all or row.p < args.alpha:
                print(f"{row.name:{W}s} {_pct(row.ref, row.n):>14s} {_pct(row.other, row.n):>14s} {row.lost:5d} "
                      f"{row.gained:6d} {row.p:7.4f}")
        print(f"{'unpaired (metrics.json)':{W}s} {'reference':>14s} {'this':>14s}")
        for u in unpaired(ref_metrics, metrics, both):
            if args.all or u.apart:
                print(f"{u.name:{W}s} {_pct(*u.ref):>14s} {_pct(*u.other):>14s}  {'apart' if u.apart else ''}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
