"""Compare evaluations of adapters run on the same rows, item by item where the rows allow it.

    python -m trainers.compare runs/v55/full runs/v58/full [runs/v55s2/full ...] [--alpha 0.05] [--all]

Each folder is a ``trainers.evaluate --out`` folder; the first is the reference. Two kinds of rows:

- **paired** (``scores.jsonl``: the functional suite and the templated sources, one score per item): the same items
  were scored by both adapters, so each functionality is compared by its discordant items (``lost``: flagged by the
  reference only; ``gained``: by the other only) with McNemar's exact test (a two-sided binomial test on the discordant
  pairs, ``scipy.stats.binomtest``). This tells far smaller changes apart than two separate 95% intervals do: 120
  items at 85% against 95% have overlapping Wilson intervals, while 12 discordant items all one way give p = 0.0005.
- **unpaired** (every other rate in ``metrics.json`` that carries ``n`` and ``flagged``: the answered questions,
  accepted rewrites by functionality, held-out groups): only the two rates and their Wilson intervals are at hand,
  marked ``apart`` when the intervals do not overlap.

A difference this test calls real is real for *these two adapters*; whether it is more than what training the same
recipe again with another ``train.seed`` gives is a question for a replicate: pass it as a third folder and read its
row against the reference's beside the candidate's. Written at stop 53, when the stages after v14 moved figures by
5-10 points in both directions and there was no way to tell which of them a second run of v14's recipe would move too.

Only rows with a difference at ``--alpha`` (paired) or intervals apart (unpaired) are printed, unless ``--all``.
The suite has about 30 functionalities, so at ``--alpha 0.05`` one or two rows are expected by chance alone.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from scipy.stats import binomtest

from srllm_guard.eval.judgement import wilson

__all__ = ["Paired", "Unpaired", "load_flags", "row_name", "paired", "unpaired", "main"]

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


def load_flags(folder: Path) -> dict[Key, bool]:
    """Each item of ``folder/scores.jsonl`` flagged or not at the evaluation's threshold (``metrics.json``)."""
    scores, metrics = folder / "scores.jsonl", folder / "metrics.json"
    for f in (scores, metrics):
        if not f.is_file():
            raise SystemExit(f"{f} is missing: pass the --out folder of a finished `python -m trainers.evaluate` run")
    threshold = float(json.loads(metrics.read_text())["threshold"])
    seen: Counter[tuple[str, str]] = Counter()
    out: dict[Key, bool] = {}
    for line in scores.read_text().splitlines():
        row = json.loads(line)
        key = (row_name(row["source"], row["functionality"], row["obfuscation"]), row["text"])
        out[(key[0], key[1], seen[key])] = row["score"] >= threshold
        seen[key] += 1
    return out


def row_name(source: str, functionality: str, obfuscation: str | None) -> str:
    """The functionality as ``metrics.json``'s ``functional.by_functionality`` names it (``source:functionality``
    outside the functional suite; those rates are over plain spellings), with ``, obfuscated`` for the obfuscated
    copies."""
    name = functionality if source == "functional" else f"{source}:{functionality}"
    return name if obfuscation is None else f"{name}, obfuscated"


def paired(ref: dict[Key, bool], other: dict[Key, bool]) -> list[Paired]:
    """One :class:`Paired` per functionality; raises when the two evaluations did not score the same items."""
    if ref.keys() != other.keys():
        only_ref, only_other = len(ref.keys() - other.keys()), len(other.keys() - ref.keys())
        raise SystemExit(f"the evaluations scored different items ({only_ref} only in the reference, {only_other} "
                         "only in the other): compare runs evaluated on the same --test split with the same code")
    cells: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for key, r in ref.items():
        o = other[key]
        c = cells[key[0]]
        c[0] += 1
        c[1] += r
        c[2] += o
        c[3] += r and not o
        c[4] += o and not r
    return [Paired(name, *c) for name, c in sorted(cells.items())]


_SILENT = frozenset({"by_functionality", "summary"})
"""Levels of ``metrics.json`` left out of a rate's printed name."""


def _rates(node: object, path: str = "") -> Iterator[tuple[str, tuple[int, int]]]:
    if isinstance(node, dict):
        if isinstance(node.get("n"), int) and isinstance(node.get("flagged"), int) and "rate" in node:
            yield path, (node["flagged"], node["n"])
            return
        for k, v in node.items():
            yield from _rates(v, k if not path else path if k in _SILENT else f"{path}.{k}")


def unpaired(ref: dict, other: dict) -> list[Unpaired]:
    """The rates with ``n`` and ``flagged`` in both ``metrics.json`` outside the paired functional rates."""
    a, b = dict(_rates(ref)), dict(_rates(other))
    return [Unpaired(k, a[k], b[k]) for k in a if k in b and not k.startswith("functional.")]


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
        print(f"\n== {folder} against {ref_folder}")
        print(f"{'paired (scores.jsonl)':{W}s} {'reference':>14s} {'this':>14s} {'lost':>5s} {'gained':>6s} {'p':>7s}")
        for row in paired(ref_flags, load_flags(folder)):
            if args.all or row.p < args.alpha:
                print(f"{row.name:{W}s} {_pct(row.ref, row.n):>14s} {_pct(row.other, row.n):>14s} {row.lost:5d} "
                      f"{row.gained:6d} {row.p:7.4f}")
        print(f"{'unpaired (metrics.json)':{W}s} {'reference':>14s} {'this':>14s}")
        for u in unpaired(ref_metrics, json.loads((folder / "metrics.json").read_text())):
            if args.all or u.apart:
                print(f"{u.name:{W}s} {_pct(*u.ref):>14s} {_pct(*u.other):>14s}  {'apart' if u.apart else ''}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
