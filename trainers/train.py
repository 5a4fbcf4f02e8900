"""SR-LLM instruction fine-tune with (Q)LoRA: one recipe, read top-down as ``setup -> main -> fit``.

The configuration *is* the :class:`Recipe` dataclass below; YAML files in ``trainers/recipes/`` fill it
(``paper.yaml``: the authors' hyperparameters for a Llama-class model on CUDA; ``default.yaml``: the embedded
Gemma 3 270M, sized to finish on a 2-core CPU). Every argument problem is collected and raised once, before
any model is loaded, naming the field to fix.

    python -m trainers.train --recipe default --data-dir ../shared/data --out runs/sr-gemma3-270m-v14-s1
    python -m trainers.train --recipe default --set train.max_steps=10 --set lora.r=8 ...

Loss is computed on the response only, and logits are materialised only for the response positions (half of
each step is the 262k-vocabulary output layer on Gemma 3, so this saves a large share of the work).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import platform
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from srllm_guard import prompt as fmt
from srllm_guard.errors import ConfigError, DataError, ModelFileError
from trainers.data import DataMix, Example, build_splits, read_jsonl, write_jsonl

RECIPES_DIR = Path(__file__).with_name("recipes")
SUPPORTED_MODEL_TYPES = {"gemma3_text", "gemma3", "gemma2", "gemma", "llama", "mistral", "qwen2", "qwen3", "phi3"}


@dataclass
class LoRAArgs:
    r: int = 16
    """LoRA rank."""
    alpha: float = 32.0
    """LoRA alpha (scale = alpha / r)."""
    dropout: float = 0.05
    """Dropout on the LoRA input."""
    targets: list[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"])
    """Module names to adapt; llama.cpp's adapter format supports q/k/v/o and gate/up/down projections."""


@dataclass
class QuantArgs:
    load_in_4bit: bool = False
    """Load the base in 4-bit through bitsandbytes (QLoRA)."""
    quant_type: str = "nf4"
    """bitsandbytes 4-bit type: 'nf4' or 'fp4'."""
    double_quant: bool = False
    """Quantize the quantization constants too."""
    compute_dtype: str = "float32"
    """dtype of the 4-bit matmuls: float32 on CPU (bfloat16 is ~10x slower there), bfloat16 on CUDA."""


@dataclass
class TrainArgs:
    lr: float = 2e-4
    """Peak learning rate."""
    schedule: str = "constant"
    """'constant' (after warmup) or 'cosine'."""
    warmup_ratio: float = 0.03
    """Share of steps spent warming up linearly."""
    max_grad_norm: float = 0.3
    """Gradient clipping norm."""
    batch_size: int = 4
    """Examples per optimizer step."""
    epochs: float = 1.0
    """Passes over the training split (fractions allowed)."""
    max_steps: int | None = None
    """Stop after this many steps (overrides epochs)."""
    max_seq_len: int = 256
    """Longer examples are dropped (counted in the summary), never silently truncated."""
    optimizer: str = "adamw_torch"
    """'adamw_torch' or 'paged_adamw_32bit' (bitsandbytes; CUDA only)."""
    weight_decay: float = 0.0
    """AdamW weight decay."""
    seed: int = 0
    """Seed for shuffling, LoRA init and dropout."""
    threads: int | None = None
    """torch CPU threads (None: torch's default)."""
    log_every: int = 5
    """Steps between loss log lines."""
    verdict_weight: float = 1.0
    """Weight of the verdict loss (two-way cross-entropy, biased vs neutral, averaged over the batch's
    examples) against the rewrite loss (cross-entropy averaged over the batch's rewrite tokens)."""
    examples: int | None = None
    """Training examples this stage uses (None: the whole training split), in a stable hash order."""
    skip: int = 0
    """Examples of that order to skip (the earlier stages' ``examples``), so each stage sees new ones."""
    rewrite_share: float = 1.0
    """Share of the chosen biased examples that keep their rewrite; the rest train the verdict only (a
    verdict-only example costs a third of one with a rewrite on this CPU)."""
    per_source: dict[str, int] | None = None
    """Most examples per source in this stage (after ``skip``, in the same stable order); a source not named
    contributes none. None: no quota, ``examples`` alone decides. Lets a stage weight the sources it works on.
    ``<source>:biased`` or ``<source>:neutral`` is a quota of its own for that side of the source (the plain name,
    when also given, counts the other side): weights human-written neutral text without its near-identical
    biased twins (WNC's two sides differ by a word)."""
    per_functionality: dict[str, int] = field(default_factory=dict)
    """Most examples of each named functionality in this stage (a templated family: ``implicit``, ``individual``,
    ``hb_negative``; an obfuscated copy counts as its plain family), taken in the same stable order beside
    ``per_source``: an example of a named functionality counts against this quota instead of its source's. Lets a
    stage weight one family of a source that holds many (the suite's 14) without weighting the rest."""
    rewrite_share_by_source: dict[str, float] = field(default_factory=dict)
    """``rewrite_share`` for the named sources (the rest use ``rewrite_share``)."""
    rewrite_only_sources: list[str] = field(default_factory=list)
    """Sources that teach the rewrite alone: their biased examples keep their rewrite and add no verdict loss, and
    their neutral or rewrite-less examples are left out of the stage. For pairs whose register should shape how
    the model rewrites but whose labels should not move what it flags (the sentence-sized SR-LLM pairs' two sides
    differ by a word or two, unlike the suite's)."""
    dev_examples: int | None = 800
    """Dev examples scored after training (None: all)."""
    copy_weight: float = 0.0
    """Weight of the copy term: for each example with a rewrite, where its rewrite first departs from its own text
    (the first answer token that differs between ``biased\n{rewrite}`` and ``biased\n{text}``), the unlikelihood
    ``-log(1 - p)`` of the text's token there, the token that would continue a copy of the sentence. Read from the
    same forward pass as the rewrite loss (one more row of the output layer per example). The guard's commonest
    rewrite failure on human-written text is a copy of the sentence; 0 turns it off."""
    keep_weight: float = 0.0
    """Weight of the knowledge-keeping term (:mod:`trainers.keep`): KL(base || adapted) next-token
    distributions on plain neutral training text; 0 turns it off."""
    keep_per_step: int = 2
    """Plain neutral texts per step for the keep term (each costs two forward passes and one backward)."""
    max_minutes: float | None = None
    """Stop after this much training time even if steps remain (the recorded step count says where)."""
    device: str = "auto"
    """'auto' (CUDA when available), 'cpu' or 'cuda'."""


