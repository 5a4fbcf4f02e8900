"""Text normalisation shared by the trainer and the evaluation: evaluation text must look like training text.

Pair files come tokenized (``I do n't know , ( really ) .``) or with HTML entities and stray quotes;
:func:`normalize` undoes that the same way for both, so a held-out sentence is judged in the form the model
was trained on.
"""

from __future__ import annotations

import html
import re
import unicodedata

__all__ = ["normalize"]

_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"})
_TOKENIZED = re.compile(r"\w\s+[,.!?;](?:\s|$)|\w\s+n't\b")
_LEADING_JUNK = re.compile(r"^(?:\s*:)+\s*")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.!?;:%)\]}])")
_SPACE_AFTER_OPEN = re.compile(r"([(\[{])\s+")
_CONTRACTION = re.compile(r"\s+(n't|'s|'re|'m|'ve|'ll|'d)\b", re.IGNORECASE)
_ENTITY = re.compile(r"&\s?(#?\w+)\s?;")
_SPLIT_HYPHEN = re.compile(r"\b([a-z0-9]+) - (?=[a-z0-9])")


def normalize(text: str) -> str:
    """Collapse whitespace and undo the tokenization artefacts of the pair files.

    ``I do n't know , ( really ) .`` -> ``I don't know, (really).``. PTB quotes (````` and ``''``)
    and curly quotes become ``"``; ``" quoted "`` -> ``"quoted"``; quotes wrapping the whole text, a lone
    stray quote at either end and leading ``: : :`` indentation are removed; ``& ndash;`` -> ``–``.
    ``on - air`` -> ``on-air`` only in visibly tokenized text (space before punctuation), since in written
    prose `` - `` is a dash. Case is left alone. Apart from entity names, only spaces, quotes and leading
    colons are ever removed, so text with a letter or digit in it never comes back empty.
    """
    text = unicodedata.normalize("NFC", text).translate(_QUOTES)
    text = " ".join(text.replace("``", '"').replace("''", '"').split())
    tokenized = bool(_TOKENIZED.search(text))
    text = _ENTITY.sub(_unescape, text)
    text = _LEADING_JUNK.sub("", text)
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    text = _SPACE_AFTER_OPEN.sub(r"\1", text)
    text = _CONTRACTION.sub(r"\1", text)
    if tokenized:
        text = _SPLIT_HYPHEN.sub(r"\1-", text)
    text = _strip_outer_quotes(_tighten_quotes(text)).strip()
    return text


def _unescape(match: re.Match) -> str:
    """``& ndash;`` (a tokenized HTML entity) -> ``–``; unknown names stay as they were."""
    entity = f"&{match.group(1)};"
    plain = html.unescape(entity)
    return match.group(0) if plain == entity else plain


def _tighten_quotes(text: str) -> str:
    """``say " hi " now`` -> ``say "hi" now``, for quote pairs that stand as their own tokens."""
    parts = text.split('"')
    if len(parts) % 2 == 0:  # odd number of quotes: pairing unknown, leave alone
        return text
    for i in range(1, len(parts), 2):  # parts[i] is inside the i-th pair
        before, after = parts[i - 1], parts[i + 1]
        opens = (i == 1 and before == "") or (before != "" and (before[-1].isspace() or before[-1] in "([{"))
        closes = after == "" or after[0].isspace() or after[0] in ",.!?;:)]}"
        if opens and closes:
            parts[i] = parts[i].strip()
    return '"'.join(parts)


def _strip_outer_quotes(text: str) -> str:
    """Drop quotes wrapping the whole text, or a single unpaired quote at either end."""
    count = text.count('"')
    if count >= 2 and len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        inner = text[1:-1]
        first = inner.find('"')
        if first == -1 or (inner.count('"') % 2 == 0 and (first == 0 or inner[first - 1] in " ([{")):
            return inner.strip()
    if count % 2 == 1:
        if text.startswith('"'):
            return text[1:].lstrip()
        if text.endswith('"'):
            return text[:-1].rstrip()
    return text
