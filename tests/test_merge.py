"""Folding the adapter into the base (srllm_guard/merge.py) and LlamaCppBackend(merge=True), its default."""

from __future__ import annotations

import gguf
import numpy as np
import pytest

from srllm_guard.errors import ModelFileError  # noqa: E402
from srllm_guard.merge import lora_pairs_from_gguf, write_merged_gguf  # noqa: E402


def _write(path, tensors: dict[str, tuple[np.ndarray, str]], *, adapter_alpha: float | None = None):
    w = gguf.GGUFWriter(str(path), arch="gemma3")
    if adapter_alpha is not None:
        w.add_type(gguf.GGUFType.ADAPTER)
        w.add_string(gguf.Keys.Adapter.TYPE, "lora")
        w.add_float32(gguf.Keys.Adapter.LORA_ALPHA, adapter_alpha)
    w.add_uint32("gemma3.block_count", 1)
    for name, (array, kind) in tensors.items():
        if kind == "Q8_0":
            w.add_tensor(name, gguf.quants.quantize(array, gguf.GGMLQuantizationType.Q8_0),
                         raw_dtype=gguf.GGMLQuantizationType.Q8_0)
        else:
            w.add_tensor(name, array.astype(np.float32 if kind == "F32" else np.float16))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def _tensor(reader, name):
    t = next(t for t in reader.tensors if t.name == name)
    data = np.asarray(t.data)
    return (data if t.tensor_type.name in ("F32", "F16") else gguf.quants.dequantize(data, t.tensor_type)), t


def test_merge_quantized_and_float_weights(tmp_path):
    rng = np.random.default_rng(0)
    wq, wf, keep = (rng.normal(size=(64, 96)).astype(np.float32) for _ in range(3))
    base = tmp_path / "base.gguf"
    _write(base, {"blk.0.attn_q.weight": (wq, "Q8_0"), "blk.0.attn_k.weight": (wf, "F32"),
                  "blk.0.ffn_up.weight": (keep, "Q8_0")})
    a, b = rng.normal(size=(4, 96)).astype(np.float32), rng.normal(size=(64, 4)).astype(np.float32)
    adapter = tmp_path / "adapter.gguf"
    _write(adapter, {"blk.0.attn_q.weight.lora_a": (a, "F32"), "blk.0.attn_q.weight.lora_b": (b, "F32"),
                     "blk.0.attn_k.weight.lora_a": (a, "F32"), "blk.0.attn_k.weight.lora_b": (b, "F32")},
           adapter_alpha=8.0)
    pairs = lora_pairs_from_gguf(adapter, scale=0.5)
    assert pairs["blk.0.attn_q.weight"][2] == pytest.approx(8.0 / 4 * 0.5)
    out = write_merged_gguf(base, pairs, tmp_path / "merged.gguf")
    merged = gguf.GGUFReader(str(out))
    base_reader = gguf.GGUFReader(str(base))
    delta = 1.0 * (b @ a)
    q, tq = _tensor(merged, "blk.0.attn_q.weight")
    base_q, _ = _tensor(base_reader, "blk.0.attn_q.weight")
    assert tq.tensor_type.name == "Q8_0"
    assert np.abs(q - (base_q + delta)).max() < 0.02 * np.abs(base_q + delta).max()  # Q8_0 step
    f, tf = _tensor(merged, "blk.0.attn_k.weight")
    assert tf.tensor_type.name == "F32" and np.allclose(f, wf + delta, atol=1e-5)  # float stays float, exact
    kept, _ = _tensor(merged, "blk.0.ffn_up.weight")
    original, _ = _tensor(base_reader, "blk.0.ffn_up.weight")
    assert np.array_equal(kept, original)  # untouched: byte for byte
    assert merged.fields["gemma3.block_count"].contents() == 1

    bad = dict(pairs, **{"blk.0.attn_v.weight": pairs["blk.0.attn_q.weight"]})
    with pytest.raises(ModelFileError, match="blk.0.attn_v.weight"):
        write_merged_gguf(base, bad, tmp_path / "bad.gguf")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adapter.gguf", "base.gguf", "merged.gguf"]