@dataclass
class Recipe:
    name: str = "custom"
    """Recipe name, recorded in the summary."""
    base: str = "embedded"
    """'embedded' (the shipped Gemma 3 270M GGUF), a GGUF path, a local HF folder or a Hugging Face model id."""
    base_gguf: str | None = None
    """GGUF file of the same base for exporting llama.cpp adapters (set automatically for GGUF bases)."""
    data_dir: str | None = None
    """Folder shaped like shared/data (see trainers/data.py)."""
    train_jsonl: str | None = None
    """Alternatively, ready prepared examples (JSONL written by trainers.data.write_jsonl)."""
    out: str = "runs/sr-llm"
    """Output folder: PEFT adapter, adapter GGUF, loss curve, summary, splits."""
    init_adapter: str | None = None
    """Continue training from this PEFT adapter folder instead of a fresh LoRA (its r/alpha/targets win)."""
    export_gguf: bool = True
    """Write adapter.gguf for llama.cpp after training (needs a GGUF base)."""
    prompt_format: str = fmt.FORMAT_VERSION
    """Prompt format version (see srllm_guard/prompt.py); recorded in the summary and the adapter GGUF."""
    mix: DataMix = field(default_factory=DataMix)
    lora: LoRAArgs = field(default_factory=LoRAArgs)
    quant: QuantArgs = field(default_factory=QuantArgs)
    train: TrainArgs = field(default_factory=TrainArgs)


# ----------------------------------------------------------------------------------------------- config


def _assign(obj: Any, dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    for name in parents:
        obj = getattr(obj, name)
    names = {f.name: f for f in dataclasses.fields(obj)}
    if leaf not in names:
        raise ConfigError(f"unknown recipe field {dotted!r}; known here: {', '.join(names)}")
    kind = str(names[leaf].type)
    if isinstance(value, str) and not kind.startswith("str"):
        import yaml  # "--set train.max_steps=10" arrives as text: parse it as the YAML scalar it is

        value = yaml.safe_load(value)
    if kind.startswith("float") and isinstance(value, (int, str)) and not isinstance(value, bool):
        try:
            value = float(value)  # YAML reads "1e-3" (no dot) as text
        except ValueError:
            raise ConfigError(f"{dotted} takes a number, got {value!r}") from None
    setattr(obj, leaf, value)


def _fill(obj: Any, data: dict[str, Any], merge_of: str | None = None, prefix: str = "") -> None:
    """Set the fields ``data`` names on ``obj``, recursing into sections. With ``merge_of`` (the name of the recipe
    whose ``merge:`` section ``data`` is; see :func:`_fill_from_file`) each mapping's entries are added to the
    mapping field's own instead."""
    for key, value in data.items():
        sub = getattr(obj, key, None)
        dotted = prefix + key
        if dataclasses.is_dataclass(sub) and isinstance(value, dict):
            _fill(sub, value, merge_of, dotted + ".")
        elif merge_of is None:
            _assign(obj, key, value)
        elif not hasattr(obj, key):
            names = ", ".join(f.name for f in dataclasses.fields(obj))
            raise ConfigError(f"recipe {merge_of!r}: merge names no recipe field {dotted!r}; known here: {names}")
        elif dataclasses.is_dataclass(sub):
            raise ConfigError(f"recipe {merge_of!r}: merge.{dotted} is a section; give it mapping fields")
        elif isinstance(value, dict) and (sub is None or isinstance(sub, dict)):
            _assign(obj, key, {**(sub or {}), **value})
        else:
            raise ConfigError(f"recipe {merge_of!r}: merge.{dotted} must be a mapping field given a mapping (got "
                              f"{value!r} for a field holding {sub!r}); set a plain field outside merge:")


def _recipe_path(name_or_path: str | Path, relative_to: Path | None = None) -> Path:
    """A recipe name (``default-stage44``: a file in trainers/recipes) or a YAML path (relative to
    ``relative_to``, the folder of the recipe that names it, when given; else to the working folder)."""
    path = Path(name_or_path)
    if not path.suffix:
        path = RECIPES_DIR / f"{name_or_path}.yaml"
    elif relative_to is not None and not path.is_absolute():
        path = relative_to / path
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in RECIPES_DIR.glob("*.yaml")))
        raise ConfigError(f"recipe {str(name_or_path)!r} not found ({path}); known recipes: {known}")
    return path


