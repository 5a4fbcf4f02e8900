"""SR-LLM on Hugging Face transformers: CUDA with a 4-bit (NF4) base for servers, float32 on CPU for tests.

The same prompt, tokens and score as :mod:`srllm_guard.backends.llamacpp`, with batching:

* **Exact tokenization.** Template markers (``<bos>``, ``<start_of_turn>`` ...) are special tokens; the user's
  text never is (``split_special_tokens=True``), and the instruction tail and the text are tokenized together,
  as the llama.cpp backend and the trainer do. A test pins both backends to the same ids.
* **Batched scoring** (:meth:`HFBackend.score_batch`): texts sorted by length, left-padded, with an attention
  mask and explicit ``position_ids`` (a plain forward call does not derive them from the mask: without them a
  padded row would be scored at shifted positions), and logits computed for the last position only
  (``logits_to_keep=1``: the 262k-token output layer is most of the cost).
* **Batched rewrites** (:meth:`HFBackend.check_many`): everything is scored first, then the flagged texts are
  continued in one greedy ``generate`` call from ``prompt + 'biased' + '\\n'``, stopping at ``<end_of_turn>``
  (id 106 in Gemma 3) or EOS.
* **Thread safety.** Every model call holds the instance's lock (one CUDA stream, no interleaved caches), and
  every tokenizer call another one (``split_special_tokens`` toggles a flag on the shared Rust tokenizer).

Where the weights come from: ``model=None`` is the cached HF copy of the embedded base GGUF
(:func:`srllm_guard.models.hf_base_dir`, float32 safetensors); otherwise a local folder or a Hub id. A Hub id
is looked up in the local cache first and never waits on a dead network: offline (``HF_HUB_OFFLINE=1``) or
with the Hub unreachable, a missing id fails at once with a :class:`ModelFileError` that says how to fix it.

The CUDA path (``device='cuda'``, NF4 via bitsandbytes) follows transformers' documented QLoRA loading; this
project's test machine has no GPU, so it is exercised on CPU only (bitsandbytes 0.50 runs NF4 on CPU too).
"""

from __future__ import annotations

import math
import os
import re
import socket
import threading
from pathlib import Path
from typing import Any, Literal, Sequence
from urllib.parse import urlparse

from srllm_guard import prompt
from srllm_guard.backends.base import BaseBackend, Check, copy_blocks, word_tokens
from srllm_guard.errors import BackendError, ConfigError, ModelFileError, require

__all__ = ["HFBackend"]

_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")
_DTYPES = ("float32", "bfloat16", "float16")
_PROBE_S = 3.0


def _offline() -> bool:
    flags = (os.environ.get(name, "") for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))
    return any(flag.strip().lower() in ("1", "true", "yes", "on") for flag in flags)


def _hub_reachable(timeout_s: float = _PROBE_S) -> bool:
    """Whether a TCP connection to the Hub endpoint opens within ``timeout_s`` (DNS included, in a thread)."""
    endpoint = os.environ.get("HF_ENDPOINT") or "https://huggingface.co"
    url = urlparse(endpoint)
    host, port = url.hostname or "huggingface.co", url.port or (443 if url.scheme == "https" else 80)
    result: list[bool] = []

    def probe() -> None:  # getaddrinfo ignores socket timeouts: bound the whole probe from outside
        try:
            socket.create_connection((host, port), timeout=timeout_s).close()
            result.append(True)
        except OSError:
            result.append(False)

    worker = threading.Thread(target=probe, name="srllm-guard-hub-probe", daemon=True)
    worker.start()
    worker.join(timeout_s)
    return bool(result and result[0])


def _resolve_model(model: str | os.PathLike[str] | None) -> tuple[str, str]:
    """``(what to pass to from_pretrained, id for the audit record)``; raises ModelFileError fast."""
    from srllm_guard import models

    if model is None:
        path = models.hf_base_dir()
        return str(path), f"{models.BASE_GGUF_NAME}(hf)"
    path = Path(model).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise ModelFileError(f"{path} is not a Hugging Face model folder (no config.json)")
        return str(path.resolve()), path.name
    text = str(model)
    if not _REPO_ID.match(text) or text.startswith((".", "~")):
        raise ModelFileError(f"model folder not found: {path}")
    hub = require("huggingface_hub", extra="hf")
    try:
        return hub.snapshot_download(text, local_files_only=True), text  # cached: no network at all
    except Exception:  # noqa: BLE001 - not cached (LocalEntryNotFoundError and friends)
        pass
    why = "HF_HUB_OFFLINE is set" if _offline() else None
    if why is None and not _hub_reachable():
        why = "the Hugging Face Hub is unreachable"
    if why:
        raise ModelFileError(
            f"model {text!r} is not in the local Hugging Face cache and {why}; download it first "
            f"(`hf download {text}` on a machine with network) or pass a local folder as model=..."
        )
    return text, text


