"""The SR-LLM prompt format: the one place the trainer and the runtime agree on.

One model both *detects* and *rewrites*. The prompt is a Gemma-style chat turn rendered by hand (the
shipped GGUF has no chat template, and llama-cpp-python's built-in ``gemma`` format drops system text)::

    <bos><start_of_turn>user
    {instruction}
    Text: {text}<end_of_turn>
    <start_of_turn>model
    {verdict}[\\n{rewrite}]<end_of_turn>

The answer's first token is the verdict: ``biased`` or ``neutral`` (each a single, distinct token of the
Gemma 3 vocabulary, pinned by a test). The runtime reads P(biased) from the logits of that first position in
one forward pass; only a biased verdict continues, from the same KV cache, with ``\\n`` and the rewrite.

Formats are versioned (:data:`FORMATS`); an adapter records the version it was trained with (the
``srllm.format_version`` key of its GGUF, or ``format_version`` in the ``training_summary.json`` beside it,
see :func:`format_of_adapter`) and the runtime renders prompts in that version:

* ``sr-llm-v1``: the paper's instruction, shortened ("identify ... and rewrite ... into a benign, unbiased
  version that keeps the meaning"); ~50 template tokens.
* ``sr-llm-v2`` (current): a one-line instruction; ~20 template tokens. Same layout, same verdict words. A
  fine-tuned single-task model gains nothing from a long instruction, while every training example pays for
  it: the short one makes a CPU training step on a short sentence about twice as fast.

The user's text always comes *last*, so the instruction prefix is shared by every sentence and cached once;
the text is data to be judged, never instructions to follow.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

__all__ = [
    "INSTRUCTION",
    "BIASED",
    "NEUTRAL",
    "START_OF_TURN",
    "END_OF_TURN",
    "PromptFormat",
    "PromptParts",
    "FORMATS",
    "FORMAT_VERSION",
    "GGUF_FORMAT_KEY",
    "get_format",
    "format_of_adapter",
    "recorded_format",
    "render_prompt",
    "render_response",
    "render_prefix",
    "parse_response",
    "clean_text",
    "TokenIds",
    "token_ids",
]

BIASED = "biased"
"""Verdict word for text that needs a rewrite (a single Gemma 3 token)."""

NEUTRAL = "neutral"
"""Verdict word for text that is left alone (a single Gemma 3 token)."""

START_OF_TURN = "<start_of_turn>"
END_OF_TURN = "<end_of_turn>"
BOS = "<bos>"

GGUF_FORMAT_KEY = "srllm.format_version"
"""Metadata key in an adapter GGUF that names its prompt format version."""


@dataclass(frozen=True)
class PromptParts:
    """A prompt split at the point where the user's text starts.

    ``prefix`` is identical for every input (cacheable); ``prompt == prefix + body``.
    """

    prefix: str
    body: str

    @property
    def prompt(self) -> str:
        return self.prefix + self.body


def clean_text(text: str) -> str:
    """Make text safe to place inside the prompt: no control tokens, no lone surrogates."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    for token in (START_OF_TURN, END_OF_TURN, BOS, "<eos>", "<pad>"):
        text = text.replace(token, token.replace("<", "< "))
    return text


@dataclass(frozen=True)
class PromptFormat:
    """One version of the prompt: the instruction line; the layout around it is shared by every version."""

    version: str
    instruction: str

    def render_prefix(self, *, bos: bool = True) -> str:
        """The constant part of every prompt, up to (not including) the user's text."""
        return (BOS if bos else "") + f"{START_OF_TURN}user\n{self.instruction}\nText: "

    def render_prompt(self, text: str, *, bos: bool = True) -> PromptParts:
        """The full prompt for ``text``; generation starts right after it with the verdict token."""
        body = f"{clean_text(text)}{END_OF_TURN}\n{START_OF_TURN}model\n"
        return PromptParts(prefix=self.render_prefix(bos=bos), body=body)

    @staticmethod
    def render_response(*, biased: bool, rewrite: str | None = None) -> str:
        """The target answer the model is trained to produce (ends with the end-of-turn marker)."""
        if not biased:
            return f"{NEUTRAL}{END_OF_TURN}"
        if not rewrite or not rewrite.strip():
            raise ValueError("a biased example needs a non-empty rewrite")
        return f"{BIASED}\n{clean_text(rewrite.strip())}{END_OF_TURN}"