def _fill_from_file(recipe: Recipe, path: Path, chain: tuple[Path, ...] = ()) -> None:
    """Fill ``recipe`` from one YAML file, after the recipe its ``extends:`` key names (recursively).

    ``extends: default-stage44`` loads that recipe first, then this file's keys on top, field by field: a
    section (``mix:``, ``train:``, ...) keeps every field this file does not set, and a field's value, a mapping
    such as ``train.per_source`` included, replaces the base's whole. So a stage states only its difference.

    A ``merge:`` section, laid out like the recipe (``merge: {train: {per_functionality: {denial: 60}}}``), names
    mapping fields whose entries are added to what the file has so far (its base's, or its own when it sets the
    field too) instead of replacing it: an entry it names wins, the rest stay."""
    import yaml

    if path.resolve() in chain:
        names = " -> ".join(p.stem for p in (*chain, path.resolve()))
        raise ConfigError(f"recipe {path.stem!r} extends itself: {names}")
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"recipe {path} must be a YAML mapping of fields, got {type(data).__name__}")
    base = data.pop("extends", None)
    if base is not None:
        if not isinstance(base, str) or not base:
            raise ConfigError(f"recipe {path.stem!r}: extends takes one recipe name or path, got {base!r}")
        _fill_from_file(recipe, _recipe_path(base, path.parent), (*chain, path.resolve()))
        data.setdefault("name", path.stem)
    merge = data.pop("merge", None) or {}
    if not isinstance(merge, dict):
        raise ConfigError(f"recipe {path.stem!r}: merge takes sections of mapping fields, got {merge!r}")
    _fill(recipe, data)
    _fill(recipe, merge, merge_of=path.stem)


def load_recipe(name_or_path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> Recipe:
    """Build a :class:`Recipe` from a YAML recipe (a name in trainers/recipes or a path) plus overrides.

    A recipe may start from another (``extends: <name or path>``, see :func:`_fill_from_file`)."""
    recipe = Recipe()
    if name_or_path:
        _fill_from_file(recipe, _recipe_path(name_or_path))
    for key, value in (overrides or {}).items():
        _assign(recipe, key, value)
    return recipe


def validate(recipe: Recipe) -> None:
    """Collect every argument problem and raise them together, naming the field to fix."""
    problems: list[str] = []
    t, lora, q = recipe.train, recipe.lora, recipe.quant
    if not recipe.data_dir and not recipe.train_jsonl:
        problems.append("data_dir: pass --data-dir (a folder like shared/data) or --train-jsonl")
    if recipe.data_dir and not Path(recipe.data_dir).is_dir():
        problems.append(f"data_dir: {recipe.data_dir} is not a folder")
    if recipe.train_jsonl and not Path(recipe.train_jsonl).is_file():
        problems.append(f"train_jsonl: {recipe.train_jsonl} does not exist")
    if lora.r < 1:
        problems.append(f"lora.r must be >= 1 (got {lora.r})")
    if not 0 <= lora.dropout < 1:
        problems.append(f"lora.dropout must be in [0, 1) (got {lora.dropout})")
    allowed = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}
    if not lora.targets or set(lora.targets) - allowed:
        problems.append(f"lora.targets must be a non-empty subset of {sorted(allowed)} (got {lora.targets})")
    if t.lr <= 0 or t.batch_size < 1 or t.max_seq_len < 32:
        problems.append("train.lr > 0, train.batch_size >= 1 and train.max_seq_len >= 32 are required")
    if t.schedule not in {"constant", "cosine"}:
        problems.append(f"train.schedule must be 'constant' or 'cosine' (got {t.schedule!r})")
    if t.optimizer not in {"adamw_torch", "paged_adamw_32bit"}:
        problems.append(f"train.optimizer must be 'adamw_torch' or 'paged_adamw_32bit' (got {t.optimizer!r})")
    if t.max_steps is None and t.epochs <= 0:
        problems.append("train.epochs must be > 0 (or set train.max_steps)")
    if q.quant_type not in {"nf4", "fp4"} or q.compute_dtype not in {"float32", "bfloat16", "float16"}:
        problems.append("quant.quant_type must be nf4|fp4 and quant.compute_dtype float32|bfloat16|float16")
    if recipe.prompt_format not in fmt.FORMATS:
        problems.append(f"prompt_format must be one of {', '.join(fmt.FORMATS)} (got {recipe.prompt_format!r})")
    if t.keep_weight < 0 or t.keep_per_step < 1:
        problems.append(f"train.keep_weight must be >= 0 and train.keep_per_step >= 1 (got {t.keep_weight}, "
                        f"{t.keep_per_step})")
    if t.copy_weight < 0:
        problems.append(f"train.copy_weight must be >= 0 (got {t.copy_weight})")
    if t.per_source is not None and any(not isinstance(n, int) or n < 0 for n in t.per_source.values()):
        problems.append(f"train.per_source takes whole numbers >= 0 per source (got {t.per_source})")
    if any(not isinstance(n, int) or n < 0 for n in t.per_functionality.values()):
        problems.append(f"train.per_functionality takes whole numbers >= 0 per functionality (got "
                        f"{t.per_functionality})")
    if any(not 0 <= v <= 1 for v in [t.rewrite_share, *t.rewrite_share_by_source.values()]):
        problems.append("train.rewrite_share and train.rewrite_share_by_source take shares in [0, 1]")
    if t.device not in {"auto", "cpu", "cuda"}:
        problems.append(f"train.device must be auto|cpu|cuda (got {t.device!r})")
    base = recipe.base
    if base != "embedded" and base.endswith(".gguf") and not Path(base).is_file():
        problems.append(f"base: GGUF file {base} does not exist")
    if problems:
        raise ConfigError("invalid recipe:\n  - " + "\n  - ".join(problems))


