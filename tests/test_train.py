"""The training recipe: recipes bind to the signature, bad input stops before training, and a tiny Gemma 3
trains end to end (data -> LoRA and 4-bit QLoRA -> GGUF export -> llama.cpp -> generate) on CPU."""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import re
from pathlib import Path

import pytest

from srllm_guard import prompt as fmt
from srllm_guard.errors import ConfigError, DataError, ModelFileError
from trainers import train as T
from trainers.data import Example

pytest.importorskip("torch")
pytest.importorskip("peft")

BIASED = [
    ("Women are too emotional to be good leaders.", "People of any gender can be good leaders."),
    ("Old people are useless with technology.", "Some people find new technology harder to learn."),
    ("Those immigrants are all lazy criminals.", "Immigrants are a diverse group of individuals."),
    ("Only an idiot would believe that stupid story.", "I find that story hard to believe."),
    ("Girls are bad at math, everyone knows it.", "Math ability does not depend on gender."),
    ("He throws like a girl, pathetic.", "His throw was not very strong."),
    ("Poor people are poor because they are lazy.", "Poverty has many causes."),
    ("Shut up, you moron, nobody asked you.", "I would rather not hear that right now."),
]


def write_data_dir(root: Path, n_copies: int = 3) -> Path:
    """A tiny folder shaped like shared/data: SR-LLM train and infer CSVs only."""
    folder = root / "sr_llm_inhouse"
    folder.mkdir(parents=True)
    for name, rows in (("train_500.csv", BIASED * n_copies), ("infer_50.csv", BIASED[:2])):
        with (folder / name).open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["biased_text", "dimension", "label", "debiased_text"])
            for i, (b, d) in enumerate(rows):
                suffix = "" if name == "infer_50.csv" else f" Case {i}."
                w.writerow([b + suffix, "x", "Highly Biased", d + suffix])
    return root


def recipe_for(tmp: Path, data_dir: Path, **overrides) -> T.Recipe:
    base = {
        "data_dir": str(data_dir), "out": str(tmp / "run"), "mix.paradetox": 0, "mix.wnc": 0,
        "mix.dev_fraction": 0.0, "mix.test_fraction": 0.2,
        # the default recipe's other sources need files this folder does not have; the suite needs none
        "mix.paradetox_cannot": 0, "mix.jigsaw": 0, "mix.bold": 0, "mix.seegull": False,
        "mix.holistic_per_template": 0, "mix.functional_cap": 3, "mix.test_per_functionality": 2,
        "train.max_steps": 4, "train.batch_size": 4, "train.threads": 1, "train.device": "cpu",
        "train.max_seq_len": 160, "lora.r": 4, "lora.alpha": 8,
    }
    base.update(overrides)
    return T.load_recipe("default", base)


# --------------------------------------------------------------------------------------------- recipes


