"""The backend contract: everything the guard needs from a model, on one screen.

A backend turns one piece of text into a :class:`Check`: the probability that it is biased (read from the
verdict token of the SR-LLM prompt, see :mod:`srllm_guard.prompt`) and, when that probability reaches the
threshold and a rewrite is asked for, the model's rewrite generated from the same KV cache. ``check_many`` does
the same for a batch of texts in one call: the pipeline scores every piece of a text with it, and re-checks all
rewrites with it (:mod:`srllm_guard.pipeline`); :class:`BaseBackend` gives simple backends a loop over ``check``.

Backends must be safe to call from several threads: one that wraps a non-reentrant engine serializes its
calls. The async twins run the sync methods in a worker thread unless a backend has a native async path.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Callable, Protocol, Sequence, runtime_checkable

__all__ = ["Check", "Backend", "BaseBackend", "CopyBlocking", "TokenBudget", "WordBarring", "copy_blocks",
           "word_tokens"]


@dataclass(frozen=True)
class Check:
    """The result of checking one text."""

    score: float
    """P(biased) in [0, 1]: softmax over the two verdict tokens' logits at the first answer position."""
    rewrite: str | None = None
    """The model's rewrite; ``None`` when none was asked for or the score was below the threshold."""
    screened: bool = False
    """Settled by a cheaper calibrated pass (llama.cpp's early-exit screen), not the full model: the score is
    that pass's estimate. The pipeline never takes a screened flag as the verdict (the full model decides)."""


@runtime_checkable
class Backend(Protocol):
    """What the guard calls. Implementations: llama.cpp (default), Hugging Face, OpenAI-compatible HTTP."""

    model_id: str
    """Human-readable id of the model (and adapter) in use; goes into every audit record."""
    model_hash: str | None
    """SHA-256 of the weights file(s) in use where known; goes into every audit record."""

    def check(self, text: str, *, threshold: float, rewrite: bool = True, max_new_tokens: int = 256) -> Check:
        """Score ``text``; when ``rewrite`` and score >= ``threshold``, also generate the rewrite."""
        ...

    async def acheck(
        self, text: str, *, threshold: float, rewrite: bool = True, max_new_tokens: int = 256
    ) -> Check:
        """Async twin of :meth:`check`."""
        ...

    def check_many(
        self, texts: Sequence[str], *, threshold: float, rewrite: bool = True, max_new_tokens: int = 256
    ) -> list[Check]:
        """:meth:`check` for each text, in one call: one :class:`Check` per text, in order.

        A backend may settle a text by a cheaper calibrated pass where that pass is sure (llama.cpp's early-exit
        screen, :mod:`srllm_guard.backends.llamacpp.screen`): its :class:`Check` is then ``screened``, with the
        pass's score, on the clear side of ``threshold`` or, without ``rewrite``, on either side. With
        ``rewrite``, every text at or above ``threshold`` has the full model's score and rewrite, exactly as
        :meth:`check` gives them.
        """
        ...

    async def acheck_many(
        self, texts: Sequence[str], *, threshold: float, rewrite: bool = True, max_new_tokens: int = 256
    ) -> list[Check]:
        """Async twin of :meth:`check_many`."""
        ...


@runtime_checkable
class TokenBudget(Protocol):
    """Optional capability: a hard limit on one text's length in the backend's own tokens.

    The pipeline asks :meth:`count_tokens` for texts that may not fit and sends a text over the limit to the
    fallback policy instead of the model (llama.cpp, Hugging Face).
    """

    @property
    def max_text_tokens(self) -> int:
        """Longest text, in :meth:`count_tokens` units, that ``check`` accepts."""
        ...

    def count_tokens(self, text: str) -> int:
        """How many of :attr:`max_text_tokens` ``text`` uses."""
        ...


@runtime_checkable
class CopyBlocking(Protocol):
    """Optional capability: a rewrite decoded so that it cannot copy the text it rewrites.

    Greedy decoding is deterministic, so when the model's rewrite is a copy of a flagged text (the commonest
    re-check failure on human-written text), asking again for a rewrite of that copy returns the same copy. A
    retry (``GuardConfig.rewrite_attempts`` with ``retry="no_copy"``) therefore asks a backend with this
    capability for :meth:`check_no_copy`: the same verdict, and a rewrite decoded with *dynamic blocking* (Niu et
    al. 2021, "Unsupervised Paraphrasing with Pretrained Language Models"): right after the decoder emits a token
    of the text, the token that follows it there is barred, so no two-token run of the text is copied (see
    :func:`copy_blocks`). llama.cpp and Hugging Face have it; a remote engine's retry is its plain decode.
    """

    def check_no_copy(self, text: str, *, threshold: float, max_new_tokens: int = 256) -> Check:
        """:meth:`Backend.check` with ``rewrite=True``, the rewrite decoded with dynamic blocking against ``text``."""
        ...


