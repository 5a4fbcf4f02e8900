"""The model card's measured sections come from the run's files, figure for figure."""

from __future__ import annotations

from trainers.ship import _reasons, probe_section, stereoset_section


def test_stereoset_section_states_the_share_of_lms_kept_against_the_target():
    report = {"meta": {"command": "srllm-guard eval --tasks stereoset"}, "systems": [
        {"system": "no-guard"},
        {"system": "base-prompted", "stereoset": {"n": 600, "targets": 50, "lms": 80.0, "ss": 60.0, "icat": 64.0}},
        {"system": "sr-llm", "stereoset": {"n": 600, "targets": 50, "lms": 75.0, "ss": 50.0, "icat": 75.0}}]}
    text = "\n".join(stereoset_section(report))
    assert "| base + this adapter | 75.0 | 50.0 | 75.0 |" in text
    assert "LMS kept: 93.8% of the base's (target >= 95%: **not met**)" in text
    assert "srllm-guard eval --tasks stereoset" in text
    assert stereoset_section({"meta": {}, "systems": [{"system": "no-guard"}]}) == []


def test_probe_section_reads_the_held_out_slice():
    cascade = {"recall": 0.99, "missed_positives": 2, "accuracy": 0.995, "escalated_share": 0.4}
    report = {"embedding": {"layer": 6}, "counts": {"train": {"n": 5000}},
              "test": {"n": 900, "teacher_positive": 300, "student_auc": 0.98, "low": 0.05, "cascade": cascade},
              "counterfactual_sample": {"n": 300, "cascade": {"escalated_share": 0.02}}}
    text = " ".join(probe_section(report))
    assert "block 6" in text and "keeps 99.0% of the full model's flags (2 missed)" in text
    assert "sends 40.0% on to the full model" in text and "sends 2.0% on" in text


def test_fallback_reasons_say_what_the_rejected_rewrites_were_when_recorded():
    rw = {"fallback_reasons": {"recheck_failed": 3, "drift": 1}}
    assert _reasons(rw) == "recheck_failed 3, drift 1"
    assert _reasons({**rw, "rejected_kinds": None}) == "recheck_failed 3, drift 1"
    assert _reasons({**rw, "rejected_kinds": {"copy": 2, "other": 2}}) == (
        "recheck_failed 3, drift 1; the rejected rewrites: copy 2, other 2")
    assert _reasons({"fallback_reasons": {}}) == "none"


def test_the_card_puts_the_reference_rewrites_reading_next_to_the_guards():
    from trainers.ship import _references

    ref = {"n": 275, "judge_not_biased_share": 0.771, "judge_not_biased_share_of_outputs": 0.676,
           "sim_median": 0.685, "sim_median_of_outputs": 0.692}
    text = _references({"references": ref})
    assert "reference rewrites of 275 of these items" in text
    assert "77.1% not biased, SIM median 0.685" in text and "67.6%, 0.692" in text
    # evaluations from before the field, or without a judge, or with no reference rewrites: nothing
    assert _references({}) == _references({"references": {"n": 3}}) == _references({"references": {"n": 0}}) == ""


def test_judgement_section_prints_each_rate_with_its_interval_and_the_answered_questions():
    import json
    from pathlib import Path

    from trainers.ship import judgement_section

    metrics = json.loads((Path(__file__).parents[1] / "adapters/sr-gemma3-270m-v12/eval_metrics.json").read_text())
    lines = judgement_section(metrics)  # written before rates carried ``ci95``: the interval comes from the count
    assert "| counter_speech:interest | pass | 40 | 17.5% | 8.7-31.9% |" in lines
    assert "| threat:rejection | flag | 40 |" in " ".join(lines)
    assert any(line.startswith("| threats:threat | flag | 120 | 85.8% | 78.5-91.0% |") for line in lines)
