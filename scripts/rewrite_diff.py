"""What one adapter rewrites that another did not: two ``trainers.evaluate`` runs over the same items, side by side.

Reads the guard results each evaluation cached (``cache.jsonl``, task ``guard``: the suite's rewrite sample and the
human-written rows) and prints, for the items both sent through the guard, those the ``--new`` run ends as an
accepted rewrite and the ``--base`` run does not, with the new output; then those it lost; then counts. This is
the list a ship decision reads one by one (a rewrite that says something its sentence did not is worse than
``[removed]``), and nothing here judges it.

    python scripts/rewrite_diff.py --base runs/eval_v7_ref1 --new runs/v27cp/eval --test runs/v16ctl/splits/test.jsonl

``--test`` (the evaluation's test split) marks which items are human-written rows (its rows from the sources
``trainers.evaluate`` rewrites as natural text); without it every item is listed under one heading.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from trainers.evaluate import NATURAL_SOURCES


def guard_results(folder: Path) -> dict[str, dict]:
    """Text -> the guard's cached result (``action``, ``output``, ...) in an evaluation folder. A cache that holds
    runs with different guard settings (say ``--rewrite-attempts 2`` and 1 into the same ``--out``) keeps only the
    results of the settings its ``metrics.json`` reports, the run whose figures the folder shows."""
    path = folder / "cache.jsonl"
    if not path.is_file():
        raise SystemExit(f"{path}: not found; pass a trainers.evaluate output folder (--out of that run)")
    runs: dict[str, dict[str, dict]] = {}
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line cut short by a kill
            if record.get("task") == "guard":
                runs.setdefault(record["system"], {})[record["key"]] = record["result"]
    if len(runs) <= 1:
        return next(iter(runs.values()), {})
    metrics = folder / "metrics.json"
    written = json.loads(metrics.read_text(encoding="utf-8")) if metrics.is_file() else {}
    reported, check = written.get("guard_config", {}), (written.get("faithfulness") or {}).get("fingerprint")
    matching = [system for system in runs if _has_settings(system, reported, check)]
    if len(matching) != 1:
        raise SystemExit(f"{path} holds {len(runs)} guard configurations and {metrics} names "
                         f"{'none' if not matching else 'several'} of them; compare folders written by one run")
    return runs[matching[0]]


def _has_settings(system: str, reported: dict, check: str | None = None) -> bool:
    """Whether a cache system key (the scorer's key, the faithfulness check's fingerprint if the guard had one,
    then the guard settings as JSON) has the reported settings and check."""
    try:
        settings = json.loads(system[system.index(":{") + 1:])
    except ValueError:
        return False
    if ("+faithfulness:" in system) != bool(check) or (check and f"+faithfulness:{check}:" not in system):
        return False
    return bool(reported) and all(reported[k] == v for k, v in settings.items() if k in reported)


def diff(base: dict[str, dict], new: dict[str, dict]) -> dict[str, list[tuple[str, dict, dict]]]:
    """The texts both runs sent through the guard, split by how their outcome changed."""
    parts: dict[str, list[tuple[str, dict, dict]]] = {"gained": [], "lost": [], "both": [], "neither": []}
    for text in new:
        if text not in base:
            continue
        b, n = base[text]["action"] == "rewrite", new[text]["action"] == "rewrite"
        key = "both" if b and n else "gained" if n else "lost" if b else "neither"
        parts[key].append((text, base[text], new[text]))
    return parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, type=Path, help="the reference evaluation folder")
    parser.add_argument("--new", required=True, type=Path, help="the evaluation folder of the adapter under test")
    parser.add_argument("--test", type=Path, help="the test split both evaluations read (marks human-written rows)")
    args = parser.parse_args()
    parts = diff(guard_results(args.base), guard_results(args.new))
    natural: set[str] = set()
    if args.test:
        with args.test.open(encoding="utf-8") as fh:
            split = [json.loads(line) for line in fh if line.strip()]
        natural = {r["text"] for r in split if r.get("source") in NATURAL_SOURCES}

    def kind(text: str) -> str:
        return "human-written" if text in natural else "suite" if args.test else "all"

    for part, label, shown in (("gained", "rewritten by --new, not by --base", "new"),
                               ("lost", "rewritten by --base, not by --new", "base")):
        for group in ("suite", "human-written", "all"):
            rows = [r for r in parts[part] if kind(r[0]) == group]
            if not rows:
                continue
            print(f"## {label}: {group} ({len(rows)})\n")
            for k, (text, b, n) in enumerate(rows, 1):
                result = n if shown == "new" else b
                other = b if shown == "new" else n
                print(f"[{k}] {text}\n    -> {result['output']}\n    (other: {other['action']}"
                      f"{', ' + ', '.join(other.get('reasons') or []) if other.get('reasons') else ''})\n")
    print("counts:", {k: len(v) for k, v in parts.items()})


if __name__ == "__main__":
    main()
