"""Hugging Face / PEFT -> GGUF for llama.cpp, with the ``gguf`` package alone (no llama.cpp convert scripts).

Three exports, read top-down:

- :func:`write_base_gguf`: a full Gemma 3 GGUF from an HF ``Gemma3ForCausalLM`` (used for the tiny test model);
  tokenizer metadata is copied from a template GGUF (the shipped base).
- :func:`export_adapter_gguf`: a PEFT LoRA folder -> llama.cpp LoRA adapter GGUF, shape-checked against the base.
- :func:`export_merged_gguf`: base + LoRA merged into one GGUF: the base file's metadata and untouched tensors
  are copied byte for byte, only the LoRA-targeted weights are rewritten (dequantized + scale * B @ A, then
  quantized to ``qtype``).

Conventions (llama.cpp's gemma3, measured in tests/test_export.py): GGUF numpy shapes are torch's Linear
``(n_out, n_in)``, so weights and LoRA factors go in as they are (Gemma uses NEOX rope: no q/k permutation);
Gemma RMSNorm scales by ``1 + w`` and GGUF stores ``w + 1``; the output layer is tied to ``token_embd``.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from srllm_guard.errors import ConfigError, ModelFileError, require
from srllm_guard.gguf_check import LORA_TARGETS, read_gguf_header, validate_adapter_gguf
from srllm_guard.merge import copy_fields, open_gguf

__all__ = ["write_base_gguf", "export_adapter_gguf", "export_merged_gguf", "load_peft_lora", "LoraPair"]

_ARCH = "gemma3"
_PEFT_KEY = re.compile(r"^(?:base_model\.model\.)?(?P<module>.+)\.lora_(?P<half>[AB])(?:\.[^.]+)?\.weight$")


def _gguf():
    return require("gguf", extra="all")


def _tensor_map(n_blocks: int):
    gguf = _gguf()
    return gguf.TensorNameMap(gguf.MODEL_ARCH.GEMMA3, n_blocks)


def _atomic_target(out_path: str | os.PathLike[str]) -> tuple[Path, Path]:
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    return out, out.with_name(out.name + ".tmp")


def _write(writer, tmp: Path, out: Path) -> None:
    try:
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
    finally:
        writer.close()
    tmp.replace(out)


# ---------------------------------------------------------------------------------------------- base model


def _check_gemma3_config(cfg) -> None:
    """Collect every way ``cfg`` differs from what llama.cpp's gemma3 graph computes, and raise once."""
    problems = []
    if getattr(cfg, "model_type", None) != "gemma3_text":
        problems.append(f"model_type is {getattr(cfg, 'model_type', None)!r}, expected 'gemma3_text'")
    if cfg.query_pre_attn_scalar != cfg.head_dim:
        problems.append(f"query_pre_attn_scalar={cfg.query_pre_attn_scalar} must equal head_dim={cfg.head_dim} "
                        "(llama.cpp scales attention by 1/sqrt(head_dim) for every size but 27B)")
    if cfg.attn_logit_softcapping:
        problems.append("attn_logit_softcapping is set; llama.cpp's gemma3 graph has none")
    if getattr(cfg, "use_bidirectional_attention", False):
        problems.append("use_bidirectional_attention=True is not a causal LM")
    if cfg.hidden_activation != "gelu_pytorch_tanh":
        problems.append(f"hidden_activation={cfg.hidden_activation!r}, llama.cpp uses gelu (tanh)")
    for kind in ("full_attention", "sliding_attention"):
        rope = (cfg.rope_parameters or {}).get(kind, {})
        if rope.get("rope_type", "default") != "default":
            problems.append(f"rope_parameters[{kind!r}] uses {rope.get('rope_type')!r} scaling; only 'default'")
    if problems:
        raise ConfigError("write_base_gguf: the model config cannot be written as gemma3 GGUF: " + "; ".join(problems))