def test_backend_merges_once_and_scores_like_the_adapter_path(tmp_path_factory, monkeypatch, tmp_path):
    pytest.importorskip("torch", reason="the tiny model needs the hf extra: pip install 'srllm-guard[hf]'")
    from _tiny_srllm import tiny_srllm_paths

    from srllm_guard.backends.llamacpp import LlamaCppBackend

    paths = tiny_srllm_paths(tmp_path_factory)
    monkeypatch.setenv("SRLLM_GUARD_CACHE", str(tmp_path / "cache"))
    texts = ["Women are bad at math.", "The library opens at nine.", "Those people are lazy."]
    plain = LlamaCppBackend(model_path=paths["base_gguf"], adapter_path=paths["adapter_gguf"], merge=False, n_ctx=768)
    merged = LlamaCppBackend(model_path=paths["base_gguf"], adapter_path=paths["adapter_gguf"], n_ctx=768)
    assert merged.merged and not plain.merged and merged.model_id.endswith("(merged)")
    assert merged.adapter_hash == plain.adapter_hash  # the audit record still names the source files
    for text in texts:
        assert merged.score(text) == pytest.approx(plain.score(text), abs=1e-4)
    files = list((tmp_path / "cache" / "merged").glob("*.gguf"))
    assert len(files) == 1
    stamp = files[0].stat().st_mtime_ns
    LlamaCppBackend(model_path=paths["base_gguf"], adapter_path=paths["adapter_gguf"], n_ctx=640)  # another load
    assert [f.stat().st_mtime_ns for f in (tmp_path / "cache" / "merged").glob("*.gguf")] == [stamp]
    # a cached file cut short (a crashed copy, a full disk) is built again, never loaded (a new inode: the
    # loaded backends above keep theirs mapped)
    size = files[0].stat().st_size
    cut = files[0].with_name("cut.tmp")
    cut.write_bytes(files[0].read_bytes()[: size // 2])
    cut.replace(files[0])
    again = LlamaCppBackend(model_path=paths["base_gguf"], adapter_path=paths["adapter_gguf"], n_ctx=704)  # loads
    assert files[0].stat().st_size == size
    assert again.score(texts[0]) == pytest.approx(plain.score(texts[0]), abs=1e-4)
    stamp = files[0].stat().st_mtime_ns
    # lora_scale changes the merged weights: its own file
    half = LlamaCppBackend(model_path=paths["base_gguf"], adapter_path=paths["adapter_gguf"], lora_scale=0.5, n_ctx=768)
    half_plain = LlamaCppBackend(model_path=paths["base_gguf"], adapter_path=paths["adapter_gguf"], lora_scale=0.5,
                                 merge=False, n_ctx=768)
    assert half.score(texts[0]) == pytest.approx(half_plain.score(texts[0]), abs=1e-4)
    assert len(list((tmp_path / "cache" / "merged").glob("*.gguf"))) == 2


def test_open_gguf_reads_what_the_stock_reader_reads(tmp_path):
    """``open_gguf`` is ``gguf.GGUFReader`` over a plain array view (faster): every field and tensor the same, on
    a file with the field kinds a real base has (a string-array vocabulary, float and int arrays, scalars)."""
    from srllm_guard.merge import open_gguf

    rng = np.random.default_rng(3)
    path = tmp_path / "vocab.gguf"
    w = gguf.GGUFWriter(str(path), arch="gemma3")
    w.add_uint32("gemma3.block_count", 1)
    w.add_float32("gemma3.rope.freq_base", 10000.0)
    w.add_string("tokenizer.ggml.model", "llama")
    w.add_token_list([f"tok{i}".encode() for i in range(3000)])
    w.add_token_scores(rng.normal(size=3000).astype(np.float32).tolist())
    w.add_token_types([1] * 3000)
    w.add_bool("tokenizer.ggml.add_bos_token", True)
    w.add_tensor("blk.0.attn_q.weight", gguf.quants.quantize(rng.normal(size=(8, 64)).astype(np.float32),
                 gguf.GGMLQuantizationType.Q8_0), raw_dtype=gguf.GGMLQuantizationType.Q8_0)
    w.add_tensor("output_norm.weight", rng.normal(size=64).astype(np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    fast, stock = open_gguf(path), gguf.GGUFReader(str(path))
    assert not isinstance(fast.data, np.memmap) and len(fast.fields) == len(stock.fields) > 8
    for key, field in stock.fields.items():
        assert (fast.fields[key].types, fast.fields[key].contents()) == (field.types, field.contents()), key
    assert [(t.name, t.tensor_type, t.shape.tolist()) for t in fast.tensors] == \
        [(t.name, t.tensor_type, t.shape.tolist()) for t in stock.tensors]
    for ours, theirs in zip(fast.tensors, stock.tensors):
        assert np.array_equal(np.asarray(ours.data), np.asarray(theirs.data))