def _resolve_adapter(adapter: str | os.PathLike[str] | None) -> Path | None:
    from srllm_guard import models

    if adapter is None:
        return None
    if adapter == "default":
        try:
            path = models.adapter_path(kind="peft")
        except ModelFileError as exc:
            raise ModelFileError(
                f"the shipped SR-LLM PEFT adapter is not available ({exc}). Pass HFBackend(adapter='path/to/"
                "peft_folder'), or adapter=None to run the bare base model (which cannot debias)."
            ) from exc
    else:
        path = Path(adapter).expanduser()
    if not (path / "adapter_config.json").is_file():
        raise ModelFileError(f"{path} is not a PEFT adapter folder (no adapter_config.json)")
    return path.resolve()


class HFBackend(BaseBackend):
    """SR-LLM on transformers (+ PEFT LoRA): batched scoring and rewrites, NF4 on CUDA by default.

    Example::

        backend = HFBackend(adapter="adapters/sr-gemma3-270m-v14/peft", device="cuda")   # NF4 base + LoRA
        backend.check_many(["Women can't do math.", "It rained."], threshold=0.5)
    """

    def __init__(
        self,
        *,
        model: str | os.PathLike[str] | None = None,
        adapter: str | os.PathLike[str] | None | Literal["default"] = "default",
        device: Literal["auto", "cpu", "cuda"] | None = "auto",
        load_in_4bit: bool | None = None,
        compute_dtype: str | Any | None = None,
        batch_size: int = 8,
        max_length: int = 2048,
        n_threads: int | None = None,
    ) -> None:
        """Load the model (and adapter).

        Args:
            model: HF model folder or Hub id; ``None`` is the HF copy of the embedded Gemma 3 270M.
            adapter: PEFT LoRA folder; ``'default'`` is the default adapter's PEFT folder (``models.DEFAULT_ADAPTER``),
                ``None`` runs the bare base.
            device: ``'auto'`` or ``None`` (CUDA when available), ``'cpu'`` or ``'cuda'`` (a :class:`ConfigError`
                without it).
            load_in_4bit: NF4 base weights via bitsandbytes; ``None`` means True on CUDA, False on CPU. The
                adapter stays unmerged on a 4-bit base and is merged into a full-precision one.
            compute_dtype: ``'float32'``, ``'bfloat16'``, ``'float16'`` (or a torch dtype); ``None`` is
                bfloat16 on CUDA (float16 where bf16 is unsupported) and float32 on CPU.
            batch_size: texts per forward pass in :meth:`score_batch` / :meth:`check_many`.
            max_length: tokens of prompt plus rewrite; a text may use about half of what the template leaves.
            n_threads: ``torch.set_num_threads`` (process-wide!) when given; ``None`` leaves torch's setting.
        """
        device = "auto" if device is None else device
        problems = []
        if device not in ("auto", "cpu", "cuda"):
            problems.append(f"device={device!r}: use 'auto', 'cpu' or 'cuda'")
        if not isinstance(batch_size, int) or batch_size < 1:
            problems.append(f"batch_size={batch_size!r} must be a positive int")
        if not isinstance(max_length, int) or max_length < 64:
            problems.append(f"max_length={max_length!r} must be an int >= 64")
        if n_threads is not None and (not isinstance(n_threads, int) or n_threads < 1):
            problems.append(f"n_threads={n_threads!r} must be a positive int or None")
        if load_in_4bit not in (None, True, False):
            problems.append(f"load_in_4bit={load_in_4bit!r} must be True, False or None")
        if problems:
            raise ConfigError("HFBackend: " + "; ".join(problems))
        torch = require("torch", extra="hf")
        transformers = require("transformers", extra="hf")

        cuda = torch.cuda.is_available()
        if device == "cuda" and not cuda:
            raise ConfigError(
                f"HFBackend(device='cuda') but CUDA is not available (torch {torch.__version__}, "
                f"built for CUDA {torch.version.cuda or 'none'}, no GPU visible); use device='cpu' or 'auto'"
            )
        self.device = "cuda" if device == "cuda" or (device == "auto" and cuda) else "cpu"
        self.load_in_4bit = self.device == "cuda" if load_in_4bit is None else load_in_4bit
        self.compute_dtype = self._dtype(torch, compute_dtype)
        self.batch_size = batch_size
        self.max_length = max_length
        if n_threads is not None:
            torch.set_num_threads(n_threads)

        source, model_name = _resolve_model(model)
        adapter_dir = _resolve_adapter(adapter)
        self._torch = torch
        self._lock = threading.Lock()
        self._tok_lock = threading.Lock()
        self._tok = transformers.AutoTokenizer.from_pretrained(source)
        self._model = self._load(transformers, source, adapter_dir)
        self.model_id = f"{model_name}+{adapter_dir.name if adapter_dir else 'none'}"
        self.model_hash = None
        self.adapter_path = adapter_dir
        self.prompt_format = prompt.format_of_adapter(adapter_dir)
        """The prompt format the adapter was trained with (:func:`srllm_guard.prompt.format_of_adapter`)."""
        self._setup_tokens()

    # ---- loading ------------------------------------------------------------------------------------
    def _dtype(self, torch: Any, value: Any) -> Any:
        if value is None:
            if self.device == "cuda":
                return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
            return torch.float32
        if isinstance(value, torch.dtype):
            return value
        if value not in _DTYPES:
            raise ConfigError(f"HFBackend: compute_dtype={value!r}; use one of {', '.join(_DTYPES)}")
        return getattr(torch, value)

    def _load(self, transformers: Any, source: str, adapter_dir: Path | None) -> Any:
        kwargs: dict[str, Any] = {"dtype": self.compute_dtype}
        if self.load_in_4bit:
            require("bitsandbytes", extra="hf")
            kwargs["quantization_config"] = transformers.BitsAndBytesConfig(
                load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=self.compute_dtype,
                bnb_4bit_use_double_quant=True,
            )
            kwargs["device_map"] = {"": 0 if self.device == "cuda" else "cpu"}
        try:
            model = transformers.AutoModelForCausalLM.from_pretrained(source, **kwargs)
        except OSError as exc:
            raise ModelFileError(f"transformers could not load {source}: {exc}") from exc
        if not self.load_in_4bit:
            model = model.to(self.device)
        if adapter_dir is not None:
            peft = require("peft", extra="hf")
            try:
                model = peft.PeftModel.from_pretrained(model, str(adapter_dir))
            except (RuntimeError, ValueError, KeyError) as exc:  # shape mismatch, wrong target modules
                raise ModelFileError(f"the PEFT adapter {adapter_dir} does not fit {source}: {exc}") from exc
            if not self.load_in_4bit:
                model = model.merge_and_unload()  # same math, no LoRA overhead per call
        return model.eval()

    def _setup_tokens(self) -> None:
        tok = self._tok
        ids = prompt.token_ids(self.prompt_format, plain=lambda s: self._plain([s])[0],
                               special=lambda s: self._encode([s], split=False)[0],  # markers parsed
                               bos_id=tok.bos_token_id, where="this tokenizer")
        self._ids = ids
        self._biased, self._neutral, self._answer = ids.biased, ids.neutral, ids.answer
        self._stop = sorted({ids.end_of_turn, tok.eos_token_id} - {None})
        self._pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        self._template_len = len(self.prompt_ids(""))

    # ---- tokens -------------------------------------------------------------------------------------
    def _encode(self, texts: Sequence[str], *, split: bool) -> list[list[int]]:
        # split_special_tokens flips a flag on the shared Rust tokenizer (and leaves it flipped): one at a time
        with self._tok_lock:
            return self._tok(list(texts), add_special_tokens=False, split_special_tokens=split).input_ids

    def _plain(self, texts: Sequence[str]) -> list[list[int]]:
        return self._encode(texts, split=True)

    def _prompt_ids_batch(self, texts: Sequence[str]) -> list[list[int]]:
        plains = [self._ids.plain_part(text) for text in texts]
        return [self._ids.head + ids + self._ids.tail for ids in self._plain(plains)]

    def prompt_ids(self, text: str) -> list[int]:
        """Tokens of the format's prompt for ``text``: markers special, instruction tail + text as plain text."""
        return self._prompt_ids_batch([text])[0]

    @property
    def max_text_tokens(self) -> int:
        """Longest text, in :meth:`count_tokens` units, accepted: half of what the template leaves."""
        return (self.max_length - self._template_len - len(self._answer)) // 2

    def count_tokens(self, text: str) -> int:
        """How many of :attr:`max_text_tokens` ``text`` uses inside the prompt."""
        return len(self.prompt_ids(text)) - self._template_len

    # ---- public API ---------------------------------------------------------------------------------
    def check(self, text: str, *, threshold: float, rewrite: bool = True, max_new_tokens: int = 256) -> Check:
        return self.check_many([text], threshold=threshold, rewrite=rewrite, max_new_tokens=max_new_tokens)[0]

    def score_batch(self, texts: Sequence[str]) -> list[float]:
        """P(biased) for each text (batched forward passes; no generation)."""
        return [c.score for c in self.check_many(texts, threshold=1.1, rewrite=False)]

    def check_no_copy(self, text: str, *, threshold: float, max_new_tokens: int = 256) -> Check:
        """:meth:`check` whose rewrite cannot copy ``text`` (dynamic blocking, see
        :class:`~srllm_guard.backends.base.CopyBlocking`): what a ``retry="no_copy"`` asks for."""
        return self._check_many([text], threshold=threshold, rewrite=True, max_new_tokens=max_new_tokens,
                                no_copy=True)[0]

    def check_barring(self, text: str, *, words: Sequence[str], threshold: float,
                      max_new_tokens: int = 256) -> Check:
        """:meth:`check` whose rewrite never writes ``words`` (see
        :class:`~srllm_guard.backends.base.WordBarring`): what a retry asks for by default."""
        return self._check_many([text], threshold=threshold, rewrite=True, max_new_tokens=max_new_tokens,
                                words=words)[0]

    def check_many(
        self, texts: Sequence[str], *, threshold: float, rewrite: bool = True, max_new_tokens: int = 256
    ) -> list[Check]:
        """:meth:`check` for many texts: all scored in batches, then the flagged ones rewritten in batches."""
        return self._check_many(texts, threshold=threshold, rewrite=rewrite, max_new_tokens=max_new_tokens)

    def _check_many(self, texts: Sequence[str], *, threshold: float, rewrite: bool, max_new_tokens: int,
                    no_copy: bool = False, words: Sequence[str] = ()) -> list[Check]:
        if isinstance(texts, str):
            raise ConfigError("check_many takes a list of texts, not one str")
        if not isinstance(max_new_tokens, int) or max_new_tokens < 0:
            raise ConfigError(f"max_new_tokens must be an int >= 0, got {max_new_tokens!r}")
        texts = list(texts)
        ids = self._prompt_ids_batch(texts) if texts else []
        for i, row in enumerate(ids):
            used = len(row) - self._template_len
            if used > self.max_text_tokens:
                raise ConfigError(
                    f"text {i} is {used} tokens, more than max_text_tokens={self.max_text_tokens} for max_length="
                    f"{self.max_length}; split it into sentences or chunks first, or raise max_length."
                )
        with self._lock:
            scores = self._scores(ids)
            flagged = [i for i, s in enumerate(scores) if rewrite and s >= threshold]
            blocks = [copy_blocks(row) for row in self._plain([texts[i] for i in flagged])] if no_copy else None
            always = word_tokens(words, lambda form: self._plain([form])[0],
                                 lambda token: self._tok.decode([token])) if words else frozenset()
            rewrites = dict(zip(flagged, self._rewrites([ids[i] for i in flagged], max_new_tokens, blocks,
                                                        always)))
        return [Check(score=s, rewrite=rewrites.get(i)) for i, s in enumerate(scores)]

    def close(self) -> None:
        """Drop the model; CUDA memory is returned to torch's cache."""
        self._model = None

    # ---- internals ----------------------------------------------------------------------------------
    def _live(self) -> Any:
        if self._model is None:
            raise BackendError("this HFBackend is closed")
        return self._model

    def _batches(self, rows: list[list[int]]) -> list[list[int]]:
        """Row indices grouped into batches of similar length (less padding)."""
        order = sorted(range(len(rows)), key=lambda i: len(rows[i]))
        return [order[k : k + self.batch_size] for k in range(0, len(order), self.batch_size)]

    def _padded(self, rows: list[list[int]]) -> tuple[Any, Any]:
        torch, width = self._torch, max(map(len, rows))
        ids = torch.full((len(rows), width), self._pad, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for r, row in enumerate(rows):
            ids[r, width - len(row):] = torch.tensor(row, dtype=torch.long)
            mask[r, width - len(row):] = 1
        return ids.to(self.device), mask.to(self.device)

    def _scores(self, rows: list[list[int]]) -> list[float]:
        torch, model, out = self._torch, self._live(), [0.0] * len(rows)
        for batch in self._batches(rows):
            ids, mask = self._padded([rows[i] for i in batch])
            positions = (mask.cumsum(-1) - 1).clamp(min=0)
            try:
                with torch.inference_mode():
                    logits = model(input_ids=ids, attention_mask=mask, position_ids=positions,
                                   use_cache=False, logits_to_keep=1).logits[:, -1].float()
            except (RuntimeError, ValueError) as exc:
                raise BackendError(f"transformers failed to score {len(batch)} texts: {exc}") from exc
            diff = (logits[:, self._neutral] - logits[:, self._biased]).tolist()
            for i, d in zip(batch, diff):
                if not math.isfinite(d):
                    raise BackendError(f"the model returned non-finite verdict logits for text {i}")
                out[i] = 1.0 / (1.0 + math.exp(d)) if d < 700 else 0.0
        return out

    def _rewrites(self, rows: list[list[int]], max_new_tokens: int,
                  blocks: list[dict[int, frozenset[int]]] | None = None,
                  always: frozenset[int] = frozenset()) -> list[str]:
        """Greedy rewrites; ``blocks`` (one per row, :func:`~srllm_guard.backends.base.copy_blocks`): dynamic
        blocking, as llama.cpp's engine does it; ``always``: tokens barred at every step of every row."""
        if not rows:
            return []
        transformers, torch, model = require("transformers", extra="hf"), self._torch, self._live()
        rows = [row + self._answer for row in rows]
        out = [""] * len(rows)
        for batch in self._batches(rows):
            ids, mask = self._padded([rows[i] for i in batch])
            budget = min(max_new_tokens, self.max_length - ids.shape[1])
            if budget <= 0:
                continue
            config = transformers.GenerationConfig(
                max_new_tokens=budget, do_sample=False, eos_token_id=self._stop, pad_token_id=self._pad,
            )
            extra = {}
            if blocks is not None or always:
                extra["logits_processor"] = transformers.LogitsProcessorList([_dynamic_blocking(
                    transformers, [blocks[i] if blocks is not None else {} for i in batch], ids.shape[1], always)])
            try:
                with torch.inference_mode():
                    generated = model.generate(input_ids=ids, attention_mask=mask, generation_config=config,
                                               **extra)
            except (RuntimeError, ValueError) as exc:
                raise BackendError(f"transformers failed to generate {len(batch)} rewrites: {exc}") from exc
            for i, new in zip(batch, generated[:, ids.shape[1]:].tolist()):
                cut = next((k for k, t in enumerate(new) if t in self._stop), len(new))
                out[i] = self._tok.decode(new[:cut], skip_special_tokens=True).strip()
        return out


def _dynamic_blocking(transformers: Any, blocks: list[dict[int, frozenset[int]]], start: int,
                      always: frozenset[int] = frozenset()) -> Any:
    """A ``LogitsProcessor`` barring, per row, the tokens that follow the row's last generated token in its text
    (nothing before the first generated token: the prompt's last token is not the rewrite's), and ``always`` at
    every step."""
    barred_always = sorted(always)

    class DynamicBlocking(transformers.LogitsProcessor):
        def __call__(self, input_ids: Any, scores: Any) -> Any:
            if barred_always:
                scores[:, barred_always] = -float("inf")
            if input_ids.shape[1] <= start:
                return scores
            for row, table in enumerate(blocks):
                barred = table.get(int(input_ids[row, -1]))
                if barred:
                    scores[row, sorted(barred)] = -float("inf")
            return scores

    return DynamicBlocking()
