"""Prove the export round trip on a trained adapter: HF+PEFT vs llama.cpp (adapter GGUF and merged GGUF).

    python -m trainers.roundtrip --run runs/sr-gemma3-270m-v14 [--n 40] [--merged]

For each prompt (held-out test texts), compares the next-token distribution at the verdict position:
verdict agreement (P(biased) >= 0.5 on both sides), |delta P(biased)|, top-1 agreement over the whole
vocabulary, and KL(HF || llama.cpp) over the full vocabulary. Writes ``roundtrip.json`` into the run folder.
The HF side runs the dequantized base in float32; llama.cpp runs the Q4_K_M base with quantized activations,
so small differences are expected and are what this measures.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import numpy as np

from srllm_guard import prompt as fmt


def hf_logits(model, tok, texts: list[str], version: str | None = None) -> list[np.ndarray]:
    import torch

    out = []
    with torch.no_grad():
        for text in texts:
            prompt = fmt.render_prompt(text, version=version).prompt
            ids = tok(prompt, add_special_tokens=False, return_tensors="pt")["input_ids"]
            out.append(model(input_ids=ids, logits_to_keep=1).logits[0, -1].float().numpy())
    return out


def llama_logits(model_path: str, adapter: str | None, texts: list[str]) -> list[np.ndarray]:
    from srllm_guard.backends.llamacpp import LlamaCppBackend

    backend = LlamaCppBackend(model_path=model_path, adapter_path=adapter, n_threads=1, merge=False, screen=None)
    loaded = backend.engine  # the backend's own tokenization and prefix handling are what we ship
    n_vocab = loaded.llm.n_vocab()
    out = []
    with loaded.lock:
        for text in texts:
            loaded.score_prompt(loaded.prompt_ids(text))
            out.append(np.ctypeslib.as_array(loaded.last_logits(), shape=(n_vocab,)).astype(np.float32).copy())
    return out


def compare(a: list[np.ndarray], b: list[np.ndarray], biased_id: int, neutral_id: int) -> dict:
    def softmax(x):
        e = np.exp(x - x.max())
        return e / e.sum()

    dp, kl, top1, agree = [], [], [], []
    for x, y in zip(a, b):
        pa, pb = softmax(x.astype(np.float64)), softmax(y.astype(np.float64))
        kl.append(float(np.sum(pa * (np.log(pa + 1e-30) - np.log(pb + 1e-30)))))
        top1.append(int(x.argmax()) == int(y.argmax()))
        va = 1 / (1 + np.exp(x[neutral_id] - x[biased_id]))
        vb = 1 / (1 + np.exp(y[neutral_id] - y[biased_id]))
        dp.append(abs(float(va - vb)))
        agree.append((va >= 0.5) == (vb >= 0.5))
    return {"n": len(a), "verdict_agreement": sum(agree) / len(agree), "top1_agreement": sum(top1) / len(top1),
            "p_biased_abs_diff_max": max(dp), "p_biased_abs_diff_median": statistics.median(dp),
            "kl_median": statistics.median(kl), "kl_max": max(kl)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trainers.roundtrip", description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", required=True, help="training output folder (peft/, adapter.gguf, splits/)")
    parser.add_argument("--n", type=int, default=40, help="number of test prompts")
    parser.add_argument("--merged", action="store_true", help="also export and compare a merged Q8_0 GGUF")
    args = parser.parse_args(argv)
    import torch
    import transformers
    from peft import PeftModel

    run = Path(args.run)
    summary = json.loads((run / "summary.json").read_text())
    texts = [json.loads(line)["text"] for line in (run / "splits" / "test.jsonl").read_text().splitlines()][: args.n]
    torch.set_num_threads(1)
    tok = transformers.AutoTokenizer.from_pretrained(summary["hf_base"])
    base = transformers.AutoModelForCausalLM.from_pretrained(summary["hf_base"], dtype=torch.float32)
    model = PeftModel.from_pretrained(base, run / "peft").eval()
    ids = [tok(w, add_special_tokens=False)["input_ids"][0] for w in (fmt.BIASED, fmt.NEUTRAL)]
    ref = hf_logits(model, tok, texts, summary.get("format_version", "sr-llm-v1"))
    report = {"adapter_gguf": compare(ref, llama_logits(summary["base_gguf"], str(run / "adapter.gguf"), texts), *ids)}
    if args.merged:
        from trainers.export import export_merged_gguf

        merged = export_merged_gguf(run / "peft", run / "merged-q8_0.gguf", base_gguf=summary["base_gguf"])
        report["merged_q8_0_gguf"] = compare(ref, llama_logits(str(merged), None, texts), *ids)
    (run / "roundtrip.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