# ------------------------------------------------------------------------------------------------ setup


def resolve_base(recipe: Recipe) -> tuple[str, str | None]:
    """Return (HF model path or id, GGUF base path or None)."""
    from srllm_guard.models import default_base_gguf, hf_base_dir

    if recipe.base == "embedded":
        gguf = default_base_gguf()
        return str(hf_base_dir(gguf)), str(gguf)
    if recipe.base.endswith(".gguf"):
        return str(hf_base_dir(recipe.base)), recipe.base
    return recipe.base, recipe.base_gguf


def load_examples(recipe: Recipe, out: Path) -> tuple[list[Example], list[Example], list[str], dict]:
    """This stage's training examples, the dev examples, the keep term's texts (:mod:`trainers.keep`, from the
    whole training split) and the manifest; splits are written next to the adapter for the record."""
    if recipe.train_jsonl:
        train = read_jsonl(recipe.train_jsonl)
        dev: list[Example] = []
        manifest = {"train_jsonl": recipe.train_jsonl, "counts": {"train": len(train)}}
    else:
        splits = build_splits(recipe.data_dir, recipe.mix)
        train, dev, manifest = splits.train, splits.dev, splits.manifest
        for name in ("train", "dev", "test"):
            write_jsonl(getattr(splits, name), out / "splits" / f"{name}.jsonl")
    if not train:
        raise DataError("the training split is empty; add data or lower mix.dev_fraction/mix.test_fraction")
    from trainers.keep import keep_texts

    keep = keep_texts(train) if recipe.train.keep_weight > 0 else []
    train, manifest["stage_sample"] = stage_sample(train, recipe.train)
    dev = _ranked(dev, "dev", recipe.train.seed)[: recipe.train.dev_examples]
    return train, dev, keep, manifest


def _ranked(examples: list[Example], salt: str, seed: int) -> list[Example]:
    import hashlib

    def key(ex: Example) -> bytes:
        return hashlib.sha256(f"{seed}:{salt}:{ex.source}:{ex.text}".encode("utf-8")).digest()

    return sorted(examples, key=key)


def stage_sample(train: list[Example], t: TrainArgs) -> tuple[list[Example], dict]:
    """This stage's share of the training split: ``t.examples`` examples after skipping ``t.skip`` in a stable
    hash order (so a later stage with ``skip`` = the earlier stages' total sees only new examples), at most
    ``t.per_source`` of each source (and ``t.per_functionality`` of each named family) when quotas are set, and
    rewrites kept for a ``t.rewrite_share`` (or the source's ``t.rewrite_share_by_source``) of the biased ones (the
    rest train their verdict only). A source of
    ``t.rewrite_only_sources`` contributes only its biased examples with a rewrite, each keeping it (the quota
    counts those)."""
    known = {ex.source for ex in train}
    quotas = t.per_source or {}
    quoted = {n.rsplit(":", 1)[0] if n.endswith((":biased", ":neutral")) else n for n in quotas}  # sources named
    for name, named in (("per_source", quoted), ("rewrite_only_sources", t.rewrite_only_sources)):
        unknown = sorted(set(named) - known)
        if unknown:
            raise DataError(f"train.{name} names source(s) the training split lacks: {', '.join(unknown)}; "
                            f"known: {', '.join(sorted(known))}")
    families = {ex.family for ex in train}
    unknown = sorted(set(t.per_functionality) - families)
    if unknown:
        raise DataError(f"train.per_functionality names functionalities the training split lacks: "
                        f"{', '.join(unknown)}; known: {', '.join(sorted(f for f in families if f))}")
    only = set(t.rewrite_only_sources)
    train = [ex for ex in train if ex.source not in only or (ex.biased and ex.rewrite)]
    ranked = _ranked(train, "stage", t.seed)[t.skip :]
    if t.per_source is not None or t.per_functionality:
        taken: Counter[str] = Counter()
        quota = []
        for ex in ranked:
            family = ex.family
            if family in t.per_functionality:
                key, limit = "functionality:" + family, t.per_functionality[family]
            elif (side := f"{ex.source}:{'biased' if ex.biased else 'neutral'}") in quotas:
                key, limit = side, quotas[side]
            else:
                key, limit = ex.source, (quotas.get(ex.source, 0) if t.per_source is not None else None)
            if limit is None or taken[key] < limit:
                taken[key] += 1
                quota.append(ex)
        ranked = quota
    chosen = ranked[: t.examples] if t.examples is not None else ranked
    if t.skip and not chosen:
        raise DataError(f"train.skip={t.skip} skips the whole training split ({len(train)} examples); lower it")
    out = []
    for i, ex in enumerate(chosen):
        share = t.rewrite_share_by_source.get(ex.source, t.rewrite_share)
        keep = ex.rewrite is not None and (ex.source in only or ((i * 7919) % 1000) / 1000 < share)
        out.append(ex if keep or ex.rewrite is None else dataclasses.replace(ex, rewrite=None))
    record = {"pool": len(train), "skip": t.skip, "examples": len(out),
              "with_rewrite": sum(ex.rewrite is not None for ex in out), "biased": sum(ex.biased for ex in out),
              "per_source": dict(sorted(Counter(ex.source for ex in out).items()))}
    if t.per_functionality:
        record["per_functionality"] = dict(sorted(Counter(f for ex in out if (f := ex.family)
                                                          in t.per_functionality).items()))
    return out, record