def copy_blocks(source: Sequence[int]) -> dict[int, frozenset[int]]:
    """Dynamic blocking's table for a text's token ids: token -> the tokens that follow it in the text (barred
    right after the decoder emits it)."""
    follows: dict[int, set[int]] = {}
    for token, nxt in zip(source, source[1:]):
        follows.setdefault(token, set()).add(nxt)
    return {token: frozenset(nxt) for token, nxt in follows.items()}


@runtime_checkable
class WordBarring(Protocol):
    """Optional capability: a rewrite decoded so that it never writes given words.

    The retry the pipeline prefers (``GuardConfig.retry = "bar_words"``): when the re-check flags a rewrite, the
    words that verdict rests on (the words whose removal lowers the score most) are barred and the *original*
    piece is rewritten again, so the model must put something else where the offending word was while the rest
    of the sentence may stay (dynamic blocking, :class:`CopyBlocking`, bars every two-token run of the text
    instead, which forces a paraphrase of the whole sentence). llama.cpp and Hugging Face have it.
    """

    def check_barring(self, text: str, *, words: Sequence[str], threshold: float,
                      max_new_tokens: int = 256) -> Check:
        """:meth:`Backend.check` with ``rewrite=True``, the rewrite decoded without ``words`` (see
        :func:`word_tokens` for what is barred)."""
        ...


_SHORT_PIECE = 3
"""A word's first token is barred only when it carries at least this many characters of the word (or is the
whole word): barring a one- or two-letter piece such as ``" f"`` would bar unrelated words too."""


def word_tokens(words: Sequence[str], tokenize: Callable[[str], list[int]],
                piece: Callable[[int], str]) -> frozenset[int]:
    """The tokens to bar so that none of ``words`` is written: for each word in lower case, capitalised, upper
    case and as given, with and without a leading space, the first token of its tokenization, when that token is
    the whole form or carries at least three letters of it. A word split into short pieces is not barred (its
    tokens are too common to bar)."""
    barred: set[int] = set()
    for word in words:
        word = word.strip()
        if not word:
            continue
        for form in {word, word.lower(), word.capitalize(), word.upper()}:
            for text in (form, " " + form):
                ids = tokenize(text)
                if ids and (len(ids) == 1 or len(re.sub(r"\W", "", piece(ids[0]))) >= _SHORT_PIECE):
                    barred.add(ids[0])
    return frozenset(barred)


class BaseBackend:
    """Convenience base: ``check_many`` as a loop over ``check``, async twins via a worker thread, and ``score``
    as a shorthand."""

    model_id: str = "unknown"
    model_hash: str | None = None

    def check(self, text: str, *, threshold: float, rewrite: bool = True, max_new_tokens: int = 256) -> Check:
        raise NotImplementedError

    async def acheck(
        self, text: str, *, threshold: float, rewrite: bool = True, max_new_tokens: int = 256
    ) -> Check:
        return await asyncio.to_thread(
            self.check, text, threshold=threshold, rewrite=rewrite, max_new_tokens=max_new_tokens
        )

    def check_many(
        self, texts: Sequence[str], *, threshold: float, rewrite: bool = True, max_new_tokens: int = 256
    ) -> list[Check]:
        return [self.check(text, threshold=threshold, rewrite=rewrite, max_new_tokens=max_new_tokens)
                for text in texts]

    async def acheck_many(
        self, texts: Sequence[str], *, threshold: float, rewrite: bool = True, max_new_tokens: int = 256
    ) -> list[Check]:
        return await asyncio.to_thread(
            self.check_many, texts, threshold=threshold, rewrite=rewrite, max_new_tokens=max_new_tokens
        )

    def score(self, text: str) -> float:
        """P(biased) for ``text`` without generating anything."""
        return self.check(text, threshold=1.1, rewrite=False).score

    def close(self) -> None:
        """Release the model (optional)."""
