"""Keep what the base model knows: a KL term between the base's and the adapted model's next-token
distributions on plain neutral text (``train.keep_weight``).

SR-LLM's figure of merit is two-sided: less bias *and* the base's language knowledge kept (the paper's ~90%;
here StereoSet LMS, issue 10 asks >= 95% of the base's). The verdict and rewrite losses never look at plain
text, and thousands of templated rewrites pull the language model toward their phrasing; this term anchors
it. On each step, ``train.keep_per_step`` neutral training texts (natural sources only: BOLD, ParaDetox's
human rewrites, WNC's neutral side, the SR-LLM rewrites, HolisticBias's neutral sentences) are run twice, with
the adapter off (no gradient) and on, and ``KL(base || adapted)`` averaged over their positions is added with
weight ``train.keep_weight``. Never the test split, StereoSet or counterfactual-inhouse.
"""

from __future__ import annotations

import random
from typing import Any

__all__ = ["KEEP_SOURCES", "keep_texts", "encode_keep", "keep_loss"]

KEEP_SOURCES = ("bold", "paradetox", "wnc", "srllm", "holistic_bias")
"""Sources whose neutral training texts the keep term runs on (natural text; not the functional templates)."""


def keep_texts(examples: list[Any]) -> list[str]:
    """The neutral training texts of :data:`KEEP_SOURCES`, deduplicated, in their order."""
    return list(dict.fromkeys(ex.text for ex in examples if not ex.biased and ex.source in KEEP_SOURCES))


def encode_keep(tokenizer: Any, texts: list[str], max_len: int) -> list[list[int]]:
    """Token ids (with BOS, as the base saw text in pre-training), cut to ``max_len``; texts under 4 tokens
    are skipped (nothing to predict)."""
    out = []
    for text in texts:
        ids = tokenizer(text, add_special_tokens=True)["input_ids"][:max_len]
        if len(ids) >= 4:
            out.append(ids)
    return out


def keep_loss(model: Any, rows: list[list[int]], pad_id: int, device: str) -> Any:
    """``KL(base || adapted)`` per position, averaged over the real (non-pad) positions of ``rows``."""
    import torch
    import torch.nn.functional as F

    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r)
        mask[i, : len(r)] = 1
    ids, mask = ids.to(device), mask.to(device)
    real = mask.bool()
    with torch.no_grad(), model.disable_adapter():
        base = F.log_softmax(model(input_ids=ids, attention_mask=mask).logits[real].float(), dim=-1)
    adapted = F.log_softmax(model(input_ids=ids, attention_mask=mask).logits[real].float(), dim=-1)
    return F.kl_div(adapted, base, log_target=True, reduction="batchmean")


def sample(rows: list[list[int]], k: int, rng: random.Random) -> list[list[int]]:
    return rng.sample(rows, min(k, len(rows)))