def encode(tokenizer, ex: Example, max_len: int, version: str | None = None, *, verdict: bool = True) -> dict | None:
    """Token ids for one example; None when it exceeds ``max_len``.

    ``input_ids`` is the prompt, followed by the whole answer (``biased\n{rewrite}<end_of_turn>``) only when there
    is a rewrite to learn: a neutral or detection-only example needs just the prompt, since its one target is
    the verdict read at the prompt's last position. ``verdict`` is 1 for biased, 0 for neutral;
    ``verdict_weight`` 0 when the example trains its rewrite alone (``verdict=False``, ``train.rewrite_only_sources``);
    ``copy``: ``(position, token)`` where the rewrite first departs from a copy of the text (``train.copy_weight``),
    None when it has no rewrite or the rewrite never departs (a prefix of the text).
    """
    prompt_ids = tokenizer(fmt.render_prompt(ex.text, version=version).prompt, add_special_tokens=False)["input_ids"]
    ids = list(prompt_ids)
    copy = None
    if ex.biased and ex.rewrite:
        answer = tokenizer(fmt.render_response(biased=True, rewrite=ex.rewrite), add_special_tokens=False)["input_ids"]
        copied = tokenizer(fmt.render_response(biased=True, rewrite=ex.text), add_special_tokens=False)["input_ids"]
        k = next((i for i, (a, c) in enumerate(zip(answer, copied)) if a != c), None)
        if k is not None:  # the position that predicts answer token k, and the copy's token there
            copy = (len(prompt_ids) + k - 1, copied[k])
        ids += answer
    if len(ids) > max_len:
        return None
    return {"input_ids": ids, "prompt_len": len(prompt_ids), "verdict": int(ex.biased),
            "verdict_weight": 1.0 if verdict else 0.0, "copy": copy}


def check_tokenizer(tokenizer) -> None:
    """The verdict must be readable from the first answer token: the two answers' first tokens must differ."""
    first = [tokenizer(fmt.render_response(biased=b, rewrite="x"), add_special_tokens=False)["input_ids"][0]
             for b in (True, False)]
    if first[0] == first[1]:
        raise ModelFileError(
            f"the tokenizer starts both verdicts {fmt.BIASED!r} and {fmt.NEUTRAL!r} with the same token; "
            "change the verdict words in srllm_guard/prompt.py for this model"
        )
    bos = tokenizer.bos_token
    if bos and not fmt.render_prefix().startswith(bos):
        # the prompt hard-codes Gemma's "<bos>"; other tokenizers still train fine on it as text
        print(f"note: tokenizer bos {bos!r} differs from the prompt's; trained as plain text", file=sys.stderr)


def setup(recipe: Recipe) -> dict:
    """Validate everything, then load data, tokenizer and model; returns the pieces ``fit`` needs."""
    validate(recipe)
    import torch
    import transformers
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

    out = Path(recipe.out)
    out.mkdir(parents=True, exist_ok=True)
    train_ex, dev_ex, keep, manifest = load_examples(recipe, out)  # data errors surface before the model loads
    hf_path, base_gguf = resolve_base(recipe)
    t = recipe.train
    if t.threads:
        torch.set_num_threads(t.threads)
    device = "cuda" if t.device == "cuda" or (t.device == "auto" and torch.cuda.is_available()) else "cpu"
    if t.device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("train.device=cuda but no CUDA device is visible; use --set train.device=cpu")
    try:
        config = transformers.AutoConfig.from_pretrained(hf_path)
    except OSError as exc:
        raise ModelFileError(f"cannot read a model config from {hf_path!r}: {exc}") from exc
    model_type = getattr(config, "model_type", "?")
    if model_type not in SUPPORTED_MODEL_TYPES:
        raise ModelFileError(
            f"base {hf_path!r} is a {model_type!r} model; supported decoder families: "
            f"{', '.join(sorted(SUPPORTED_MODEL_TYPES))}"
        )
    tokenizer = transformers.AutoTokenizer.from_pretrained(hf_path)
    check_tokenizer(tokenizer)
    random.seed(t.seed)
    torch.manual_seed(t.seed)
    kwargs: dict[str, Any] = {"dtype": torch.float32}
    if recipe.quant.load_in_4bit:
        compute = getattr(torch, recipe.quant.compute_dtype)
        kwargs["quantization_config"] = transformers.BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type=recipe.quant.quant_type,
            bnb_4bit_use_double_quant=recipe.quant.double_quant,
            bnb_4bit_compute_dtype=compute,
        )
        kwargs["device_map"] = {"": device}
    model = transformers.AutoModelForCausalLM.from_pretrained(hf_path, **kwargs)
    if recipe.quant.load_in_4bit:
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    else:
        model.to(device)
    lcfg = LoraConfig(
        r=recipe.lora.r,
        lora_alpha=recipe.lora.alpha,
        lora_dropout=recipe.lora.dropout,
        target_modules=list(recipe.lora.targets),
        bias="none",
        task_type="CAUSAL_LM",
    )
    if recipe.init_adapter:
        from peft import PeftModel

        if not (Path(recipe.init_adapter) / "adapter_config.json").is_file():
            raise ModelFileError(f"init_adapter: no adapter_config.json in {recipe.init_adapter}")
        model = PeftModel.from_pretrained(model, recipe.init_adapter, is_trainable=True)
    else:
        model = get_peft_model(model, lcfg)
    version = recipe.prompt_format
    only = set(t.rewrite_only_sources)

    def encoded_all(examples: list[Example]) -> list[dict]:
        return [e for e in (encode(tokenizer, ex, t.max_seq_len, version, verdict=ex.source not in only)
                            for ex in examples) if e]

    encoded, dev_enc = encoded_all(train_ex), encoded_all(dev_ex)
    manifest["dropped_too_long"] = len(train_ex) - len(encoded)
    keep_rows: list[list[int]] = []
    if t.keep_weight > 0:
        from trainers.keep import encode_keep

        keep_rows = encode_keep(tokenizer, keep, 48)
        manifest["keep_texts"] = len(keep_rows)
        if not keep_rows:
            raise DataError("train.keep_weight > 0 but the training split has no neutral text of "
                            "trainers.keep.KEEP_SOURCES; set train.keep_weight=0")
    if not encoded:
        raise DataError(f"every training example is longer than train.max_seq_len={t.max_seq_len}; raise it")
    return {
        "recipe": recipe, "model": model, "tokenizer": tokenizer, "train": encoded, "dev": dev_enc, "keep": keep_rows,
        "manifest": manifest, "device": device, "out": out, "hf_path": hf_path, "base_gguf": base_gguf,
    }