def write_base_gguf(model, out_path: str | os.PathLike[str], *, template_gguf: str | os.PathLike[str],
                    dtype: str = "f32") -> Path:
    """Write an HF ``Gemma3ForCausalLM`` as a full gemma3 GGUF; tokenizer metadata comes from ``template_gguf``.

    ``dtype`` is ``'f32'`` or ``'f16'`` (2-D weights only; norms stay f32, as llama.cpp's converter does).
    """
    gguf = _gguf()
    if dtype not in ("f32", "f16"):
        raise ConfigError(f"write_base_gguf: dtype={dtype!r}; use 'f32' or 'f16'")
    cfg = getattr(model.config, "text_config", model.config)
    _check_gemma3_config(cfg)
    template = open_gguf(read_gguf_header(template_gguf).path)
    n_tokens = len(template.fields["tokenizer.ggml.tokens"].data)
    if n_tokens != cfg.vocab_size:
        raise ModelFileError(f"{template_gguf}: its vocabulary has {n_tokens} tokens but the model's vocab_size is "
                             f"{cfg.vocab_size}; build the model with this template's tokenizer")

    out, tmp = _atomic_target(out_path)
    w = gguf.GGUFWriter(str(tmp), arch=_ARCH)
    w.add_type(gguf.GGUFType.MODEL)
    w.add_name(str(getattr(cfg, "_name_or_path", "") or "gemma3 (srllm-guard export)"))
    w.add_file_type(gguf.LlamaFileType.ALL_F32 if dtype == "f32" else gguf.LlamaFileType.MOSTLY_F16)
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    w.add_context_length(cfg.max_position_embeddings)
    w.add_embedding_length(cfg.hidden_size)
    w.add_block_count(cfg.num_hidden_layers)
    w.add_feed_forward_length(cfg.intermediate_size)
    w.add_head_count(cfg.num_attention_heads)
    w.add_head_count_kv(cfg.num_key_value_heads)
    w.add_key_length(cfg.head_dim)
    w.add_value_length(cfg.head_dim)
    w.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    w.add_rope_freq_base(cfg.rope_parameters["full_attention"]["rope_theta"])
    w.add_rope_freq_base_swa(cfg.rope_parameters["sliding_attention"]["rope_theta"])
    if cfg.sliding_window:
        w.add_sliding_window(cfg.sliding_window)
        # Per-layer pattern: llama.cpp's default (every 6th layer global) is right only for the real sizes.
        w.add_sliding_window_pattern([t == "sliding_attention" for t in cfg.layer_types])
    if cfg.final_logit_softcapping:
        w.add_final_logit_softcapping(cfg.final_logit_softcapping)
    copy_fields(template, w, only_prefix="tokenizer.")

    tmap = _tensor_map(cfg.num_hidden_layers)
    state = model.state_dict()
    tied = getattr(cfg, "tie_word_embeddings", True)
    for key, tensor in state.items():
        if key == "lm_head.weight" and tied:
            continue  # llama.cpp falls back to token_embd when output.weight is absent
        name = tmap.get_name(key, try_suffixes=(".weight", ".bias"))
        if name is None:
            raise ModelFileError(f"write_base_gguf: no gemma3 GGUF name for HF tensor {key!r}; "
                                 "only Gemma3ForCausalLM text weights can be written")
        data = tensor.detach().to("cpu").float().numpy()
        if name.endswith("norm.weight"):
            data = data + 1.0  # Gemma RMSNorm multiplies by (1 + w); GGUF stores the factor itself
        if dtype == "f16" and data.ndim == 2:
            data = data.astype(np.float16)
        w.add_tensor(name, np.ascontiguousarray(data))
    _write(w, tmp, out)
    return out


# ---------------------------------------------------------------------------------------------- PEFT input


@dataclass(frozen=True)
class LoraPair:
    """One LoRA-adapted weight, named as in GGUF (``blk.3.attn_q.weight``)."""

    name: str
    a: np.ndarray
    """lora_A, shape (r, n_in), float32."""
    b: np.ndarray
    """lora_B, shape (n_out, r), float32."""
    scale: float
    """PEFT's scaling for this module: alpha / r, or alpha / sqrt(r) with rslora."""


