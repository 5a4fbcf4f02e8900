"""HF / PEFT -> GGUF -> llama.cpp round trips on a tiny Gemma 3 with the real tokenizer, and the adapter checks.

Measured on the tiny model (2 layers: one sliding, one global; hidden 64; LoRA r=4, alpha 8 on all 7
projections with lora_B ~ N(0, 0.1)), last-position logits of the 3 prompts below, 2026-11-22:

    base f32 GGUF        vs HF             max |dlogit| <= 0.0036                  same argmax
    adapter f32 GGUF     vs HF + PEFT      max |dlogit| <= 0.0037, KL <= 3.0e-7    same argmax
      (f16 adapter: <= 0.0058, KL <= 3.8e-7; rslora + rank/alpha patterns: <= 0.0035)
    merged Q8_0 GGUF     vs HF + PEFT      max |dlogit| <= 0.17,   KL <= 4.2e-4    same argmax
    base without adapter vs HF + PEFT      max |dlogit| 2.8-3.7,   KL 0.13-0.24    (so the adapter matters)

Logits span about +-13 (std ~2); top-2 margins are 1.9-4.8. The f32 residual is llama.cpp's f16 KV cache; the
merged residual is Q8_0 rounding of the merged weights. Tolerances below are ~5x the measurements.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import gguf
import numpy as np
import pytest

from srllm_guard.errors import ConfigError, ModelFileError
from srllm_guard.gguf_check import validate_adapter_gguf

F32_MAX_DIFF, F32_KL = 0.02, 1e-5
Q8_MAX_DIFF, Q8_KL = 0.5, 5e-3
PROMPTS = [
    "Women are bad at math.",
    "Rewrite the text without bias: old people cannot learn new things",
    "<start_of_turn>user\nThe nurse said that he<end_of_turn>",
]
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def _kl(p_logits: np.ndarray, q_logits: np.ndarray) -> float:
    """KL(P || Q) of the softmaxes, in float64."""

    def log_softmax(x):
        x = x.astype(np.float64) - x.max()
        return x - np.log(np.exp(x).sum())

    lp, lq = log_softmax(p_logits), log_softmax(q_logits)
    return float((np.exp(lp) * (lp - lq)).sum())


def _llama_logits(model_path, prompts_ids, *, lora_path=None):
    """Last-position logits from llama.cpp for each token list (the fast path: eval + get_logits_ith)."""
    import llama_cpp
    kwargs = {"lora_path": str(lora_path)} if lora_path else {}
    llm = llama_cpp.Llama(model_path=str(model_path), n_ctx=256, logits_all=False, verbose=False, n_threads=1,
                          **kwargs)
    try:
        out = []
        for ids in prompts_ids:
            llm.reset()
            llm.eval(ids)
            ptr = llama_cpp.llama_get_logits_ith(llm.ctx, -1)
            out.append(np.ctypeslib.as_array(ptr, shape=(llm.n_vocab(),)).copy())
        tokens = [llm.tokenize(p.encode(), add_bos=True, special=True) for p in PROMPTS]
        return out, tokens
    finally:
        llm.close()


def _with_lora(model, config, seed):
    """Wrap a copy of ``model`` with a LoRA whose B is non-zero, so the adapter changes the output."""
    torch = pytest.importorskip("torch")
    peft = pytest.importorskip("peft", reason="needs the train extra: pip install 'srllm-guard[train]'")
    wrapped = peft.get_peft_model(copy.deepcopy(model), config)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in wrapped.named_parameters():
            if "lora_B" in name:
                param.copy_(torch.randn(param.shape, generator=gen) * 0.1)
    return wrapped.eval()


def _hf_logits(model, prompts_ids):
    torch = pytest.importorskip("torch")
    with torch.no_grad():
        return [model(input_ids=torch.tensor([ids])).logits[0, -1].numpy() for ids in prompts_ids]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The tiny model, its base GGUF, a PEFT adapter (and an rslora one), and their exported GGUFs."""
    torch = pytest.importorskip("torch", reason="needs the train extra: pip install 'srllm-guard[train]'")
    peft = pytest.importorskip("peft", reason="needs the train extra: pip install 'srllm-guard[train]'")
    from srllm_guard.models import default_base_gguf
    from trainers.export import export_adapter_gguf, export_merged_gguf, write_base_gguf
    from trainers.tiny import build_tiny_gemma3

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("export")
    model, tok = build_tiny_gemma3(seed=0)
    ids = [tok(p).input_ids for p in PROMPTS]
    base = write_base_gguf(model, root / "tiny.gguf", template_gguf=default_base_gguf())

    lora = _with_lora(model, peft.LoraConfig(r=4, lora_alpha=8, target_modules=TARGETS, lora_dropout=0.0), seed=1)
    lora.save_pretrained(root / "peft")
    summary = export_adapter_gguf(root / "peft", root / "adapter.gguf", base_gguf=base)
    merged = export_merged_gguf(root / "peft", root / "merged.gguf", base_gguf=base, qtype="Q8_0")

    rs_config = peft.LoraConfig(r=4, lora_alpha=6, use_rslora=True, rank_pattern={"k_proj": 2},
                                alpha_pattern={"down_proj": 3.0}, target_modules=TARGETS, lora_dropout=0.0)
    rs = _with_lora(model, rs_config, seed=2)
    rs.save_pretrained(root / "peft_rs")
    rs_summary = export_adapter_gguf(root / "peft_rs", root / "adapter_rs.gguf", base_gguf=base)

    return {
        "ids": ids, "base": base, "merged": merged, "summary": summary, "rs_summary": rs_summary,
        "adapter": root / "adapter.gguf", "adapter_rs": root / "adapter_rs.gguf", "peft": root / "peft",
        "hf_base": _hf_logits(model, ids), "hf_lora": _hf_logits(lora, ids), "hf_rs": _hf_logits(rs, ids),
    }