_TEMPLATE_MARKERS = (BOS, START_OF_TURN, END_OF_TURN)


@dataclass(frozen=True)
class TokenIds:
    """How one tokenizer spells one :class:`PromptFormat`: what every backend needs to build prompt tokens
    and read a verdict (:func:`token_ids`). The llama.cpp and Hugging Face backends both use it, so both feed
    the model the same tokens the trainer did."""

    fmt: PromptFormat
    head: list[int]
    """The prefix up to its last template marker, markers parsed as special tokens (starts with BOS)."""
    tail: list[int]
    """The body after the text (end of turn, model turn), markers special."""
    answer: list[int]
    """``"biased\\n"``: fed before a rewrite is generated."""
    biased: int
    neutral: int
    end_of_turn: int
    cut: int
    """Where ``head`` ends in the rendered prefix: the rest of the prefix is tokenized with the text."""
    tail_text: str
    """The rendered body after the text (what ``tail`` tokenizes)."""

    def plain_part(self, text: str) -> str:
        """The part of ``text``'s prompt tokenized as plain text: the instruction tail and the text together
        (``"Text: Women"`` -> ``▁Women``, as the trainer's tokenizer sees it); never parsed for markers."""
        parts = self.fmt.render_prompt(text)
        return parts.prefix[self.cut:] + parts.body[: -len(self.tail_text)]


def token_ids(fmt: PromptFormat, *, plain: Callable[[str], list[int]], special: Callable[[str], list[int]],
              bos_id: int | None, where: str) -> TokenIds:
    """Tokenize ``fmt``'s fixed pieces with a backend's ``plain`` and ``special`` tokenizers (no BOS added by
    either) and check what the verdict needs: one token per verdict word, distinct, ``"biased\\n"`` starting
    with the verdict token, a single end-of-turn token. ``where`` names the tokenizer in errors."""
    from srllm_guard.errors import ConfigError

    prefix = fmt.render_prefix(bos=True)
    cut = max(prefix.rfind(m) + len(m) for m in _TEMPLATE_MARKERS if m in prefix)
    head = special(prefix[:cut])
    if not head or head[0] != bos_id:
        raise ConfigError(f"the prompt prefix does not start with BOS in {where}: {head[:4]}")
    ids = {}
    for word in (BIASED, NEUTRAL):
        word_ids = plain(word)
        if len(word_ids) != 1:
            raise ConfigError(f"verdict word {word!r} is {len(word_ids)} tokens in {where}; it must be one")
        ids[word] = word_ids[0]
    if ids[BIASED] == ids[NEUTRAL]:
        raise ConfigError(f"the two verdict words map to the same token in {where}")
    answer = plain(f"{BIASED}\n")
    if answer[:1] != [ids[BIASED]]:
        raise ConfigError(f"{BIASED!r} followed by a newline does not start with the verdict token in {where}")
    end_of_turn = special(END_OF_TURN)
    if len(end_of_turn) != 1:
        raise ConfigError(f"{END_OF_TURN} is not a special token in {where}")
    tail_text = fmt.render_prompt("").body
    return TokenIds(fmt=fmt, head=head, tail=special(tail_text), answer=answer, biased=ids[BIASED],
                    neutral=ids[NEUTRAL], end_of_turn=end_of_turn[0], cut=cut, tail_text=tail_text)