# Non-default settings that change what the adapter computes beyond ``W + scale * B @ A`` (or that change the
# base weights themselves), so no llama.cpp LoRA adapter can reproduce them.
_REFUSED = {
    "use_dora": "DoRA rescales each output by a learned magnitude; llama.cpp adapters are plain LoRA "
                "(merge it in PEFT and export the merged model instead)",
    "lora_bias": "a bias on lora_B has no place in a llama.cpp LoRA adapter",
    "modules_to_save": "fully trained copies of modules (modules_to_save) cannot be stored in a LoRA adapter",
    "trainable_token_indices": "trained token embeddings cannot be stored in a llama.cpp LoRA adapter",
    "layer_replication": "layer replication changes the model's depth",
    "target_parameters": "LoRA on raw parameters (target_parameters) is not a Linear LoRA",
    "use_qalora": "QA-LoRA pools the input before lora_A; llama.cpp applies A to the full input",
    "kasa_config": "KaSA inserts a learned diagonal between A and B and edits the base weight",
    "use_bdlora": "block-diagonal LoRA factors are stored compressed",
    "monteclora_config": "MonteCLoRA samples its factors",
    "arrow_config": "Arrow routes between several adapters",
    "alora_invocation_tokens": "activated LoRA is not supported by this exporter",
    "fan_in_fan_out": "fan_in_fan_out is for GPT-2 Conv1D layers, Gemma 3 has nn.Linear",
}
_BASE_CHANGING_INITS = ("pissa", "olora", "loftq", "corda", "lora_ga")


def _peft_config(peft_dir: Path) -> dict[str, Any]:
    path = peft_dir / "adapter_config.json"
    if not path.is_file():
        raise ModelFileError(f"{path} not found; pass the folder written by PEFT's save_pretrained")
    try:
        cfg = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ModelFileError(f"{path} is not valid JSON ({exc}); save the adapter again") from exc
    problems = []
    if cfg.get("peft_type") != "LORA":
        problems.append(f"peft_type is {cfg.get('peft_type')!r}; only LORA adapters can be exported")
    for key, why in _REFUSED.items():
        if cfg.get(key):
            problems.append(f"{key}={cfg[key]!r}: {why}")
    if cfg.get("bias", "none") != "none":
        problems.append(f"bias={cfg['bias']!r}: trained biases cannot be stored in a LoRA adapter; use bias='none'")
    init = cfg.get("init_lora_weights", True)
    if isinstance(init, str) and init.lower().startswith(_BASE_CHANGING_INITS):
        problems.append(f"init_lora_weights={init!r} modifies the base weights; convert it to plain LoRA with "
                        "PEFT's save_pretrained(path_initial_model_for_weight_conversion=...) first")
    if problems:
        raise ConfigError(f"{path}: this adapter cannot be represented as a llama.cpp LoRA: " + "; ".join(problems))
    return cfg


def _pattern_value(patterns: dict[str, Any], module: str, default: Any) -> Any:
    """PEFT's rank/alpha pattern lookup (``peft.utils.other.get_pattern_key``): first key matching a suffix."""
    for key, value in patterns.items():
        if re.match(rf"(.*\.)?({key})$", module):
            return value
    return default


