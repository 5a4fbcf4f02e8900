"""``scripts/rewrite_diff.py``: which guard results of an evaluation folder it compares, and how it sorts them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def rewrite_diff(load_script):
    return load_script("rewrite_diff")


def _system(attempts: int) -> str:
    return "scorer@0.5:" + json.dumps({"rewrite_attempts": attempts, "retry": "bar_words"}, sort_keys=True)


def _folder(path: Path, runs: dict[int, dict[str, str]], reported: int | None) -> Path:
    path.mkdir()
    with (path / "cache.jsonl").open("w", encoding="utf-8") as fh:
        fh.write(json.dumps({"task": "score", "system": "scorer@0.5", "key": "a", "result": {"score": 0.9}}) + "\n")
        for attempts, actions in runs.items():
            for text, action in actions.items():
                result = {"action": action, "output": f"{text} ({attempts})", "reasons": []}
                fh.write(json.dumps({"task": "guard", "system": _system(attempts), "key": text,
                                     "result": result}) + "\n")
        fh.write('{"task": "guard", "sys')  # a line cut short by a kill
    if reported is not None:
        (path / "metrics.json").write_text(json.dumps({"guard_config": {"rewrite_attempts": reported,
                                                                        "retry": "bar_words", "timeout_s": None}}))
    return path


def test_a_cache_with_two_guard_runs_gives_the_one_metrics_reports(rewrite_diff, tmp_path: Path):
    # the two-attempt run was written last: taking the last result per text would report it
    folder = _folder(tmp_path / "eval", {1: {"a": "fallback", "b": "rewrite"}, 2: {"a": "rewrite", "b": "rewrite"}},
                     reported=1)
    results = rewrite_diff.guard_results(folder)
    assert {k: v["action"] for k, v in results.items()} == {"a": "fallback", "b": "rewrite"}
    assert results["b"]["output"] == "b (1)"


def test_an_ambiguous_folder_is_refused_and_a_single_run_needs_no_metrics(rewrite_diff, tmp_path: Path):
    with pytest.raises(SystemExit, match="2 guard configurations"):
        rewrite_diff.guard_results(_folder(tmp_path / "none", {1: {"a": "rewrite"}, 2: {"a": "rewrite"}}, None))
    with pytest.raises(SystemExit, match="not found"):
        rewrite_diff.guard_results(tmp_path / "missing")
    single = rewrite_diff.guard_results(_folder(tmp_path / "one", {3: {"a": "rewrite"}}, None))
    assert single["a"]["output"] == "a (3)"


def test_diff_sorts_the_shared_texts_by_how_their_outcome_changed(rewrite_diff):
    base = {t: {"action": a} for t, a in {"g": "fallback", "l": "rewrite", "b": "rewrite", "n": "fallback",
                                          "only-base": "rewrite"}.items()}
    new = {t: {"action": a} for t, a in {"g": "rewrite", "l": "fallback", "b": "rewrite", "n": "fallback",
                                         "only-new": "rewrite"}.items()}
    parts = rewrite_diff.diff(base, new)
    assert {k: [text for text, *_ in v] for k, v in parts.items()} == {
        "gained": ["g"], "lost": ["l"], "both": ["b"], "neither": ["n"]}


def test_a_run_with_a_faithfulness_check_is_told_from_the_same_settings_without_one(rewrite_diff, tmp_path: Path):
    plain = "scorer@0.5:" + json.dumps({"rewrite_attempts": 1}, sort_keys=True)
    checked = "scorer@0.5+faithfulness:ab12:" + json.dumps({"min_faithfulness": 0.63, "rewrite_attempts": 1},
                                                          sort_keys=True)
    folder = tmp_path / "eval"
    folder.mkdir()
    with (folder / "cache.jsonl").open("w", encoding="utf-8") as fh:
        for system, action in ((plain, "rewrite"), (checked, "fallback")):
            fh.write(json.dumps({"task": "guard", "system": system, "key": "a",
                                 "result": {"action": action, "output": "", "reasons": []}}) + "\n")
    config = {"rewrite_attempts": 1, "min_faithfulness": 0.63}
    for check, action in (({"fingerprint": "ab12"}, "fallback"), (None, "rewrite")):
        (folder / "metrics.json").write_text(json.dumps({"guard_config": config, "faithfulness": check}))
        assert rewrite_diff.guard_results(folder)["a"]["action"] == action
    (folder / "metrics.json").write_text(json.dumps({"guard_config": config, "faithfulness": {"fingerprint": "cd"}}))
    with pytest.raises(SystemExit, match="names none"):
        rewrite_diff.guard_results(folder)
