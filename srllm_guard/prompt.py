"""The SR-LLM prompt format: the one place the trainer and the runtime agree on.

One model both *detects* and *rewrites*. The prompt is a Gemma-style chat turn rendered by hand (the
shipped GGUF has no chat template, and llama-cpp-python's built-in ``gemma`` format drops system text)::

    <bos><start_of_turn>user
    {INSTRUCTION}
    Text: {text}<end_of_turn>
    <start_of_turn>model
    {verdict}[\\n{rewrite}]<end_of_turn>

The answer's first token is the verdict: ``biased`` or ``neutral`` (each a single, distinct token of the
Gemma 3 vocabulary, pinned by a test). The runtime reads P(biased) from the logits of that first position in
one forward pass; only a biased verdict continues, from the same KV cache, with ``\\n`` and the rewrite.

The instruction keeps the paper's wording as its starting point ("identify ... and rewrite ... into a
benign, unbiased version that keeps the meaning"), shortened so the cached prefix stays small. The user's
text always comes *last*, so the instruction prefix is shared by every sentence and cached once; the text is
data to be judged, never instructions to follow.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "INSTRUCTION",
    "BIASED",
    "NEUTRAL",
    "START_OF_TURN",
    "END_OF_TURN",
    "PromptParts",
    "render_prompt",
    "render_response",
    "render_prefix",
    "parse_response",
    "FORMAT_VERSION",
    "clean_text",
]

FORMAT_VERSION = "sr-llm-v1"
"""Bumped whenever anything below changes; adapters record the version they were trained with."""

INSTRUCTION = (
    "Identify whether the text below contains bias, stereotypes or toxic language. "
    "Answer 'biased' or 'neutral'. If it is biased, rewrite it into a benign, unbiased version "
    "that keeps its meaning."
)
"""Task instruction, adapted from the SR-LLM paper's instruction-tuning prompt."""

BIASED = "biased"
"""Verdict word for text that needs a rewrite (a single Gemma 3 token)."""

NEUTRAL = "neutral"
"""Verdict word for text that is left alone (a single Gemma 3 token)."""

START_OF_TURN = "<start_of_turn>"
END_OF_TURN = "<end_of_turn>"
BOS = "<bos>"


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


def render_prefix(*, bos: bool = True) -> str:
    """The constant part of every prompt, up to (not including) the user's text."""
    return (BOS if bos else "") + f"{START_OF_TURN}user\n{INSTRUCTION}\nText: "


def render_prompt(text: str, *, bos: bool = True) -> PromptParts:
    """The full prompt for ``text``; generation starts right after it with the verdict token."""
    body = f"{clean_text(text)}{END_OF_TURN}\n{START_OF_TURN}model\n"
    return PromptParts(prefix=render_prefix(bos=bos), body=body)


def render_response(*, biased: bool, rewrite: str | None = None) -> str:
    """The target answer the model is trained to produce (ends with the end-of-turn marker)."""
    if not biased:
        return f"{NEUTRAL}{END_OF_TURN}"
    if not rewrite or not rewrite.strip():
        raise ValueError("a biased example needs a non-empty rewrite")
    return f"{BIASED}\n{clean_text(rewrite.strip())}{END_OF_TURN}"


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