def load_peft_lora(peft_dir: str | os.PathLike[str], *, n_blocks: int) -> tuple[dict[str, Any], list[LoraPair]]:
    """Read a PEFT LoRA folder into GGUF-named ``LoraPair``s; refuse what llama.cpp cannot represent."""
    safetensors_torch = require("safetensors.torch", extra="train", package="safetensors")
    peft_dir = Path(peft_dir)
    cfg = _peft_config(peft_dir)
    weights = peft_dir / "adapter_model.safetensors"
    if not weights.is_file():
        legacy = (peft_dir / "adapter_model.bin").exists()
        hint = " (found adapter_model.bin: save with safe_serialization=True)" if legacy else ""
        raise ModelFileError(f"{weights} not found{hint}; pass the folder written by PEFT's save_pretrained")
    state = safetensors_torch.load_file(str(weights))
    tmap = _tensor_map(n_blocks)
    halves: dict[str, dict[str, Any]] = {}
    modules: dict[str, str] = {}
    for key, tensor in state.items():
        m = _PEFT_KEY.match(key)
        if not m:
            raise ConfigError(f"{weights}: tensor {key!r} is not a lora_A/lora_B weight (DoRA magnitude, bias or "
                              "saved module?); llama.cpp LoRA adapters hold only A and B")
        module = m["module"].replace("model.language_model.", "model.")
        name = tmap.get_name(module + ".weight", try_suffixes=(".weight",))
        kind = name.split(".")[2] if name and name.startswith("blk.") else None
        if kind not in LORA_TARGETS:
            raise ConfigError(f"{weights}: LoRA on {module!r} (GGUF name {name!r} in a {n_blocks}-block gemma3) "
                              f"cannot be exported; adapters may target blk.N.{{{','.join(LORA_TARGETS)}}}: set "
                              "target_modules to those projections and use the base the adapter was trained on")
        halves.setdefault(name, {})[m["half"]] = tensor.detach().float().numpy()
        modules[name] = module

    r0, alpha0 = int(cfg["r"]), float(cfg["lora_alpha"])
    pairs = []
    for name in sorted(halves, key=_natural):
        ab = halves[name]
        if set(ab) != {"A", "B"}:
            raise ModelFileError(f"{weights}: {modules[name]} has lora_{''.join(ab)} but not its partner")
        a, b = ab["A"], ab["B"]
        r = a.shape[0]
        if r != _pattern_value(cfg.get("rank_pattern") or {}, modules[name], r0):
            raise ModelFileError(f"{weights}: {modules[name]}.lora_A has rank {r}, adapter_config.json says "
                                 f"{_pattern_value(cfg.get('rank_pattern') or {}, modules[name], r0)}")
        alpha = float(_pattern_value(cfg.get("alpha_pattern") or {}, modules[name], alpha0))
        scale = alpha / math.sqrt(r) if cfg.get("use_rslora") else alpha / r
        pairs.append(LoraPair(name=name, a=np.ascontiguousarray(a), b=np.ascontiguousarray(b), scale=scale))
    if not pairs:
        raise ModelFileError(f"{weights} holds no LoRA weights")
    return cfg, pairs


def _natural(name: str) -> tuple:
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name))


def _check_fits(pairs: list[LoraPair], base) -> None:
    for p in pairs:
        if p.name not in base.tensors:
            raise ModelFileError(f"LoRA tensor {p.name} has no counterpart in the base {base.path}; "
                                 "the adapter was trained on a different model")
        n_out, n_in = base.tensors[p.name][0]
        if p.a.shape != (p.a.shape[0], n_in) or p.b.shape != (n_out, p.a.shape[0]):
            raise ModelFileError(f"LoRA tensor {p.name}: lora_A {p.a.shape} / lora_B {p.b.shape} do not fit the "
                                 f"base weight ({n_out}, {n_in}) in {base.path}; the adapter was trained on a "
                                 "different model")


# ---------------------------------------------------------------------------------------------- adapter


def _base_and_lora(peft_dir, base_gguf, what: str):
    """The base GGUF's header (a gemma3 model), the PEFT config and its LoRA pairs, checked to fit the base."""
    header = read_gguf_header(base_gguf)
    arch = header.kv.get("general.architecture")
    if arch != _ARCH:
        raise ModelFileError(f"{header.path}: architecture {arch!r}; this exporter {what}")
    cfg, pairs = load_peft_lora(peft_dir, n_blocks=int(header.kv[f"{_ARCH}.block_count"]))
    _check_fits(pairs, header)
    return header, cfg, pairs


