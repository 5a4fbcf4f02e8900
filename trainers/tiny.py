"""A tiny, randomly initialised Gemma 3 text model with the real Gemma 3 tokenizer, for fast CPU tests.

It has the shipped base's vocabulary (262,144 tokens), special tokens, norm and attention conventions, so a
prompt tokenizes and flows exactly as in the real model, and its GGUF (``trainers.export.write_base_gguf``)
loads in llama.cpp. Only the sizes are small.
"""

from __future__ import annotations

import os

from srllm_guard.errors import ConfigError, require

__all__ = ["build_tiny_gemma3", "tiny_layer_types"]


def tiny_layer_types(layers: int, pattern: int = 6) -> list[str]:
    """Gemma 3's local/global layout (every ``pattern``-th layer global) with the last layer always global.

    For 18 layers this is exactly the 270M model's layout; for 2 layers it gives one sliding and one full
    layer, so both rope bases (10k local, 1M global) are exercised.
    """
    return [
        "full_attention" if (i + 1) % pattern == 0 or i == layers - 1 else "sliding_attention"
        for i in range(layers)
    ]


def build_tiny_gemma3(
    tokenizer_dir: str | os.PathLike[str] | None = None,
    *,
    layers: int = 2,
    hidden: int = 64,
    heads: int = 2,
    kv_heads: int = 1,
    head_dim: int = 32,
    ffn: int = 128,
    seed: int = 0,
):
    """Return ``(Gemma3ForCausalLM, tokenizer)``: random float32 weights, deterministic by ``seed``.

    ``tokenizer_dir`` is a folder with the Gemma 3 tokenizer (default: ``srllm_guard.models.hf_base_dir()``,
    the cached HF copy of the shipped base; slow only the first time). Attention scaling is 1/sqrt(head_dim)
    (``query_pre_attn_scalar = head_dim``), which is what llama.cpp uses for every Gemma 3 size but 27B.

    Weights are drawn with a larger spread than HF's default init (std 0.02 gives logits of std 0.16, near-uniform
    over 262k tokens, where argmax flips on rounding): embeddings std 0.25 (tied output: logits std ~2, top-token
    probability 0.05-0.3 and a top-2 margin of 2-5 on short prompts, so both argmax and KL are informative),
    linear layers 1/sqrt(fan_in). Norm weights are random rather than zero, so a wrong norm offset in an export
    shows up in the logits.
    """
    torch = require("torch", extra="train")
    transformers = require("transformers", extra="train")
    problems = [
        f"{name}={value} must be a positive integer"
        for name, value in dict(layers=layers, hidden=hidden, heads=heads, kv_heads=kv_heads,
                                head_dim=head_dim, ffn=ffn).items()
        if not isinstance(value, int) or value <= 0
    ]
    if not problems and heads % kv_heads:
        problems.append(f"heads={heads} must be a multiple of kv_heads={kv_heads}")
    if not problems and head_dim % 2:
        problems.append(f"head_dim={head_dim} must be even (rope rotates pairs)")
    if problems:
        raise ConfigError("build_tiny_gemma3: " + "; ".join(problems))

    if tokenizer_dir is None:
        from srllm_guard.models import hf_base_dir

        tokenizer_dir = hf_base_dir()
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(tokenizer_dir))
    config = transformers.Gemma3TextConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=ffn,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        head_dim=head_dim,
        query_pre_attn_scalar=head_dim,
        hidden_activation="gelu_pytorch_tanh",
        max_position_embeddings=2048,
        rms_norm_eps=1e-6,
        sliding_window=512,
        layer_types=tiny_layer_types(layers),
        rope_parameters={
            "full_attention": {"rope_type": "default", "rope_theta": 1_000_000.0},
            "sliding_attention": {"rope_type": "default", "rope_theta": 10_000.0},
        },
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        final_logit_softcapping=None,
        attn_logit_softcapping=None,
    )
    config.architectures = ["Gemma3ForCausalLM"]

    generator = torch.Generator().manual_seed(seed)
    with torch.device("cpu"):
        model = transformers.Gemma3ForCausalLM(config).to(torch.float32)
    with torch.no_grad():
        for name, param in sorted(model.named_parameters()):  # sorted: order-independent determinism
            if name.endswith("norm.weight"):
                # Gemma norms scale by (1 + w): keep the scale positive and near 1, but not exactly 1.
                param.copy_(torch.empty_like(param).uniform_(-0.3, 0.3, generator=generator))
            else:
                fan_in = param.shape[-1]
                std = 0.25 if name.endswith("embed_tokens.weight") else fan_in**-0.5
                param.copy_(torch.randn(param.shape, generator=generator) * std)
    model.eval()
    return model, tokenizer
