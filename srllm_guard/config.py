"""``GuardConfig``: every knob of the guard, typed, defaulted and documented in one place.

The same object configures :class:`~srllm_guard.guard.SRGuard`, the pipeline and the CLI. Settings that
decide *what is returned* (thresholds, fallback, error policy) sit next to the ones that decide *which
model* answers (backend, model_path, adapter_path, n_threads).
"""

from __future__ import annotations

from typing import Any, Callable, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from srllm_guard.errors import ConfigError

__all__ = ["GuardConfig", "settings_error"]


class GuardConfig(BaseModel):
    """Configuration of an :class:`~srllm_guard.guard.SRGuard`.

    Example::

        GuardConfig(threshold=0.6, fallback="refuse", timeout_s=10)
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    # --- verdicts -----------------------------------------------------------------------------------------
    threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    """A piece whose P(biased) reaches this is flagged and rewritten."""

    recheck_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    """A rewrite whose own P(biased) reaches this fails the re-check; ``None`` means the same as ``threshold``."""

    answered_questions: bool = True
    """Judge a flagged question together with the sentence after it. A question asserts nothing by itself:
    "Are women bad at maths? No, that's a myth." is counter-speech, though its first sentence alone reads as a
    biased one. When a piece that ends in ``?`` is flagged and another sentence follows it in the same text,
    the full model scores the two as one (one more ``check`` call, no generation; never the early-exit screen,
    which was fitted on single sentences); if the pair is not flagged, the question is kept, and its recorded
    score is the pair's. Otherwise the question alone is rewritten as before. A guarded stream holds a question
    back until the next sentence is complete (at most ``stream_max_holdback_chars`` more characters) so that it
    is judged the same way.

    The rule is as good as the model's reading of such pairs. The default adapter, ``sr-gemma3-270m-v14``, was
    trained on them (as were ``sr-gemma3-270m-v13`` back to ``-v6``): with the rule, held-out biased questions
    answered by a rejection of their premise are flagged 2.9% of the time (720) while those followed by an
    unrelated sentence stay flagged 97.5% (by an agreement 97.5%; 840 each), and counter-speech questions followed
    by another sentence 0.8% (120 each; v13 3.3%, v12 17.5-19.2%). Turn it off (``False``,
    ``--no-answered-questions``) for an adapter that was not: ``sr-gemma3-270m-v5`` under the rule keeps only 47% of
    the latter flagged (84.6% judged alone)."""

    max_drift: float = Field(default=0.9, ge=0.0, le=1.0)
    """Largest allowed drift of a rewrite from its original, a cheap meaning check without embeddings.

    Drift is ``1 - difflib.SequenceMatcher(None, a, b).ratio()`` over the casefolded word tokens (``\\w+``) of
    the original piece and its rewrite: 0.0 is identical, 1.0 shares no words in order. It catches a rewrite
    that changed topic, rambles (a much longer text lowers the ratio) or echoes the instructions. On the
    SR-LLM in-house pairs, 0.9 rejects ~4% of the human rewrites and accepts ~6% of unrelated sentences.
    ``1.0`` disables the test. A rewrite that drifts more is handled by ``fallback``.
    """

    min_faithfulness: float = Field(default=0.63, ge=0.0, le=1.0)
    """Lowest P(faithful) a rewrite may get from the guard's faithfulness check (``SRGuard(faithfulness=...)``,
    :mod:`srllm_guard.faithfulness`) and still be used; below it the piece is handled by ``fallback`` with reason
    ``unfaithful``. Only read when the guard has a check (it has none by default). 0.63 is the highest threshold
    that keeps 95% of the faithful rewrites in the dev half of the shipped check's hand-labelled set; on the test
    half it refuses 45% of invented rewrites of human-written text and keeps 96% of faithful ones (see
    ``adapters/faithful-minilm-v1/README.md``)."""

    rewrite_attempts: int = Field(default=1, ge=1, le=4)
    """Rewrites the model may write for one flagged piece. When the re-check flags a rewrite and attempts are
    left, the model writes another (one more generation, only for such pieces), as ``retry`` says; the new
    rewrite passes the same drift test against the original piece and the same re-check. ``1``: a rewrite
    that fails the re-check goes straight to ``fallback``."""

    retry: Literal["bar_words", "no_copy"] = "bar_words"
    """How a further attempt (``rewrite_attempts`` > 1) differs from the one the re-check flagged; most flagged
    rewrites are copies or near copies of the original, and greedy decoding would write the same again.

    ``'bar_words'``: the words the re-check's verdict rests on are found by leaving each word of the flagged
    rewrite out in turn and re-scoring (one batched ``check_many``; up to three words whose removal lowers the
    score by 0.15 or more, else the one that lowers it most), and the *original* piece is rewritten with those
    words, and those barred by earlier attempts, never written (any case; see
    :class:`~srllm_guard.backends.base.WordBarring`). The rest of the sentence may stay, so the meaning mostly
    does. ``'no_copy'``: the model rewrites its flagged rewrite decoded so that it cannot copy any two-token run
    of it (dynamic blocking, :class:`~srllm_guard.backends.base.CopyBlocking`): more rewrites pass the
    re-check, but they paraphrase the whole sentence and more often change what it says (measured side by side in
    the README, Policies). A backend without barring retries as ``'no_copy'`` does: with dynamic blocking where
    it has it, else (a remote engine) a plain greedy rewrite of the flagged rewrite."""

    fallback: Literal["flag", "redact", "refuse"] = "redact"
    """What replaces a flagged piece whose rewrite is missing, fails the re-check or drifts too far, and what
    happens to text beyond ``max_text_chars``: ``'flag'`` keeps the original piece (the audit record flags
    it), ``'redact'`` puts ``redaction_text`` in its place, ``'refuse'`` replaces the whole reply with
    ``refusal_message``."""

    refusal_message: str = "I can't provide that response."
    """The whole reply when the policy refuses (``fallback='refuse'`` or ``on_backend_error='fail_closed'``)."""

    redaction_text: str = "[removed]"
    """What takes the place of a redacted piece."""

    # --- size limits --------------------------------------------------------------------------------------
    max_text_chars: int = Field(default=200_000, ge=1)
    """Characters of one text that are checked. The excess is never dropped silently nor crashes the guard:
    it is handled by ``fallback`` as one unchecked span and the full original stays in the audit record."""

    max_sentence_chars: int = Field(default=1000, ge=16)
    """Largest piece sent to the model; longer sentences are cut at whitespace into chunks of at most this."""

    max_new_tokens: int = Field(default=256, ge=1)
    """Token budget of one rewrite."""

    stream_max_holdback_chars: int | None = Field(default=None, ge=16)
    """Most characters a guarded *stream* holds back waiting for a sentence to end; ``None`` means
    ``max_sentence_chars``. A sentence is released once it is complete and checked; a run-on sentence is
    checked and released in chunks of this size (cut at whitespace, like ``max_sentence_chars``)."""

    # --- failures -----------------------------------------------------------------------------------------
    timeout_s: float | None = Field(default=30.0, gt=0)
    """Seconds one backend call may take (``None``: wait forever). The pipeline makes three kinds of call
    (:mod:`srllm_guard.pipeline`): scoring a group of up to 64 pieces / 8,000 characters (one ``check_many``,
    no generation), rewriting one flagged piece (one ``check``: its verdict and rewrite), and re-checking the
    group's rewrites (one ``check_many``); each has this budget.
    Waiting for a ``max_concurrency`` slot does not count. A call that runs longer is abandoned: its worker
    thread cannot be killed and finishes in the background, while the backend's own lock keeps the model
    safe; the piece is handled by ``on_backend_error`` and no later piece of that text is sent."""

    on_backend_error: Literal["fail_open", "fail_closed"] = "fail_closed"
    """When the backend fails or times out: ``'fail_open'`` returns the original text (flagged in the audit
    record), ``'fail_closed'`` returns ``refusal_message``. The error is in the record either way."""

    max_concurrency: int | None = Field(default=1, ge=1)
    """Most texts one guard sends to its backend at a time (each text's calls run one after another);
    the others wait for a slot *before* their ``timeout_s`` starts. The bound is per guard: a
    ``threading.BoundedSemaphore`` for sync calls and an ``asyncio.Semaphore`` per event loop for async
    calls (so sync and async callers each get this many). The llama.cpp backend runs one call at a time per
    loaded model anyway, so ``1`` costs nothing there and keeps queued calls from timing out while they wait
    for the model; raise it for a backend that serves calls in parallel. ``None``: no bound."""

    retries: int = Field(default=1, ge=0, le=10)
    """Extra attempts after a :class:`~srllm_guard.errors.BackendError` (short exponential wait, via
    tenacity). A timeout is never retried: the hung call still holds the model."""

    # --- which model --------------------------------------------------------------------------------------
    backend: str = "llamacpp"
    """Backend name (``'llamacpp'``) or an import path ``'package.module:Class'``; built on first use."""

    model_path: str | None = None
    """Base model file; ``None`` uses the embedded Gemma 3 270M GGUF."""

    adapter_path: str | None = "default"
    """LoRA adapter file; ``'default'`` is the shipped SR-LLM adapter, ``None`` runs the bare base."""

    n_threads: int | None = Field(default=None, ge=1)
    """CPU threads of the backend; ``None`` lets the backend choose."""

    screen: str | None = "default"
    """Early-exit probe of the ``'llamacpp'`` backend: all sentences of a text are first scored together
    from SR-LLM's hidden state part-way through the network, and those it clearly clears skip the full model
    (the probe shipped with ``sr-gemma3-270m-v4``, after block 10, keeps 99.5% of the full model's flags on
    5,538 held-out sentences and sends 48% of them on, a mix with 43% flagged; on clean text it clears almost
    everything; see the adapter's ``early_exit.report.json``). ``'default'``: the probe shipped next to the
    adapter, when made for the files in use; a path: that probe; ``None``: every sentence gets the full model."""

    # --- audit --------------------------------------------------------------------------------------------
    audit_hook: Callable[[Any], None] | None = Field(default=None, exclude=True, repr=False)
    """Called with every :class:`~srllm_guard.audit.AuditRecord`, in the caller's thread, once per guarded
    output. An exception it raises is logged, not propagated. Not serialised."""

    @property
    def recheck_at(self) -> float:
        """The effective re-check threshold (``recheck_threshold``, else ``threshold``)."""
        return self.threshold if self.recheck_threshold is None else self.recheck_threshold

    @property
    def holdback_chars(self) -> int:
        """The effective stream hold-back bound (``stream_max_holdback_chars``, else ``max_sentence_chars``)."""
        return self.max_sentence_chars if self.stream_max_holdback_chars is None else self.stream_max_holdback_chars

    def merged(self, **overrides: Any) -> GuardConfig:
        """A validated copy with ``overrides`` applied (fields left at their defaults stay defaults)."""
        if not overrides:
            return self
        kept = {name: getattr(self, name) for name in self.model_fields_set}
        return GuardConfig(**{**kept, **overrides})

    # --- backend-specific model settings (hf, remote) -----------------------------------------------------
    base_url: str | None = None
    """Server of the ``'remote'`` backend (an OpenAI-compatible llama.cpp server or vLLM), e.g.
    ``'http://127.0.0.1:8000'``; there ``model_path`` is the served model's name (``None``: the server's only
    model) and ``timeout_s`` also bounds its HTTP requests. Other backends refuse it."""

    device: Literal["auto", "cpu", "cuda"] | None = None
    """Device of the ``'hf'`` backend (``None``: CUDA when available, else CPU). Other backends refuse it."""

    backend_options: dict[str, Union[str, int, float, bool, None]] = Field(default_factory=dict)
    """Any other constructor argument of the backend, by name: llamacpp ``merge``, ``lora_scale``, ``n_ctx``,
    ``seed``; hf ``load_in_4bit``, ``batch_size``, ``max_length``; remote its HTTP settings. Checked against
    the backend's constructor when it is built: a name it does not take is a ``ConfigError`` that lists the
    ones it does (CLI: ``--backend-option merge=false``)."""


def settings_error(exc: ValidationError) -> ConfigError:
    """Invalid guard settings as one :class:`ConfigError` line naming each field and what is wrong with it."""
    problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in exc.errors())
    return ConfigError(f"invalid SRGuard settings: {problems}")