FORMATS: dict[str, PromptFormat] = {
    "sr-llm-v1": PromptFormat(
        "sr-llm-v1",
        "Identify whether the text below contains bias, stereotypes or toxic language. Answer 'biased' or "
        "'neutral'. If it is biased, rewrite it into a benign, unbiased version that keeps its meaning.",
    ),
    "sr-llm-v2": PromptFormat("sr-llm-v2", "Is this text biased? If so, rewrite it without the bias."),
}
"""Every prompt format an adapter may have been trained with."""

FORMAT_VERSION = "sr-llm-v2"
"""The format new adapters are trained with (bumped whenever anything above changes)."""

INSTRUCTION = FORMATS[FORMAT_VERSION].instruction
"""Task instruction of the current format."""


def get_format(version: str | PromptFormat | None = None) -> PromptFormat:
    """The :class:`PromptFormat` for ``version`` (``None``: the current one)."""
    if isinstance(version, PromptFormat):
        return version
    key = FORMAT_VERSION if version is None else version
    if key not in FORMATS:
        from srllm_guard.errors import ModelFileError

        raise ModelFileError(f"unknown prompt format {key!r}; this srllm-guard knows {', '.join(FORMATS)} "
                             "(an adapter from a newer release needs a newer srllm-guard)")
    return FORMATS[key]


def format_of_adapter(adapter: str | os.PathLike[str] | None) -> PromptFormat:
    """The format an adapter was trained with.

    Looked up in order: the adapter GGUF's ``srllm.format_version`` key; ``format_version`` in
    ``training_summary.json`` (or ``summary.json``) beside the adapter file or PEFT folder, or one folder up;
    else ``sr-llm-v1``, the only format before versions were recorded. ``None`` (no adapter): the current one.
    """
    if adapter is None:
        return get_format()
    return get_format(recorded_format(adapter) or "sr-llm-v1")


def recorded_format(adapter: str | os.PathLike[str]) -> str | None:
    """The format version recorded for an adapter (see :func:`format_of_adapter`), or None if none is."""
    path = Path(adapter)
    if path.is_file() and path.suffix == ".gguf":
        version = _gguf_format(path)
        if version:
            return version
    folder = path if path.is_dir() else path.parent
    for where in (folder, folder.parent):
        for name in ("training_summary.json", "summary.json"):
            summary = where / name
            if summary.is_file():
                try:
                    version = json.loads(summary.read_text(encoding="utf-8")).get("format_version")
                except (OSError, ValueError):
                    continue
                if isinstance(version, str):
                    return version
    return None


def _gguf_format(path: Path) -> str | None:
    from srllm_guard.errors import ModelFileError
    from srllm_guard.gguf_check import read_gguf_header

    try:
        value = read_gguf_header(path).kv.get(GGUF_FORMAT_KEY)
    except ModelFileError:  # not a readable GGUF: the backend's own validation reports it
        return None
    return value if isinstance(value, str) else None


def render_prefix(*, bos: bool = True, version: str | PromptFormat | None = None) -> str:
    """The constant part of every prompt in ``version`` (default: the current format)."""
    return get_format(version).render_prefix(bos=bos)


def render_prompt(text: str, *, bos: bool = True, version: str | PromptFormat | None = None) -> PromptParts:
    """The full prompt for ``text`` in ``version`` (default: the current format)."""
    return get_format(version).render_prompt(text, bos=bos)


def render_response(*, biased: bool, rewrite: str | None = None) -> str:
    """The target answer the model is trained to produce (the same in every format)."""
    return PromptFormat.render_response(biased=biased, rewrite=rewrite)


def parse_response(generated: str) -> tuple[bool | None, str | None]:
    """Read ``(biased, rewrite)`` back from generated text (``None`` where it is not in the format)."""
    text = generated.split(END_OF_TURN, 1)[0].strip()
    head, _, rest = text.partition("\n")
    head = head.strip().lower()
    if head == NEUTRAL:
        return False, None
    if head == BIASED:
        rest = rest.strip()
        return True, rest or None
    return None, None