# ------------------------------------------------------------------------------------------------- fit


def batches(data: list[dict], batch_size: int, rng: random.Random) -> list[list[dict]]:
    """Shuffled batches of similar length (less padding): sort within windows of 32 batches."""
    order = data[:]
    rng.shuffle(order)
    window = batch_size * 32
    out: list[list[dict]] = []
    for i in range(0, len(order), window):
        chunk = sorted(order[i : i + window], key=lambda e: len(e["input_ids"]))
        out += [chunk[j : j + batch_size] for j in range(0, len(chunk), batch_size)]
    rng.shuffle(out)
    return out


@dataclass
class Batch:
    """A right-padded batch: ids and mask, where each row's verdict is read, and its rewrite targets."""

    ids: Any
    mask: Any
    verdict_pos: Any
    """Per row, the prompt's last position (where the verdict token's logits are read)."""
    verdict: Any
    """Per row, 1 biased / 0 neutral."""
    verdict_weight: Any
    """Per row, 1.0, or 0.0 where the row trains its rewrite alone."""
    rewrite_rows: Any
    rewrite_pos: Any
    """Positions whose next token is a rewrite token (the answer after the verdict word), flattened."""
    rewrite_targets: Any
    copy_rows: Any
    copy_pos: Any
    """Per row with a ``copy`` entry: the position that predicts the first answer token where the rewrite departs
    from a copy of the text, and (``copy_tokens``) the copy's token there."""
    copy_tokens: Any


