"""SR-LLM instruction fine-tune with (Q)LoRA: one recipe, read top-down as ``setup -> main -> fit``.

The configuration *is* the :class:`Recipe` dataclass below; YAML files in ``trainers/recipes/`` fill it
(``paper.yaml``: the authors' hyperparameters for a Llama-class model on CUDA; ``default.yaml``: the embedded
Gemma 3 270M, sized to finish on a 2-core CPU). Every argument problem is collected and raised once, before
any model is loaded, naming the field to fix.

    python -m trainers.train --recipe default --data-dir ../shared/data --out runs/sr-gemma3-270m
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
    """Loss weight of the verdict token (the first answer token) relative to each rewrite token. A biased
    answer has ~40 rewrite tokens and one verdict token, so with weight 1 the verdict, which is what the
    runtime reads as its detector, gets a small share of the gradient."""
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


def _fill(obj: Any, data: dict[str, Any]) -> None:
    for key, value in data.items():
        sub = getattr(obj, key, None)
        if dataclasses.is_dataclass(sub) and isinstance(value, dict):
            _fill(sub, value)
        else:
            _assign(obj, key, value)


def load_recipe(name_or_path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> Recipe:
    """Build a :class:`Recipe` from a YAML recipe (a name in trainers/recipes or a path) plus overrides."""
    import yaml

    recipe = Recipe()
    if name_or_path:
        path = Path(name_or_path)
        if not path.suffix:
            path = RECIPES_DIR / f"{name_or_path}.yaml"
        if not path.exists():
            known = ", ".join(sorted(p.stem for p in RECIPES_DIR.glob("*.yaml")))
            raise ConfigError(f"recipe {name_or_path!r} not found ({path}); known recipes: {known}")
        _fill(recipe, yaml.safe_load(path.read_text()) or {})
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


def load_examples(recipe: Recipe, out: Path) -> tuple[list[Example], list[Example], dict]:
    """Training and dev examples, with the manifest; splits are written next to the adapter for the record."""
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
    return train, dev, manifest


def encode(tokenizer, ex: Example, max_len: int) -> dict | None:
    """Token ids and labels (-100 on the prompt) for one example; None when it exceeds ``max_len``."""
    parts = fmt.render_prompt(ex.text)
    response = fmt.render_response(biased=ex.biased, rewrite=ex.rewrite)
    prompt_ids = tokenizer(parts.prompt, add_special_tokens=False)["input_ids"]
    response_ids = tokenizer(response, add_special_tokens=False)["input_ids"]
    ids = prompt_ids + response_ids
    if len(ids) > max_len:
        return None
    return {"input_ids": ids, "prompt_len": len(prompt_ids)}


def check_tokenizer(tokenizer) -> None:
    """The verdict must be readable from the first answer token: the two answers' first tokens must differ."""
    first = [tokenizer(fmt.render_response(biased=b, rewrite="x"), add_special_tokens=False)["input_ids"][0] for b in (True, False)]
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
    train_ex, dev_ex, manifest = load_examples(recipe, out)  # data errors surface before the model loads
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
    encoded = [e for e in (encode(tokenizer, ex, t.max_seq_len) for ex in train_ex) if e]
    dev_enc = [e for e in (encode(tokenizer, ex, t.max_seq_len) for ex in dev_ex) if e]
    manifest["dropped_too_long"] = len(train_ex) - len(encoded)
    if not encoded:
        raise DataError(f"every training example is longer than train.max_seq_len={t.max_seq_len}; raise it")
    return {
        "recipe": recipe, "model": model, "tokenizer": tokenizer, "train": encoded, "dev": dev_enc,
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


def collate(batch: list[dict], pad_id: int, device: str, verdict_weight: float = 1.0):
    """Right-padded ids, mask, labels, per-token loss weights, and how many trailing positions to keep."""
    import torch

    width = max(len(e["input_ids"]) for e in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    labels = torch.full((len(batch), width), -100, dtype=torch.long)
    weights = torch.zeros((len(batch), width), dtype=torch.float32)
    for row, e in enumerate(batch):
        n, p = len(e["input_ids"]), e["prompt_len"]
        ids[row, :n] = torch.tensor(e["input_ids"])
        mask[row, :n] = 1
        labels[row, p:n] = ids[row, p:n]
        weights[row, p:n] = 1.0
        weights[row, p] = verdict_weight
    keep = width - min(e["prompt_len"] for e in batch) + 1  # +1: the last prompt position predicts token one
    return ids.to(device), mask.to(device), labels.to(device), weights.to(device), keep


def response_loss(model, ids, mask, labels, weights, keep: int):
    """Weighted cross-entropy on response tokens, computing logits only for the last ``keep`` positions."""
    import torch.nn.functional as F

    logits = model(input_ids=ids, attention_mask=mask, logits_to_keep=keep).logits  # (B, keep, V)
    targets = labels[:, -keep + 1 :] if keep > 1 else labels[:, :0]
    w = weights[:, -keep + 1 :] if keep > 1 else weights[:, :0]
    ce = F.cross_entropy(logits[:, :-1].float().reshape(-1, logits.size(-1)), targets.reshape(-1),
                         ignore_index=-100, reduction="none")
    return (ce * w.reshape(-1)).sum() / w.sum()


def evaluate_dev(model, data: list[dict], batch_size: int, pad_id: int, device: str,
                 verdict_ids: tuple[int, int]) -> dict:
    """Dev loss (plain response CE) and verdict accuracy (biased vs neutral logit at the first answer token)."""
    import torch

    if not data:
        return {"dev_loss": None, "dev_verdict_accuracy": None}
    model.eval()
    total, correct, n = 0.0, 0, 0
    b_id, n_id = verdict_ids
    with torch.no_grad():
        for i in range(0, len(data), batch_size):
            chunk = data[i : i + batch_size]
            ids, mask, labels, weights, keep = collate(chunk, pad_id, device)
            logits = model(input_ids=ids, attention_mask=mask, logits_to_keep=keep).logits
            targets = labels[:, -keep + 1 :]
            ce = torch.nn.functional.cross_entropy(logits[:, :-1].float().reshape(-1, logits.size(-1)),
                                                   targets.reshape(-1), ignore_index=-100)
            total += ce.item() * len(chunk)
            offset = ids.size(1) - keep
            for row, e in enumerate(chunk):
                at = logits[row, e["prompt_len"] - 1 - offset]
                said_biased = bool(at[b_id] > at[n_id])
                correct += said_biased == (e["input_ids"][e["prompt_len"]] == b_id)
            n += len(chunk)
    model.train()
    return {"dev_loss": total / n, "dev_verdict_accuracy": correct / n}


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
    model.train()
    started = time.perf_counter()
    bar = tqdm(range(total), desc=f"train {recipe.name}", unit="step", dynamic_ncols=True)
    for step in bar:
        if not plan:
            plan = batches(state["train"], t.batch_size, rng)
        ids, mask, labels, weights, keep = collate(plan.pop(), pad_id, device, t.verdict_weight)
        loss = response_loss(model, ids, mask, labels, weights, keep)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), t.max_grad_norm)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        log.append({"step": step + 1, "loss": loss.item(), "lr": sched.get_last_lr()[0],
                    "elapsed_s": round(time.perf_counter() - started, 2)})
        bar.set_postfix(loss=f"{loss.item():.3f}")
        if (step + 1) % t.log_every == 0 or step + 1 == total:
            recent = [r["loss"] for r in log[-t.log_every :]]
            tqdm.write(f"step {step + 1}/{total} loss {sum(recent) / len(recent):.4f}")
    wall = time.perf_counter() - started
    verdict_ids = tuple(tok(w, add_special_tokens=False)["input_ids"][0] for w in (fmt.BIASED, fmt.NEUTRAL))
    dev = evaluate_dev(model, state["dev"], t.batch_size, pad_id, device, verdict_ids)
    model.save_pretrained(out / "peft")
    tok.save_pretrained(out / "peft")
    summary = {
        "recipe": recipe.name, "format_version": fmt.FORMAT_VERSION, "base": recipe.base,
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

        export_adapter_gguf(out / "peft", out / "adapter.gguf", base_gguf=state["base_gguf"])
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
    smooth = [sum(losses[max(0, i - k + 1) : i + 1]) / len(losses[max(0, i - k + 1) : i + 1]) for i in range(len(losses))]
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
    print(json.dumps({k: summary[k] for k in ("steps", "wall_time_s", "final_loss", "dev_loss", "dev_verdict_accuracy")}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(cli())
