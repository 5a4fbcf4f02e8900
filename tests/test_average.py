"""trainers.average: the averaged adapter is the exact weighted sum of the inputs' LoRA updates."""

from __future__ import annotations

import copy
import dataclasses
import json
import shutil

import numpy as np
import pytest

from srllm_guard.errors import ConfigError

TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def _lora(model, r, alpha, seed, path):
    torch = pytest.importorskip("torch")
    peft = pytest.importorskip("peft", reason="needs the train extra: pip install 'srllm-guard[train]'")
    wrapped = peft.get_peft_model(copy.deepcopy(model),
                                  peft.LoraConfig(r=r, lora_alpha=alpha, target_modules=TARGETS, lora_dropout=0.0))
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in wrapped.named_parameters():
            if "lora_" in name:
                param.copy_(torch.randn(param.shape, generator=gen) * 0.1)
    wrapped.save_pretrained(path)
    return path


def _updates(peft_dir):
    from trainers.export import load_peft_lora

    _, pairs = load_peft_lora(peft_dir, n_blocks=2)
    return {p.name: p.scale * (p.b @ p.a) for p in pairs}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    pytest.importorskip("torch", reason="needs the train extra: pip install 'srllm-guard[train]'")
    from trainers.tiny import build_tiny_gemma3

    root = tmp_path_factory.mktemp("average")
    model, tok = build_tiny_gemma3(seed=0)
    # different ranks and scales, so that per-adapter scaling is exercised
    one = _lora(model, 4, 8, seed=1, path=root / "one")
    two = _lora(model, 2, 6, seed=2, path=root / "two")
    return {"root": root, "model": model, "tok": tok, "one": one, "two": two}


@pytest.mark.parametrize("weights", [None, [0.25, 0.75]])
def test_average_is_the_exact_weighted_sum(tiny, weights):
    from trainers.average import average_adapters

    out = average_adapters(copy.deepcopy(tiny["model"]), [tiny["one"], tiny["two"]],
                           tiny["root"] / f"avg-{weights}", weights)
    w = weights or [0.5, 0.5]
    one, two, avg = _updates(tiny["one"]), _updates(tiny["two"]), _updates(out)
    assert set(avg) == set(one) == set(two) and len(avg) == 14
    for name, got in avg.items():
        want = w[0] * one[name] + w[1] * two[name]
        np.testing.assert_allclose(got, want, atol=1e-6, err_msg=name)
    assert json.loads((out / "adapter_config.json").read_text())["r"] == 6


def _run(root, name, tiny, *, fmt="sr-llm-v2", test_rows="a\n", hf=None, gguf=None):
    run = root / name
    (run / "splits").mkdir(parents=True)
    for split in ("train", "dev"):
        (run / "splits" / f"{split}.jsonl").write_text("x\n")
    (run / "splits" / "test.jsonl").write_text(test_rows)
    peft_dir = tiny["one"] if name.endswith("1") else tiny["two"]
    shutil.copytree(peft_dir, run / "peft")
    from trainers.train import load_recipe

    config = dataclasses.asdict(load_recipe("default"))
    config["train"]["seed"] = int(name[-1])
    (run / "summary.json").write_text(json.dumps({
        "recipe": "default", "format_version": fmt, "base": "tiny", "hf_base": str(hf), "base_gguf": gguf,
        "steps": 10, "train_examples": 80, "wall_time_s": 60.0, "s_per_step": 6.0, "final_loss": 0.1 * int(name[-1]),
        "dev_verdict_accuracy": 0.9, "device": "cpu", "hardware": "test CPU", "torch_threads": 1,
        "data": {"counts": {}}, "config": config}))
    return run


def test_average_runs_writes_a_run_folder_and_adapter_gguf(tiny):
    from srllm_guard.gguf_check import validate_adapter_gguf
    from srllm_guard.models import default_base_gguf
    from trainers.average import average_runs
    from trainers.export import write_base_gguf

    root = tiny["root"] / "runs"
    hf = root / "hf"
    tiny["model"].save_pretrained(hf)
    tiny["tok"].save_pretrained(hf)
    base = write_base_gguf(tiny["model"], root / "tiny.gguf", template_gguf=default_base_gguf())
    runs = [_run(root, f"r{i}", tiny, hf=hf, gguf=str(base)) for i in (1, 2)]
    summary = average_runs(runs, root / "avg")
    assert [a["seed"] for a in summary["averaged_from"]] == [1, 2]
    assert summary["wall_time_s"] == 120.0 and summary["weights"] == [0.5, 0.5]
    assert (root / "avg" / "splits" / "test.jsonl").read_text() == "a\n"
    validate_adapter_gguf(root / "avg" / "adapter.gguf", base)
    assert json.loads((root / "avg" / "summary.json").read_text())["format_version"] == "sr-llm-v2"
    assert "steps" not in summary and summary["recipe"] == "default"  # one run's figures stay with that run
    assert summary["splits"] == "shared"

    from trainers.ship import model_card

    card = model_card("avg", summary, None, None, {})
    assert "exact weighted mean (weights 0.5, 0.5) of 2 runs" in card
    assert "seed 1: 10 steps" in card and "final training loss 0.200" in card and "loss.png" not in card


def test_average_runs_refuses_runs_it_cannot_average_honestly(tiny):
    from trainers.average import average_runs

    root = tiny["root"] / "bad"
    a = _run(root, "a1", tiny)
    with pytest.raises(ConfigError, match="test.jsonl differs"):
        average_runs([a, _run(root, "b2", tiny, test_rows="b\n")], root / "out")
    with pytest.raises(ConfigError, match="format_version"):
        average_runs([a, _run(root, "c2", tiny, fmt="sr-llm-v1")], root / "out")
    with pytest.raises(ConfigError, match="1 weights for 2 runs"):
        average_runs([a, _run(root, "d2", tiny)], root / "out", [1.0])
    assert not (root / "out").exists()


def test_runs_of_different_recipes_on_one_test_split_average_over_the_union_of_their_rows(tmp_path):
    from trainers.average import _union_splits

    rows = {"a": ("x\n", "d\ny\n"), "b": ("x\ny\n", "d\ne\n")}  # a's dev row y is one b trained on
    for name, (train, dev) in rows.items():
        (tmp_path / name / "splits").mkdir(parents=True)
        for split, text in (("train", train), ("dev", dev), ("test", "t\n")):
            (tmp_path / name / "splits" / f"{split}.jsonl").write_text(text)
    _union_splits([tmp_path / "a", tmp_path / "b"], tmp_path / "out")
    read = {n: (tmp_path / "out" / f"{n}.jsonl").read_text() for n in ("train", "dev", "test")}
    assert read == {"train": "x\ny\n", "dev": "d\ne\n", "test": "t\n"}
