"""trainers.compare: two evaluations of the same rows, paired item by item."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trainers.compare import load_flags, main, paired, unpaired

Flags = dict[tuple[str, str, str | None], list[bool]]


def _rows(flags: Flags) -> str:
    rows: list[dict] = []
    for (source, functionality, obfuscation), flagged in flags.items():
        for i, f in enumerate(flagged):
            rows.append({"text": f"{functionality} {obfuscation} {i}", "functionality": functionality,
                         "source": source, "held_out": [], "obfuscation": obfuscation, "group": None,
                         "biased": True, "score": 0.9 if f else 0.1})
    return "".join(json.dumps(r) + "\n" for r in rows)


def _evaluation(folder: Path, flags: Flags, rates: dict | None = None, answered: Flags | None = None) -> Path:
    """A ``trainers.evaluate --out`` folder: ``scores.jsonl`` (and ``scores_answered.jsonl`` when ``answered``)
    with one row per flag, ``metrics.json`` with ``rates``."""
    folder.mkdir()
    (folder / "scores.jsonl").write_text(_rows(flags))
    if answered is not None:
        (folder / "scores_answered.jsonl").write_text(_rows(answered))
    (folder / "metrics.json").write_text(json.dumps({"threshold": 0.5, **(rates or {})}))
    return folder


def _rate(flagged: int, n: int) -> dict:
    return {"n": n, "flagged": flagged, "rate": flagged / n}


def test_discordant_items_decide_and_obfuscated_copies_are_their_own_row(tmp_path):
    ref = _evaluation(tmp_path / "a", {("threats", "threat", None): [True] * 20,
                                       ("functional", "denial", None): [True] * 10 + [False] * 10,
                                       ("functional", "denial", "leet"): [True] * 20})
    other = _evaluation(tmp_path / "b", {("threats", "threat", None): [False] * 12 + [True] * 8,
                                         ("functional", "denial", None): [False] * 10 + [True] * 10,
                                         ("functional", "denial", "leet"): [True] * 20})
    rows = {r.name: r for r in paired(load_flags(ref), load_flags(other))}
    assert set(rows) == {"threats:threat", "denial", "denial, obfuscated"}
    threat = rows["threats:threat"]
    assert (threat.n, threat.ref, threat.other, threat.lost, threat.gained) == (20, 20, 8, 12, 0)
    assert threat.p == pytest.approx(2 * 0.5 ** 12)
    # the same rate by different items: 20 discordant, 10 each way, nothing to tell apart
    denial = rows["denial"]
    assert (denial.ref, denial.other, denial.lost, denial.gained) == (10, 10, 10, 10)
    assert denial.p == pytest.approx(1.0)
    assert rows["denial, obfuscated"].p == 1.0


def test_evaluations_of_different_rows_are_refused(tmp_path):
    a = _evaluation(tmp_path / "a", {("functional", "denial", None): [True] * 3})
    b = _evaluation(tmp_path / "b", {("functional", "denial", None): [True] * 4})
    with pytest.raises(SystemExit, match="1 only in the other"):
        paired(load_flags(a), load_flags(b))
    with pytest.raises(SystemExit, match="finished `python -m trainers.evaluate` run"):
        load_flags(tmp_path / "missing")


def test_unpaired_rates_are_apart_only_when_their_intervals_do_not_overlap():
    def metrics(k: int) -> dict:
        return {"answered_questions": {"by_functionality": {"counter_speech:neutral": _rate(k, 120)},
                                       "summary": {"not_biased_then_any": _rate(3, 960)}},
                "functional": {"by_functionality": {"denial": _rate(k, 120)}}}

    rows = {u.name: u for u in unpaired(metrics(1), metrics(10))}
    assert set(rows) == {"answered_questions.counter_speech:neutral", "answered_questions.not_biased_then_any"}
    assert rows["answered_questions.counter_speech:neutral"].apart
    assert not rows["answered_questions.not_biased_then_any"].apart
    assert not unpaired(metrics(1), metrics(3))[0].apart


def test_the_command_prints_only_the_differences_unless_asked(tmp_path, capsys):
    flags = {("functional", "denial", None): [True] * 20, ("functional", "threat", None): [True] * 20}
    ref = _evaluation(tmp_path / "a", flags)
    other = _evaluation(tmp_path / "b", {**flags, ("functional", "threat", None): [False] * 20})
    assert main([str(ref), str(other)]) == 0
    out = capsys.readouterr().out
    assert "threat " in out and "denial" not in out
    main([str(ref), str(other), "--all"])
    assert "denial" in capsys.readouterr().out


def test_answered_questions_are_paired_when_both_folders_have_them_and_unpaired_otherwise(tmp_path, capsys):
    suite = {("functional", "denial", None): [True] * 4}
    rates = {"answered_questions": {"by_functionality": {"counter_speech:neutral": _rate(0, 12)},
                                    "summary": {"not_biased_then_any": _rate(0, 12)}}}
    cs = ("answered", "counter_speech:neutral", None)
    ref = _evaluation(tmp_path / "a", suite, rates, answered={cs: [False] * 12})
    other = _evaluation(tmp_path / "b", suite, rates, answered={cs: [True] * 12})
    old = _evaluation(tmp_path / "c", suite, rates)  # written before the per-item answered file
    rows = {r.name: r for r in paired(load_flags(ref), load_flags(other))}
    assert (rows["answered: counter_speech:neutral"].gained, rows["answered: counter_speech:neutral"].n) == (12, 12)
    names = {u.name for u in unpaired(rates, rates, ["scores", "scores_answered"])}
    assert names == {"answered_questions.not_biased_then_any"}  # the family totals stay unpaired
    assert {r.name for r in paired(load_flags(ref), load_flags(old))} == {"denial"}
    assert "answered_questions.counter_speech:neutral" in {u.name for u in unpaired(rates, rates, ["scores"])}
    main([str(old), str(ref)])
    assert "scores_answered.jsonl is in one folder only" in capsys.readouterr().out