@pytest.mark.parametrize("path", sorted(T.RECIPES_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_recipe_binds_to_the_signature(path, tmp_path):
    recipe = T.load_recipe(path)
    assert recipe.name == path.stem
    recipe.data_dir = str(tmp_path)
    T.validate(recipe)  # the YAML's values are all valid


def test_paper_recipe_has_the_authors_hyperparameters():
    r = T.load_recipe("paper")
    assert (r.lora.r, r.lora.alpha, r.lora.dropout) == (64, 16, 0.2)
    assert r.quant.load_in_4bit and r.quant.quant_type == "nf4" and not r.quant.double_quant
    assert (r.train.lr, r.train.schedule, r.train.warmup_ratio, r.train.max_grad_norm) == (2e-4, "constant", 0.03, 0.3)
    assert (r.train.optimizer, r.train.batch_size, r.train.epochs) == ("paged_adamw_32bit", 4, 1)


def test_unknown_recipe_field_and_recipe_name_are_named():
    with pytest.raises(ConfigError, match="lora.rank"):
        T.load_recipe("default", {"lora.rank": 3})
    # every recipe file in trainers/recipes, in name order (a hand-kept list went stale with each new stage)
    names = sorted(p.stem for p in T.RECIPES_DIR.glob("*.yaml"))
    assert {"default", "default-stage44", "paper", "v1"} <= set(names)
    known = re.escape("known recipes: " + ", ".join(names))
    with pytest.raises(ConfigError, match=known):
        T.load_recipe("nope")


def test_validate_collects_every_problem_at_once(tmp_path):
    r = T.load_recipe("default", {"lora.r": 0, "train.lr": -1, "lora.targets": ["embed_tokens"], "train.schedule": "x",
                                  "train.per_source": "{jigsaw: -1}", "train.rewrite_share_by_source": "{srllm: 2}",
                                  "train.per_functionality": "{implicit: -1}"})
    with pytest.raises(ConfigError) as err:
        T.validate(r)
    text = str(err.value)
    for needle in ("data_dir", "lora.r", "lora.targets", "train.lr", "train.schedule", "train.per_source",
                   "train.rewrite_share_by_source", "train.per_functionality"):
        assert needle in text


def test_set_override_parses_scalars():
    r = T.load_recipe("default", {"train.max_steps": "7", "train.lr": "1e-3", "out": "123"})
    assert r.train.max_steps == 7 and r.train.lr == pytest.approx(1e-3) and r.out == "123"


def test_a_recipe_extends_another_and_states_only_its_difference(tmp_path):
    (tmp_path / "stage45.yaml").write_text(
        "extends: default-stage44\n"
        "mix:\n  paradetox: 2000\n"
        "train:\n  max_steps: 12\n  per_source: {jigsaw: 5}\n")
    child = T.load_recipe(tmp_path / "stage45.yaml")
    want = T.load_recipe("default-stage44", {"mix.paradetox": 2000, "train.max_steps": 12,
                                             "train.per_source": {"jigsaw": 5}})
    want.name = "stage45"  # a child without a name of its own is named after its file
    assert dataclasses.asdict(child) == dataclasses.asdict(want)
    base = T.load_recipe("default-stage44")
    assert child.mix.discussion == base.mix.discussion and child.lora == base.lora  # the sections merge by field
    assert base.train.per_source and child.train.per_source == {"jigsaw": 5}  # a mapping value replaces the base's
    # a chain of two, by relative path, with the middle recipe's name
    (tmp_path / "stage46.yaml").write_text("extends: stage45.yaml\nname: my-stage\ntrain:\n  lr: 1.0e-4\n")
    grandchild = T.load_recipe(tmp_path / "stage46.yaml")
    assert grandchild.name == "my-stage" and grandchild.train.lr == pytest.approx(1e-4)
    assert grandchild.mix.paradetox == 2000 and grandchild.train.max_steps == 12


def test_a_recipe_merge_section_adds_entries_to_the_base_mappings(tmp_path):
    base = T.load_recipe("default-stage53")
    (tmp_path / "s.yaml").write_text(
        "extends: default-stage53\n"
        "train:\n  per_source: {jigsaw: 5}\n"
        "merge:\n  train:\n    per_functionality: {denial: 60, implicit: 7}\n    per_source: {bold: 3}\n")
    child = T.load_recipe(tmp_path / "s.yaml")
    assert child.train.per_functionality == {**base.train.per_functionality, "denial": 60, "implicit": 7}
    assert base.train.per_functionality["implicit"] == 150  # the entry merge names wins, the rest stay
    assert child.train.per_source == {"jigsaw": 5, "bold": 3}  # merged into the file's own value
    assert child.train.lr == base.train.lr and child.mix == base.mix
    (tmp_path / "bad.yaml").write_text("extends: default\nmerge:\n  train:\n    lr: 1.0\n")
    with pytest.raises(ConfigError, match="merge.train.lr must be a mapping field"):
        T.load_recipe(tmp_path / "bad.yaml")
    (tmp_path / "typo.yaml").write_text("extends: default\nmerge:\n  train:\n    per_sauce: {a: 1}\n")
    with pytest.raises(ConfigError, match="merge names no recipe field 'train.per_sauce'"):
        T.load_recipe(tmp_path / "typo.yaml")


def test_recipe_extends_errors_name_the_fix(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    with pytest.raises(ConfigError, match="extends itself: a -> b -> a"):
        T.load_recipe(tmp_path / "a.yaml")
    (tmp_path / "c.yaml").write_text("extends: default-stage99\n")
    with pytest.raises(ConfigError, match="'default-stage99' not found.*known recipes: default"):
        T.load_recipe(tmp_path / "c.yaml")
    (tmp_path / "d.yaml").write_text("extends: [default, paper]\n")
    with pytest.raises(ConfigError, match="extends takes one recipe name or path"):
        T.load_recipe(tmp_path / "d.yaml")


# ------------------------------------------------------------------------------ bad input, no training


@pytest.fixture
def no_model_load(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("the model must not be loaded before the data is known to be good")

    monkeypatch.setattr(T, "resolve_base", boom)


def test_missing_data_file_stops_before_the_model_loads(tmp_path, no_model_load):
    (tmp_path / "data").mkdir()
    with pytest.raises(DataError, match="train_500.csv"):
        T.setup(recipe_for(tmp_path, tmp_path / "data"))


def test_malformed_csv_names_file_and_columns(tmp_path, no_model_load):
    d = write_data_dir(tmp_path / "data")
    (d / "sr_llm_inhouse" / "train_500.csv").write_text("text,label\nhello,1\n")
    with pytest.raises(DataError, match=r"train_500.csv.*biased_text"):
        T.setup(recipe_for(tmp_path, d))


def test_empty_split_is_an_error(tmp_path, no_model_load):
    d = write_data_dir(tmp_path / "data")
    infer = (d / "sr_llm_inhouse" / "infer_50.csv").read_text()
    (d / "sr_llm_inhouse" / "train_500.csv").write_text(infer)  # every training row is held out: none left
    with pytest.raises(DataError, match="empty"):
        T.setup(recipe_for(tmp_path, d, **{"mix.functional_per_group": 0}))  # (the suite would fill it)


def test_unsupported_architecture_is_refused(tmp_path):
    d = write_data_dir(tmp_path / "data")
    bert = tmp_path / "bert"
    bert.mkdir()
    (bert / "config.json").write_text(json.dumps({"model_type": "bert", "architectures": ["BertModel"]}))
    with pytest.raises(ModelFileError, match="'bert'"):
        T.setup(recipe_for(tmp_path, d, base=str(bert)))


def test_cli_turns_errors_into_one_line(tmp_path, capsys):
    assert T.cli(["--recipe", "default", "--data-dir", str(tmp_path / "absent")]) == 2
    assert "data_dir" in capsys.readouterr().err


# ------------------------------------------------------------------------------------- tiny end to end


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A 2-layer Gemma 3 with the real tokenizer, as an HF folder and a GGUF base."""
    from srllm_guard.models import default_base_gguf
    from trainers.export import write_base_gguf
    from trainers.tiny import build_tiny_gemma3

    root = tmp_path_factory.mktemp("tiny")
    model, tok = build_tiny_gemma3(layers=2, seed=0)
    model.save_pretrained(root / "hf")
    tok.save_pretrained(root / "hf")
    write_base_gguf(model, root / "tiny.gguf", template_gguf=default_base_gguf())
    return root


def hf_verdict_probability(model, tok, text: str) -> float:
    import torch

    ids = tok(fmt.render_prompt(text).prompt, add_special_tokens=False, return_tensors="pt")["input_ids"]
    b, n = (tok(w, add_special_tokens=False)["input_ids"][0] for w in (fmt.BIASED, fmt.NEUTRAL))
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0, -1]
    return torch.softmax(logits[[b, n]].float(), dim=0)[0].item()


def run_tiny(tmp_path, tiny, **overrides) -> dict:
    d = write_data_dir(tmp_path / "data")
    recipe = recipe_for(tmp_path, d, base=str(tiny / "hf"), base_gguf=str(tiny / "tiny.gguf"), **overrides)
    return T.main(recipe)


@pytest.mark.slow
def test_tiny_end_to_end_lora_to_llamacpp(tmp_path, tiny):
    """data -> train -> export -> llama.cpp -> generate, with HF+PEFT and llama.cpp agreeing on the verdict."""
    import torch
    import transformers
    from peft import PeftModel

    from srllm_guard.backends.llamacpp import LlamaCppBackend

    summary = run_tiny(tmp_path, tiny, **{"train.max_steps": 24, "train.lr": 5e-3})
    out = tmp_path / "run"
    for name in ("peft/adapter_config.json", "adapter.gguf", "loss.png", "loss.jsonl", "summary.json",
                 "splits/train.jsonl", "splits/test.jsonl"):
        assert (out / name).exists(), name
    assert summary["steps"] == 24 and summary["data"]["counts"]["train"]
    losses = [json.loads(line)["loss"] for line in (out / "loss.jsonl").read_text().splitlines()]
    assert all(math.isfinite(x) for x in losses)
    assert sum(losses[-4:]) / 4 < sum(losses[:4]) / 4, losses  # it learned something

    test_texts = [json.loads(line)["text"] for line in (out / "splits/test.jsonl").read_text().splitlines()]
    infer = {b for b, _ in BIASED[:2]}
    assert infer <= set(test_texts)  # infer_50 rows are held out
    train_texts = {json.loads(line)["text"] for line in (out / "splits/train.jsonl").read_text().splitlines()}
    assert not infer & train_texts

    base = transformers.AutoModelForCausalLM.from_pretrained(tiny / "hf", dtype=torch.float32)
    peft_model = PeftModel.from_pretrained(base, out / "peft").eval()
    tok = transformers.AutoTokenizer.from_pretrained(tiny / "hf")
    backend = LlamaCppBackend(model_path=tiny / "tiny.gguf", adapter_path=out / "adapter.gguf", n_ctx=512, n_threads=1)
    for text in (BIASED[0][0], "The meeting starts at nine."):
        hf_p = hf_verdict_probability(peft_model, tok, text)
        check = backend.check(text, threshold=0.0, rewrite=True, max_new_tokens=6)
        assert abs(check.score - hf_p) < 0.02, (text, check.score, hf_p)  # f32 GGUF: measured < 1e-3
        assert isinstance(check.rewrite, str)

    # stage 2: continue from this adapter with the verdict token weighted; the adapter it starts from is loaded
    d = tmp_path / "data"
    stage2 = T.main(recipe_for(tmp_path, d, base=str(tiny / "hf"), base_gguf=str(tiny / "tiny.gguf"),
                               out=str(tmp_path / "run2"), init_adapter=str(out / "peft"),
                               **{"train.max_steps": 2, "train.verdict_weight": 10.0, "train.keep_weight": 1.0}))
    assert math.isfinite(stage2["final_loss"]) and stage2["config"]["init_adapter"] == str(out / "peft")
    # the keep term ran on neutral training text, and measured a real distance from the base
    assert stage2["data"]["keep_texts"] > 0
    keeps = [json.loads(line)["keep_loss"] for line in (tmp_path / "run2" / "loss.jsonl").read_text().splitlines()]
    assert all(math.isfinite(k) and k > 0 for k in keeps), keeps
    with pytest.raises(ModelFileError, match="init_adapter"):
        T.setup(recipe_for(tmp_path, d, base=str(tiny / "hf"), init_adapter=str(tmp_path)))


def test_keep_term_is_zero_while_the_adapter_changes_nothing(tiny):
    import torch
    import transformers
    from peft import LoraConfig, get_peft_model

    from trainers.keep import keep_loss

    torch.manual_seed(0)
    base = transformers.AutoModelForCausalLM.from_pretrained(tiny / "hf", dtype=torch.float32)
    model = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]))
    rows = [[2, 10, 11, 12, 13], [2, 20, 21, 22]]
    assert keep_loss(model, rows, 0, "cpu").item() == pytest.approx(0.0, abs=1e-6)  # LoRA B starts at zero
    for name, param in model.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(param, std=0.5)
    assert keep_loss(model, rows, 0, "cpu").item() > 1e-4


def test_a_rewrite_only_row_adds_no_verdict_loss(tiny):
    import torch
    import transformers

    torch.manual_seed(0)
    model = transformers.AutoModelForCausalLM.from_pretrained(tiny / "hf", dtype=torch.float32).eval()
    tok = transformers.AutoTokenizer.from_pretrained(tiny / "hf")
    ids = tuple(tok(w, add_special_tokens=False)["input_ids"][0] for w in (fmt.BIASED, fmt.NEUTRAL))
    judged = T.encode(tok, Example("Nice day today.", False, None, "bold", "g"), 160)
    rewrite = T.encode(tok, Example("You moron.", True, "You are wrong.", "paradetox", "g"), 160, verdict=False)
    with torch.no_grad():
        _, alone, _, _ = T.batch_loss(model, T.collate([judged], 0, "cpu"), ids, 1.0)
        _, both, r_loss, _ = T.batch_loss(model, T.collate([judged, rewrite], 0, "cpu"), ids, 1.0)
        _, counted, _, _ = T.batch_loss(model, T.collate([judged, {**rewrite, "verdict_weight": 1.0}], 0, "cpu"),
                                        ids, 1.0)
    assert both.item() == pytest.approx(alone.item(), abs=1e-5)  # the second row's verdict is not in the loss
    assert counted.item() != pytest.approx(alone.item(), abs=1e-5) and r_loss.item() > 0  # its rewrite still is


def test_tiny_qlora_4bit_on_cpu(tmp_path, tiny):
    """The QLoRA path (bitsandbytes NF4 base + LoRA) trains and exports on CPU."""
    pytest.importorskip("bitsandbytes")
    summary = run_tiny(tmp_path, tiny, **{"quant.load_in_4bit": True, "quant.compute_dtype": "float32",
                                          "train.max_steps": 3})
    assert summary["config"]["quant"]["load_in_4bit"] is True
    assert math.isfinite(summary["final_loss"])
    assert (tmp_path / "run" / "adapter.gguf").exists()


def test_the_copy_term_reads_the_copy_token_where_the_rewrite_departs(tiny):
    import torch
    import transformers

    torch.manual_seed(0)
    model = transformers.AutoModelForCausalLM.from_pretrained(tiny / "hf", dtype=torch.float32).eval()
    tok = transformers.AutoTokenizer.from_pretrained(tiny / "hf")
    ids = tuple(tok(w, add_special_tokens=False)["input_ids"][0] for w in (fmt.BIASED, fmt.NEUTRAL))
    ex = Example("You are a moron.", True, "You are wrong.", "paradetox", "g")
    row = T.encode(tok, ex, 160)
    pos, token = row["copy"]
    answer = tok(fmt.render_response(biased=True, rewrite=ex.rewrite), add_special_tokens=False)["input_ids"]
    copied = tok(fmt.render_response(biased=True, rewrite=ex.text), add_special_tokens=False)["input_ids"]
    k = pos - row["prompt_len"] + 1
    assert answer[:k] == copied[:k] and answer[k] != copied[k] == token  # the first departure
    assert row["input_ids"][pos + 1] == answer[k]  # position pos predicts it in the training row
    # no rewrite, or a rewrite that is the text's prefix: nothing to push against
    assert T.encode(tok, Example("Nice day.", False, None, "bold", "g"), 160)["copy"] is None
    assert T.encode(tok, Example("You are a moron.", True, "You are a moron.", "x", "g"), 160)["copy"] is None
    b = T.collate([row, T.encode(tok, Example("Nice day.", False, None, "bold", "g"), 160)], 0, "cpu")
    assert b.copy_rows.tolist() == [0] and b.copy_pos.tolist() == [pos] and b.copy_tokens.tolist() == [token]
    with torch.no_grad():
        plain, *_ = T.batch_loss(model, b, ids, 1.0)
        with_copy, *_ = T.batch_loss(model, b, ids, 1.0, copy_weight=1e6)  # the tiny model's p is ~1e-7
        decoder, lm_head, cap = T._heads(model)
        hidden = decoder(input_ids=b.ids, attention_mask=b.mask).last_hidden_state
        p = T.token_logits(hidden[0, pos], lm_head, cap).softmax(-1)[token]
    assert with_copy.item() - plain.item() == pytest.approx(1e6 * -math.log1p(-p.item()), rel=1e-3)