def export_adapter_gguf(peft_dir: str | os.PathLike[str], out_path: str | os.PathLike[str], *,
                        base_gguf: str | os.PathLike[str], dtype: str = "f32",
                        format_version: str | None = None) -> dict[str, Any]:
    """PEFT LoRA folder -> llama.cpp LoRA adapter GGUF; returns :func:`validate_adapter_gguf`'s summary.

    llama.cpp scales each pair by ``adapter.lora.alpha / r`` (r read from the tensor). PEFT's per-module scale
    (alpha/r, alpha/sqrt(r) with rslora, alpha_pattern/rank_pattern) is represented exactly: the file's alpha is
    ``lora_alpha`` (``lora_alpha * sqrt(r)`` with rslora), and a module whose scale then comes out different
    (another rank or alpha from the patterns) gets the ratio folded into its lora_b.
    ``dtype='f16'`` halves the file; tests/test_export.py measures the logit difference.
    ``format_version`` (default: the one recorded beside ``peft_dir`` by its training run, else the current
    format) is written as ``srllm.format_version`` so the runtime renders prompts the way it was trained.
    """
    from srllm_guard import prompt

    gguf = _gguf()
    version = prompt.get_format(format_version or prompt.recorded_format(peft_dir)).version
    if dtype not in ("f32", "f16"):
        raise ConfigError(f"export_adapter_gguf: dtype={dtype!r}; use 'f32' or 'f16'")
    base, cfg, pairs = _base_and_lora(peft_dir, base_gguf, "writes gemma3 adapters")

    r0, alpha0 = int(cfg["r"]), float(cfg["lora_alpha"])
    alpha = alpha0 * math.sqrt(r0) if cfg.get("use_rslora") else alpha0  # so that alpha / r0 == PEFT's scale
    if alpha == 0:
        raise ConfigError(f"{peft_dir}: lora_alpha is 0, the adapter does nothing (llama.cpp reads alpha 0 as "
                          "'unscaled'); train with a non-zero lora_alpha")
    out, tmp = _atomic_target(out_path)
    w = gguf.GGUFWriter(str(tmp), arch=_ARCH)
    w.add_type(gguf.GGUFType.ADAPTER)
    w.add_string(gguf.Keys.Adapter.TYPE, "lora")
    w.add_float32(gguf.Keys.Adapter.LORA_ALPHA, float(alpha))
    w.add_name(f"{Path(peft_dir).name} (LoRA for {base.path.name})")
    w.add_string(prompt.GGUF_FORMAT_KEY, version)
    np_dtype = np.float32 if dtype == "f32" else np.float16
    for p in pairs:
        fold = p.scale * p.a.shape[0] / alpha  # 1.0 unless alpha_pattern (or rank_pattern + rslora) applies
        b = p.b if math.isclose(fold, 1.0, rel_tol=1e-7) else p.b * np.float32(fold)
        w.add_tensor(p.name + ".lora_a", p.a.astype(np_dtype))
        w.add_tensor(p.name + ".lora_b", np.ascontiguousarray(b.astype(np_dtype)))
    _write(w, tmp, out)
    return validate_adapter_gguf(out, base)


# ---------------------------------------------------------------------------------------------- merged


def export_merged_gguf(peft_dir: str | os.PathLike[str], out_path: str | os.PathLike[str], *,
                       base_gguf: str | os.PathLike[str], qtype: str = "Q8_0") -> Path:
    """Base GGUF + PEFT LoRA -> one merged GGUF.

    Metadata and every tensor the adapter does not touch are copied as they are (same quant types, raw bytes);
    each LoRA-targeted weight becomes ``dequantize(base) + scale * B @ A`` stored as ``qtype`` (Q8_0, Q5_0,
    Q4_0, F16 or F32: the types ``gguf`` can quantize in numpy; not K-quants).
    """
    gguf = _gguf()
    supported = ("Q8_0", "Q5_0", "Q4_0", "F16", "F32")
    if qtype not in supported:
        raise ConfigError(f"export_merged_gguf: qtype={qtype!r}; use one of {', '.join(supported)} "
                          "(gguf quantizes K-quants only through llama.cpp's llama-quantize)")
    qt = gguf.GGMLQuantizationType[qtype]
    header, _cfg, pairs = _base_and_lora(peft_dir, base_gguf, "merges into gemma3 models")
    block = gguf.GGML_QUANT_SIZES[qt][0]
    for p in pairs:
        if p.a.shape[1] % block:
            raise ConfigError(f"export_merged_gguf: {p.name} has {p.a.shape[1]} input features, not a multiple of "
                              f"{qtype}'s block of {block}; choose qtype='F16'")

    from srllm_guard.merge import write_merged_gguf

    return write_merged_gguf(header.path, {p.name: (p.a, p.b, p.scale) for p in pairs}, out_path, qtype=qtype,
                             keep_float=False)