def collate(batch: list[dict], pad_id: int, device: str) -> Batch:
    import torch

    width = max(len(e["input_ids"]) for e in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    rows, pos, targets = [], [], []
    for row, e in enumerate(batch):
        n, p = len(e["input_ids"]), e["prompt_len"]
        ids[row, :n] = torch.tensor(e["input_ids"])
        mask[row, :n] = 1
        for t in range(p, n - 1):  # position t predicts token t+1; token p is the verdict word itself
            rows.append(row)
            pos.append(t)
            targets.append(e["input_ids"][t + 1])
    long = lambda xs: torch.tensor(xs, dtype=torch.long, device=device)  # noqa: E731
    weights = torch.tensor([e.get("verdict_weight", 1.0) for e in batch], dtype=torch.float32, device=device)
    copies = [(row, e["copy"]) for row, e in enumerate(batch) if e.get("copy")]
    return Batch(ids.to(device), mask.to(device), long([e["prompt_len"] - 1 for e in batch]),
                 long([e["verdict"] for e in batch]), weights, long(rows), long(pos), long(targets),
                 long([row for row, _ in copies]), long([c[0] for _, c in copies]), long([c[1] for _, c in copies]))


def _heads(model) -> tuple[Any, Any, float | None]:
    """The decoder (with its LoRA layers), the output layer, and the final logit soft-cap if the model has one."""
    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    cap = getattr(inner.config, "final_logit_softcapping", None)
    return inner.model, inner.lm_head, cap


def _soft_cap(logits, cap: float | None):
    """The model's own final-logit soft-cap (Gemma 3: ``tanh(logits / cap) * cap``), or the logits as they are."""
    import torch

    return torch.tanh(logits / cap) * cap if cap else logits


def token_logits(hidden, lm_head, cap: float | None):
    """Full next-token logits (float32, soft-capped like the model's own head) from final hidden states."""
    return _soft_cap(lm_head(hidden).float(), cap)


def verdict_logits(hidden, lm_head, verdict_ids: tuple[int, int], cap: float | None):
    """(biased, neutral) logits from final hidden states: two rows of the output layer, nothing else."""
    w = lm_head.weight[list(verdict_ids)]
    return _soft_cap(hidden.float() @ w.float().T, cap)


def batch_loss(model, b: Batch, verdict_ids: tuple[int, int], verdict_weight: float, copy_weight: float = 0.0):
    """``verdict_weight`` x the verdict's two-way cross-entropy + the rewrite tokens' cross-entropy (+
    ``copy_weight`` x the copy term, see ``TrainArgs.copy_weight``).

    The runtime scores ``sigmoid(logit_biased - logit_neutral)`` at the prompt's last position, so the verdict
    is trained as exactly that two-way choice: it needs two rows of the 262k-row output layer, not all of
    them. The output layer runs in full only on rewrite positions. Returns (loss, verdict loss, rewrite loss,
    per-row P(biased)).
    """
    import torch
    import torch.nn.functional as F

    decoder, lm_head, cap = _heads(model)
    hidden = decoder(input_ids=b.ids, attention_mask=b.mask).last_hidden_state
    rows = torch.arange(b.ids.size(0), device=b.ids.device)
    two = verdict_logits(hidden[rows, b.verdict_pos], lm_head, verdict_ids, cap)
    per_row = F.cross_entropy(two, 1 - b.verdict, reduction="none")  # class 0 = biased
    v_loss = (per_row * b.verdict_weight).sum() / b.verdict_weight.sum().clamp(min=1.0)
    loss = verdict_weight * v_loss
    r_loss = torch.zeros((), device=b.ids.device)
    if b.rewrite_pos.numel():
        r_loss = F.cross_entropy(token_logits(hidden[b.rewrite_rows, b.rewrite_pos], lm_head, cap), b.rewrite_targets)
        loss = loss + r_loss
    if copy_weight > 0 and b.copy_pos.numel():
        logits = token_logits(hidden[b.copy_rows, b.copy_pos], lm_head, cap)
        p_copy = logits.softmax(dim=-1).gather(1, b.copy_tokens[:, None]).squeeze(1)
        loss = loss + copy_weight * -torch.log1p(-p_copy.clamp(max=1 - 1e-6)).mean()
    return loss, v_loss.detach(), r_loss.detach(), torch.sigmoid(two[:, 0] - two[:, 1]).detach()


def evaluate_dev(model, data: list[dict], batch_size: int, pad_id: int, device: str,
                 verdict_ids: tuple[int, int]) -> dict:
    """Dev rewrite loss, verdict loss, verdict accuracy and ROC AUC (the runtime's score, biased vs neutral)."""
    import torch

    if not data:
        return {"dev_loss": None, "dev_verdict_loss": None, "dev_verdict_accuracy": None, "dev_verdict_auc": None}
    model.eval()
    r_total, r_n, v_total, v_n = 0.0, 0, 0.0, 0.0
    scores: list[tuple[int, float]] = []
    with torch.no_grad():
        for i in range(0, len(data), batch_size):
            chunk = data[i : i + batch_size]
            b = collate(chunk, pad_id, device)
            _, v_loss, r_loss, p_biased = batch_loss(model, b, verdict_ids, 1.0)
            scores += [(y, p) for y, p, w in zip(b.verdict.tolist(), p_biased.tolist(), b.verdict_weight.tolist())
                       if w > 0]
            v_total += v_loss.item() * b.verdict_weight.sum().item()
            v_n += b.verdict_weight.sum().item()
            if b.rewrite_pos.numel():
                r_total += r_loss.item() * b.rewrite_pos.numel()
                r_n += b.rewrite_pos.numel()
    model.train()
    return {"dev_loss": r_total / r_n if r_n else None, "dev_verdict_loss": v_total / v_n if v_n else None,
            "dev_verdict_accuracy": sum((p >= 0.5) == bool(y) for y, p in scores) / len(scores) if scores else None,
            "dev_verdict_auc": _auc(scores)}


def _auc(scores: list[tuple[int, float]]) -> float | None:
    """ROC AUC by ranks (ties count half); None when one class is absent."""
    pos = sorted(p for y, p in scores if y)
    neg = sorted(p for y, p in scores if not y)
    if not pos or not neg:
        return None
    import bisect

    wins = sum(bisect.bisect_left(neg, p) + 0.5 * (bisect.bisect_right(neg, p) - bisect.bisect_left(neg, p))
               for p in pos)
    return wins / (len(pos) * len(neg))


def make_optimizer(model, t: TrainArgs, device: str):
    import torch

    params = [p for p in model.parameters() if p.requires_grad]
    if t.optimizer == "paged_adamw_32bit":
        if device != "cuda":
            raise ConfigError("train.optimizer=paged_adamw_32bit needs CUDA; use adamw_torch on CPU")
        import bitsandbytes as bnb

        return bnb.optim.PagedAdamW32bit(params, lr=t.lr, weight_decay=t.weight_decay)
    return torch.optim.AdamW(params, lr=t.lr, weight_decay=t.weight_decay)


def fit(state: dict) -> dict:
    """The training loop: progress bar, loss log, loss curve, adapter and summary on disk."""
    import torch
    from tqdm.auto import tqdm
    from transformers import get_constant_schedule_with_warmup, get_cosine_schedule_with_warmup

    recipe, model, tok, device, out = state["recipe"], state["model"], state["tokenizer"], state["device"], state["out"]
    t = recipe.train
    rng = random.Random(t.seed)
    pad_id = tok.pad_token_id if tok.pad_token_id is not None else 0
    per_epoch = math.ceil(len(state["train"]) / t.batch_size)
    total = t.max_steps or max(1, math.ceil(per_epoch * t.epochs))
    opt = make_optimizer(model, t, device)
    warm = int(total * t.warmup_ratio)
    sched = (get_cosine_schedule_with_warmup(opt, warm, total) if t.schedule == "cosine"
             else get_constant_schedule_with_warmup(opt, warm))
    log: list[dict] = []
    plan: list[list[dict]] = []
    verdict_ids = tuple(tok(w, add_special_tokens=False)["input_ids"][0] for w in (fmt.BIASED, fmt.NEUTRAL))
    model.train()
    started = time.perf_counter()
    bar = tqdm(range(total), desc=f"train {recipe.name}", unit="step", dynamic_ncols=True)
    for step in bar:
        if not plan:
            plan = batches(state["train"], t.batch_size, rng)
        loss, v_loss, r_loss, _ = batch_loss(model, collate(plan.pop(), pad_id, device), verdict_ids,
                                             t.verdict_weight, t.copy_weight)
        k_loss = torch.zeros(())
        if t.keep_weight > 0:
            from trainers.keep import keep_loss, sample

            k_loss = keep_loss(model, sample(state["keep"], t.keep_per_step, rng), pad_id, device)
            loss = loss + t.keep_weight * k_loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), t.max_grad_norm)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        log.append({"step": step + 1, "loss": loss.item(), "verdict_loss": v_loss.item(),
                    "rewrite_loss": r_loss.item(), "keep_loss": k_loss.item(), "lr": sched.get_last_lr()[0],
                    "elapsed_s": round(time.perf_counter() - started, 2)})
        bar.set_postfix(loss=f"{loss.item():.3f}")
        if (step + 1) % t.log_every == 0 or step + 1 == total:
            recent = [r["loss"] for r in log[-t.log_every :]]
            tqdm.write(f"step {step + 1}/{total} loss {sum(recent) / len(recent):.4f}")
        if t.max_minutes and time.perf_counter() - started > t.max_minutes * 60:
            tqdm.write(f"stopping after step {step + 1}: train.max_minutes={t.max_minutes} reached")
            total = step + 1
            break
    wall = time.perf_counter() - started
    dev = evaluate_dev(model, state["dev"], t.batch_size, pad_id, device, verdict_ids)
    model.save_pretrained(out / "peft")
    tok.save_pretrained(out / "peft")
    summary = {
        "recipe": recipe.name, "format_version": recipe.prompt_format, "base": recipe.base,
        "hf_base": state["hf_path"], "base_gguf": state["base_gguf"], "steps": total,
        "examples_seen": total * t.batch_size, "train_examples": len(state["train"]),
        "wall_time_s": round(wall, 1), "s_per_step": round(wall / total, 3), "final_loss": log[-1]["loss"],
        **dev, "device": device, "hardware": _hardware(device),
        "torch_threads": torch.get_num_threads(), "data": state["manifest"],
        "config": dataclasses.asdict(recipe),
    }
    (out / "loss.jsonl").write_text("".join(json.dumps(r) + "\n" for r in log))
    plot_loss(log, out / "loss.png", title=f"{recipe.name}: {total} steps, {wall / 60:.1f} min on {device}")
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    if recipe.export_gguf and state["base_gguf"]:
        from trainers.export import export_adapter_gguf

        export_adapter_gguf(out / "peft", out / "adapter.gguf", base_gguf=state["base_gguf"],
                            format_version=recipe.prompt_format)
        summary["adapter_gguf"] = str(out / "adapter.gguf")
        (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    return summary


def _hardware(device: str) -> str:
    if device == "cuda":
        import torch

        return torch.cuda.get_device_name(0)
    import os

    return f"{platform.processor() or platform.machine()} CPU, {os.cpu_count()} cores"


def plot_loss(log: list[dict], path: Path, *, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [r["step"] for r in log]
    losses = [r["loss"] for r in log]
    k = max(1, len(losses) // 20)
    windows = [losses[max(0, i - k + 1) : i + 1] for i in range(len(losses))]
    smooth = [sum(w) / len(w) for w in windows]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(steps, losses, alpha=0.3, label="loss")
    ax.plot(steps, smooth, label=f"mean of {k}")
    ax.set_xlabel("step")
    ax.set_ylabel("response cross-entropy")
    ax.set_title(title, fontsize=9)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(recipe: Recipe) -> dict:
    return fit(setup(recipe))


def cli(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trainers.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipe", default="default", help="recipe name in trainers/recipes or a YAML path")
    parser.add_argument("--data-dir", help="folder shaped like shared/data")
    parser.add_argument("--train-jsonl", help="prepared examples instead of --data-dir")
    parser.add_argument("--base", help="'embedded', a GGUF path, a local HF folder or a model id")
    parser.add_argument("--out", help="output folder")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="override a recipe field, e.g. --set train.max_steps=10 --set lora.r=8")
    args = parser.parse_args(argv)
    overrides: dict[str, Any] = {}
    for flag, key in (("data_dir", "data_dir"), ("train_jsonl", "train_jsonl"), ("base", "base"), ("out", "out")):
        if getattr(args, flag):
            overrides[key] = getattr(args, flag)
    for item in args.set:
        if "=" not in item:
            parser.error(f"--set takes FIELD=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        overrides[key.strip()] = value
    try:
        summary = main(load_recipe(args.recipe, overrides))
    except (ConfigError, DataError, ModelFileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    shown = ("steps", "wall_time_s", "final_loss", "dev_loss", "dev_verdict_accuracy")
    print(json.dumps({k: summary[k] for k in shown}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(cli())
