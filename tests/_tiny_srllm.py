"""A tiny model that *behaves* like an SR-LLM at the two places the backends read, for cross-backend tests.

``trainers.tiny.build_tiny_gemma3`` gives a random 2-layer Gemma 3 whose tied embeddings make it repeat its
last token: after the prompt's final ``\\n`` it answers ``\\n`` forever, and ``biased``/``neutral`` are nowhere
near its top-k. Three embedding rows are set so that, measured on the prompts used in these tests:

* after ``\\n`` (the last prompt token, and the last token of ``'biased\\n'``) the top token is ``Hello``, and
  ``biased`` / ``neutral`` rank in the top 5 with nearly equal logits (P(biased) ~0.4-0.55, text-dependent);
* after ``Hello`` the top token is ``<end_of_turn>`` (id 106).

So a rewrite is ``'Hello'`` followed by the end-of-turn stop: generation must stop there. Writing ``n`` for the
``\\n`` row, ``u`` for a random row orthogonal to it with the same norm: ``E[Hello] = 1.2 n + 0.5 u``,
``E[<end_of_turn>] = 0.3 n + 3.5 u`` (after Hello: (0.36 + 1.75) / |E[Hello]| > |E[Hello]| = 1.3),
``E[biased], E[neutral] = 0.9 n + small noise``. A PEFT LoRA (r=4, alpha=8, all 7 projections, lora_B ~ N(0, 0.1))
on top changes every logit, so base and adapter both matter.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

from srllm_guard import prompt

TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def build_tiny_srllm(root: Path) -> dict[str, Path]:
    """Write ``hf/`` (model + tokenizer), ``peft/`` (LoRA), ``tiny.gguf`` and ``adapter.gguf`` under ``root``."""
    import peft
    import torch

    from srllm_guard.models import default_base_gguf
    from trainers.export import export_adapter_gguf, write_base_gguf
    from trainers.tiny import build_tiny_gemma3

    torch.set_num_threads(1)
    model, tok = build_tiny_gemma3(seed=0)
    emb = model.get_input_embeddings().weight
    gen = torch.Generator().manual_seed(5)
    one = lambda word: tok(word, add_special_tokens=False).input_ids[0]  # noqa: E731
    with torch.no_grad():
        nl = emb[107].clone()
        u = torch.randn(nl.shape, generator=gen)
        u -= (u @ nl) / (nl @ nl) * nl
        u *= nl.norm() / u.norm()
        emb[one("Hello")] = 1.2 * nl + 0.5 * u
        emb[106] = 4.0 * u
        for word in ("biased", "neutral"):
            emb[one(word)] = 1.0 * nl + 0.6 * nl.norm() / nl.numel() ** 0.5 * torch.randn(nl.shape, generator=gen)
    paths = {"hf": root / "hf", "peft": root / "peft", "base_gguf": root / "tiny.gguf",
             "adapter_gguf": root / "adapter.gguf"}
    model.save_pretrained(paths["hf"])
    tok.save_pretrained(paths["hf"])
    write_base_gguf(model, paths["base_gguf"], template_gguf=default_base_gguf())

    config = peft.LoraConfig(r=4, lora_alpha=8, target_modules=TARGETS, lora_dropout=0.0)
    torch.manual_seed(0)  # lora_A's init draws from the global RNG: seed it, or the adapter depends on test order
    lora = peft.get_peft_model(copy.deepcopy(model), config)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, param in lora.named_parameters():
            if "lora_B" in name:
                param.copy_(torch.randn(param.shape, generator=gen) * 0.1)
    lora.save_pretrained(paths["peft"])
    # as a training run does: the prompt format is recorded beside the PEFT folder (both backends read it)
    (root / "summary.json").write_text(json.dumps({"format_version": prompt.FORMAT_VERSION}))
    export_adapter_gguf(paths["peft"], paths["adapter_gguf"], base_gguf=paths["base_gguf"])
    return paths


def tiny_srllm_paths(tmp_path_factory) -> dict[str, Path]:
    """:func:`build_tiny_srllm` once per test session (shared by the test modules that need it)."""
    root = tmp_path_factory.getbasetemp() / "tiny_srllm"
    done = root / "done"
    if not done.exists():
        root.mkdir(parents=True, exist_ok=True)
        build_tiny_srllm(root)
        done.touch()
    return {"hf": root / "hf", "peft": root / "peft", "base_gguf": root / "tiny.gguf",
            "adapter_gguf": root / "adapter.gguf"}


def median_threshold(scores: list[float]) -> float:
    """A threshold between the two middle scores, so flagged and unflagged texts are both exercised."""
    ordered = sorted(scores)
    mid = len(ordered) // 2
    return (ordered[mid - 1] + ordered[mid]) / 2
