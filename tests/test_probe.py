"""The early-exit probe's head (:mod:`srllm_guard.probe`): file format, calibration helpers, and the distill
recipe end to end with a fake teacher and word-count features (no model)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from conftest import FakeBackend
from srllm_guard.errors import ModelFileError
from srllm_guard.probe import Head, fit_head, fit_platt, pick_high, pick_low, word_count


def _head(dim: int = 64, **kwargs) -> Head:
    rng = np.random.default_rng(0)
    return Head(weights=rng.normal(size=dim).astype(np.float32), bias=0.25, embedding_hash="e" * 64, **kwargs)


class WordFeatures:
    """Stand-in for the block states: hashed word counts, L2-normalised (what the distill recipe calls embed)."""

    dim = 64
    model_hash = "word-features"

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                out[i, int(hashlib.sha256(word.encode()).hexdigest(), 16) % self.dim] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def test_npz_round_trip(tmp_path):
    head = _head(low=0.125, calibration={"platt": [1.5, -0.5], "lows": [[0.3, 0.1], [0.5, 0.125]], "teacher": "t"})
    path = head.save(tmp_path / "sub" / "early_exit.npz")
    back = Head.load(path)
    assert np.array_equal(back.weights, head.weights) and back.weights.dtype == np.float32
    assert (back.bias, back.low, back.embedding_hash, back.calibration) == (0.25, 0.125, "e" * 64, head.calibration)
    x = np.random.default_rng(1).normal(size=(4, 64)).astype(np.float32)
    assert np.allclose(back.scores(x), head.scores(x))
    assert back.low_for(0.5) == 0.125 and back.low_for(0.4) == 0.1 and back.low_for(0.2) is None
    assert back.to_teacher_scale(0.5) == pytest.approx(1 / (1 + np.exp(0.5)))


def test_a_head_calibrated_by_length_reads_the_table_of_the_texts_length(tmp_path):
    calibration = {"lows": [[0.3, 0.2], [0.5, 0.25]], "long_words": 5, "lows_long": [[0.5, 0.05]]}
    head = Head.load(_head(low=0.05, calibration=calibration).save(tmp_path / "h.npz"))
    assert head.low_for(0.5, word_count("one two three four five")) == 0.25
    assert head.low_for(0.5, word_count("one two three four five six")) == 0.05
    assert head.low_for(0.5) == 0.05  # no length given: the lower of the two
    # a length without an entry for the threshold escalates, and so does a caller that gives no length
    assert head.low_for(0.3, 3) == 0.2 and head.low_for(0.3, 9) is None and head.low_for(0.3) is None
    assert _head(calibration={"lows": [[0.5, 0.25]]}).low_for(0.5, 99) == 0.25  # a head without the split


def test_distill_fit_calibrates_long_texts_apart_so_they_no_longer_pull_every_sentences_low_down():
    from trainers import distill

    rng = np.random.default_rng(0)
    n = 4000
    x = rng.normal(size=(n, 4))
    words = np.where(rng.random(n) < 0.1, 40, 10)
    # the feature sees a short text's label well; a long positive often reads as clean at its end
    y = (rng.random(n) < 0.3).astype(float)
    x[:, 0] += np.where(y > 0, 3.0, 0.0) * np.where(words > 20, rng.random(n) < 0.5, 1.0)
    half = {"train": slice(0, n // 2), "calib": slice(n // 2, n)}
    xs, ys = {k: x[v] for k, v in half.items()}, {k: y[v] for k, v in half.items()}
    one, _ = distill.fit(xs, ys, distill.Args(recall=0.98), "e", "t")
    split, _ = distill.fit(xs, ys, distill.Args(recall=0.98, long_words=20), "e", "t", words=words[half["calib"]])
    assert "long_words" not in one.calibration and split.calibration["long_words"] == 20
    assert split.low_for(0.5, 10) > one.low_for(0.5) >= split.low_for(0.5, 40)
    assert split.low == split.low_for(0.5)
    scores, positive, calib_words = one.scores(xs["calib"]), ys["calib"] >= 0.5, words[half["calib"]]
    for length in (10, 40):  # each length keeps the recall on calib by itself
        mine = positive & (calib_words == length)
        assert (scores[mine] >= split.low_for(0.5, length)).mean() >= 0.98
    # cleared by the single low, escalated by neither: the split clears more short negatives
    short_negatives = ~positive & (calib_words == 10)
    assert (scores[short_negatives] < split.low_for(0.5, 10)).sum() > (scores[short_negatives] < one.low).sum()
    with pytest.raises(Exception, match="word counts"):
        distill.fit(xs, ys, distill.Args(long_words=20), "e", "t")


@pytest.mark.parametrize("content", [None, b"", b"not a zip at all", "wrong-shape", "wrong-format"])
def test_missing_or_corrupt_head_names_the_file(tmp_path, content):
    path = tmp_path / "early_exit.npz"
    if content == "wrong-shape":
        Head(weights=np.ones(10, np.float32), bias=0.0, embedding_hash="e").save(path)
    elif content == "wrong-format":
        np.savez(path, format=np.array("something-else"), weights=np.ones(64))
        path = tmp_path / "early_exit.npz"
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(ModelFileError) as info:
        Head.load(path, dim=64)
    assert str(path) in str(info.value)


def test_fit_helpers_on_synthetic_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 5))
    y = (x[:, 0] + 0.3 * rng.normal(size=400) > 1.0).astype(float)  # ~16% positives
    head = fit_head(x, y, embedding_hash="e", l2=1e-3)
    scores = _sig(x @ head.weights + head.bias)
    assert np.corrcoef(scores, y)[0, 1] > 0.6
    low = pick_low(scores, y > 0.5, recall=0.98)
    assert (scores[y > 0.5] >= low).mean() >= 0.98
    a, c = fit_platt(scores, y)
    assert a > 0
    with pytest.raises(Exception, match="no teacher positives"):
        pick_low(scores, np.zeros(400, bool))


def _sig(z):
    return 1 / (1 + np.exp(-z))


# --- the distill recipe, end to end on files written here ---------------------------------------------------

def test_distill_smoke_with_a_fake_teacher(tmp_path):
    from trainers import distill

    people = ["my neighbours", "the new interns", "those drivers", "the referees", "his cousins", "our landlords",
              "the tourists", "the players", "her classmates", "the critics"]
    deeds = ["parked on the lawn", "missed the meeting", "changed the plan", "sent the form late",
             "left the lights on", "took the last seat", "ignored the sign", "sang all night"]
    rows = ["toxic\tneutral1"]
    for i, (who, did) in enumerate((p, d) for p in people for d in deeds):
        insult = ("lazy", "stupid")[i % 2]
        rows.append(f"{who} {did} because they are {insult} idiots\t{who} {did} again")
    (tmp_path / "pd.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    cf = tmp_path / "counterfactual-inhouse.csv"
    cf.write_text("Original,gender_a_man\nThe team meets at noon.,A man from the team meets at noon.\n"
                  "The shop opens late.,The man says the shop opens late.\n", encoding="utf-8")
    args = distill.setup(["--teacher", "labels", "--paradetox", str(tmp_path / "pd.tsv"), "--counterfactual", str(cf),
                          "--cache", str(tmp_path / "t.jsonl"), "--out", str(tmp_path / "d.npz"),
                          "--per-source", "500"])
    full, embedder = FakeBackend(), WordFeatures()
    report = distill.main(args, backend=full, embedder=embedder)
    assert report["teacher"].startswith("fake-sr") and report["counts"]["train"]["teacher_positive"] >= 5
    assert report["test"]["cascade"]["recall"] >= 0.9 and report["counterfactual_sample"]["n"] == 4
    head = Head.load(tmp_path / "d.npz")
    assert head.calibration["teacher"] == report["teacher"] and 0 < head.low < 1
    assert (tmp_path / "d.report.json").is_file()
    calls = len(full.calls)
    distill.main(args, backend=full, embedder=embedder)  # resumes from the cache: no teacher call
    assert len(full.calls) == calls
    # calibrated by length: here every toxic sentence is long (10+ words) and every rewrite short, so short texts
    # get no entry at the teacher's threshold (the table's lower one stands in) and the report reads each text's
    # own table
    by_length = distill.setup([*(a for a in _argv(args)), "--long-words", "8", "--out", str(tmp_path / "l.npz")])
    report = distill.main(by_length, backend=full, embedder=embedder)
    head = Head.load(tmp_path / "l.npz")
    assert head.calibration["long_words"] == 8 and head.calibration["lows_long"]
    assert all(t < 0.5 for t, _ in head.calibration["lows"]) and head.calibration["lows_long"][-1][0] == 0.9
    assert head.low_for(0.5, 12) == head.calibration["lows_long"][4][1] == report["test"]["low_long"]
    assert head.low_for(0.5, 3) == head.calibration["lows"][-1][1] == report["test"]["low_short"]
    assert report["test"]["cascade"]["recall"] >= 0.9 and len(full.calls) == calls


def _argv(args) -> list[str]:
    """The flags that made ``args`` (the ones the smoke test sets)."""
    return ["--teacher", args.teacher, "--paradetox", str(args.paradetox), "--counterfactual", str(args.counterfactual),
            "--cache", str(args.cache), "--per-source", str(args.per_source)]


def test_distill_refuses_held_out_files_and_names_the_flags(tmp_path):
    from srllm_guard.errors import ConfigError
    from trainers import distill

    held = tmp_path / "infer_50.csv"
    held.write_text("biased_text,debiased_text\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        distill.setup(["--srllm-csv", str(held), "--teacher", "llamacpp", "--recall", "2"])
    message = str(info.value)
    assert "held out" in message and "--adapter" in message and "--recall" in message


def test_pick_high_keeps_the_precision_and_high_for_reads_its_table():
    scores = np.array([0.1, 0.2, 0.3, 0.6, 0.7, 0.8, 0.9, 0.95, 0.97, 0.99])
    positive = np.array([0, 0, 0, 1, 0, 1, 1, 1, 1, 1], dtype=bool)
    assert pick_high(scores, positive, precision=1.0) == 0.8  # the five top scores are all positives
    assert pick_high(scores, positive, precision=0.85) == 0.6  # 6 of the top 7 (0.857)
    assert pick_high(scores, np.zeros(10, dtype=bool)) is None
    assert pick_high(scores[-4:], positive[-4:], precision=0.5) is None  # fewer than 5 above any cut
    head = Head(weights=np.ones(3, np.float32), bias=0.0, embedding_hash="e",
                calibration={"highs": [[0.3, 0.6], [0.5, 0.8]]})
    assert head.high_for(0.2) is None and head.high_for(0.4) == 0.6 and head.high_for(0.9) == 0.8
    assert Head(weights=np.ones(3, np.float32), bias=0.0, embedding_hash="e").high_for(0.5) is None