def _assert_close(got, want, *, max_diff, max_kl, what):
    for i, (g, w) in enumerate(zip(got, want)):
        diff, kl = float(np.abs(g - w).max()), _kl(w, g)
        assert g.argmax() == w.argmax(), f"{what}, prompt {i}: argmax {g.argmax()} != {w.argmax()}"
        assert diff <= max_diff, f"{what}, prompt {i}: max |dlogit| {diff:.4g} > {max_diff}"
        assert kl <= max_kl, f"{what}, prompt {i}: KL {kl:.3g} > {max_kl}"


def test_base_gguf_matches_hf_and_tokenizes_like_it(tiny):
    logits, tokens = _llama_logits(tiny["base"], tiny["ids"])
    assert tokens == tiny["ids"], "llama.cpp tokenizes the prompts differently from the HF tokenizer"
    _assert_close(logits, tiny["hf_base"], max_diff=F32_MAX_DIFF, max_kl=F32_KL, what="base GGUF vs HF")


def test_adapter_gguf_matches_hf_peft(tiny):
    assert tiny["summary"] == {**tiny["summary"], "rank": 4, "alpha": 8.0, "n_tensors": 2 * 7 * 2}
    logits, _ = _llama_logits(tiny["base"], tiny["ids"], lora_path=tiny["adapter"])
    _assert_close(logits, tiny["hf_lora"], max_diff=F32_MAX_DIFF, max_kl=F32_KL, what="adapter GGUF vs HF+PEFT")
    # ... and the adapter matters: without it the logits are far off.
    for plain, lora in zip(tiny["hf_base"], tiny["hf_lora"]):
        assert _kl(lora, plain) > 10 * Q8_KL and np.abs(lora - plain).max() > 10 * F32_MAX_DIFF


def test_rslora_and_patterns_are_folded_exactly(tiny):
    import math

    s = tiny["rs_summary"]
    assert s["rank"] == (2, 4) and s["alpha"] == pytest.approx(6 / math.sqrt(4) * 4)
    logits, _ = _llama_logits(tiny["base"], tiny["ids"], lora_path=tiny["adapter_rs"])
    _assert_close(logits, tiny["hf_rs"], max_diff=F32_MAX_DIFF, max_kl=F32_KL, what="rslora adapter vs HF+PEFT")


def test_merged_gguf_matches_hf_peft(tiny):
    from srllm_guard.gguf_check import read_gguf_header

    tensors = read_gguf_header(tiny["merged"]).tensors
    types = {name: gguf.GGMLQuantizationType(t).name for name, (_, t) in tensors.items()}
    assert types["blk.0.attn_q.weight"] == "Q8_0" and types["token_embd.weight"] == "F32"  # untouched: copied
    logits, _ = _llama_logits(tiny["merged"], tiny["ids"])
    _assert_close(logits, tiny["hf_lora"], max_diff=Q8_MAX_DIFF, max_kl=Q8_KL, what="merged Q8_0 GGUF vs HF+PEFT")


# ------------------------------------------------------------------ checks that never load llama.cpp or torch


