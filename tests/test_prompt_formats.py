"""Prompt format versions: each adapter is prompted the way it was trained, found from its own files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from srllm_guard import prompt
from srllm_guard.errors import ModelFileError

ROOT = Path(__file__).resolve().parent.parent


def test_versions_share_the_layout_and_differ_in_the_instruction():
    v1, v2 = prompt.get_format("sr-llm-v1"), prompt.get_format("sr-llm-v2")
    assert prompt.get_format() is prompt.FORMATS[prompt.FORMAT_VERSION] is v2
    for fmt in (v1, v2):
        parts = fmt.render_prompt("Men are lazy.")
        assert parts.prompt == f"<bos><start_of_turn>user\n{fmt.instruction}\nText: Men are lazy.<end_of_turn>\n" \
                               "<start_of_turn>model\n"
        assert parts.prefix == fmt.render_prefix()
    assert len(v2.instruction) < len(v1.instruction) / 2
    assert prompt.render_prompt("x", version="sr-llm-v1") == v1.render_prompt("x")
    with pytest.raises(ModelFileError, match="unknown prompt format 'sr-llm-v9'.*newer srllm-guard"):
        prompt.get_format("sr-llm-v9")


def test_format_of_adapter_reads_the_summary_beside_it(tmp_path):
    assert prompt.format_of_adapter(None).version == prompt.FORMAT_VERSION
    run = tmp_path / "run"
    (run / "peft").mkdir(parents=True)
    (run / "adapter.gguf").write_bytes(b"not a gguf")
    assert prompt.format_of_adapter(run / "adapter.gguf").version == "sr-llm-v1"  # nothing recorded: the original
    (run / "summary.json").write_text(json.dumps({"format_version": "sr-llm-v2"}))
    assert prompt.format_of_adapter(run / "adapter.gguf").version == "sr-llm-v2"
    assert prompt.format_of_adapter(run / "peft").version == "sr-llm-v2"  # one folder up from the PEFT folder


def test_the_first_shipped_adapter_is_v1():
    assert prompt.format_of_adapter(ROOT / "adapters" / "sr-gemma3-270m" / "adapter.gguf").version == "sr-llm-v1"
    assert prompt.format_of_adapter(ROOT / "adapters" / "sr-gemma3-270m" / "peft").version == "sr-llm-v1"


def test_exported_adapter_gguf_records_its_format_and_llamacpp_follows_it(tmp_path):
    pytest.importorskip("peft")
    from _tiny_srllm import build_tiny_srllm

    from srllm_guard.backends.llamacpp import LlamaCppBackend
    from trainers.export import export_adapter_gguf

    tiny = build_tiny_srllm(tmp_path)
    for version in ("sr-llm-v1", "sr-llm-v2"):
        out = tmp_path / version / "adapter.gguf"
        out.parent.mkdir()
        export_adapter_gguf(tiny["peft"], out, base_gguf=tiny["base_gguf"], format_version=version)
        shutil.copy(out, tmp_path / f"{version}.gguf")
        assert prompt.format_of_adapter(out).version == version  # read from the GGUF itself
        backend = LlamaCppBackend(model_path=tiny["base_gguf"], adapter_path=out, n_ctx=256, screen=None,
                                  merge=False)
        assert backend.prompt_format.version == version
        loaded = backend.engine
        joint = loaded.llm.tokenize(prompt.render_prompt("Men are lazy.", version=version).prompt.encode(),
                                    add_bos=False, special=True)
        assert loaded.prompt_ids("Men are lazy.") == joint