def _write_gguf(path, *, gtype="model", arch="gemma3", tensors=None, adapter_type="lora"):
    w = gguf.GGUFWriter(str(path), arch=arch)
    w.add_type(gtype)
    if gtype == "adapter":
        w.add_string("adapter.type", adapter_type)
        w.add_float32("adapter.lora.alpha", 8.0)
    else:
        w.add_block_count(1)
    for name, shape in (tensors or {}).items():
        w.add_tensor(name, np.zeros(shape, dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


@pytest.fixture()
def mini_base(tmp_path):
    """A 1-block 'gemma3' GGUF with one (n_out=8, n_in=4) weight: enough for the header checks."""
    return _write_gguf(tmp_path / "base.gguf", tensors={"blk.0.attn_q.weight": (8, 4), "output_norm.weight": (4,)})


def _adapter(tmp_path, a=(2, 4), b=(8, 2), name="blk.0.attn_q.weight", **kw):
    return _write_gguf(tmp_path / "ad.gguf", gtype="adapter", tensors={f"{name}.lora_a": a, f"{name}.lora_b": b}, **kw)


def test_validate_accepts_a_fitting_adapter(tmp_path, mini_base):
    summary = validate_adapter_gguf(_adapter(tmp_path), mini_base)
    assert summary["rank"] == 2 and summary["alpha"] == 8.0 and summary["n_tensors"] == 2
    assert summary["targets"] == ["attn_q"]


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda d: d / "missing.gguf", "not found"),
        (lambda d: (d / "x.gguf").write_text("hello") and d / "x.gguf", "not a GGUF"),
        (lambda d: _write_gguf(d / "m.gguf", tensors={"blk.0.attn_q.weight": (8, 4)}), "general.type is 'model'"),
        (lambda d: _adapter(d, adapter_type="control_vector"), "adapter.type is 'control_vector'"),
        (lambda d: _adapter(d, arch="llama"), "architecture is 'llama'"),
        (lambda d: _adapter(d, a=(2, 5)), r"blk\.0\.attn_q\.weight: lora_a \(2, 5\)"),
        (lambda d: _adapter(d, a=(8, 2), b=(2, 4)), "transposed"),
        (lambda d: _adapter(d, name="blk.3.attn_q.weight"), r"'blk\.3\.attn_q\.weight'.*does not exist"),
        (lambda d: _write_gguf(d / "h.gguf", gtype="adapter", tensors={"blk.0.attn_q.weight.lora_a": (2, 4)}),
         r"blk\.0\.attn_q\.weight\.lora_b is missing"),
    ],
    ids=["missing", "not-gguf", "model-not-adapter", "not-lora", "wrong-arch", "wrong-shape", "transposed",
         "no-such-tensor", "half-pair"],
)
def test_validate_rejects_bad_adapters(tmp_path, mini_base, make, match):
    with pytest.raises(ModelFileError, match=match) as info:
        validate_adapter_gguf(make(tmp_path), mini_base)
    assert str(tmp_path) in str(info.value)  # the message names the file


def test_gguf_check_imports_neither_torch_nor_llama_cpp():
    code = ("import sys, srllm_guard.gguf_check; "
            "assert not {'torch', 'llama_cpp', 'transformers'} & set(sys.modules), sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)


def _peft_folder(path, config, tensors):
    pytest.importorskip("torch", reason="reading PEFT weights needs the train extra")
    from safetensors.numpy import save_file

    path.mkdir()
    cfg = {"peft_type": "LORA", "r": 2, "lora_alpha": 4, "bias": "none", **config}
    (path / "adapter_config.json").write_text(json.dumps(cfg))
    save_file({k: np.zeros(v, dtype=np.float32) for k, v in tensors.items()}, str(path / "adapter_model.safetensors"))
    return path


_Q = "base_model.model.model.layers.0.self_attn.q_proj"


def test_export_refuses_dora_and_rejects_misfit_shapes(tmp_path, mini_base):
    from trainers.export import export_adapter_gguf

    dora = _peft_folder(tmp_path / "dora", {"use_dora": True}, {f"{_Q}.lora_A.weight": (2, 4)})
    with pytest.raises(ConfigError, match="DoRA"):
        export_adapter_gguf(dora, tmp_path / "a.gguf", base_gguf=mini_base)
    misfit = _peft_folder(tmp_path / "misfit", {}, {f"{_Q}.lora_A.weight": (2, 6), f"{_Q}.lora_B.weight": (8, 2)})
    with pytest.raises(ModelFileError, match=r"blk\.0\.attn_q\.weight"):
        export_adapter_gguf(misfit, tmp_path / "b.gguf", base_gguf=mini_base)
    assert not (tmp_path / "b.gguf").exists()
