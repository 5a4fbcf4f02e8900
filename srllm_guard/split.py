"""Split text into the pieces the model judges one at a time: sentences, and chunks of over-long ones.

A piece is a ``(start, end)`` range of the original string with no whitespace at either end; everything
between pieces (spaces, newlines, indentation) is left out of every piece and copied back verbatim by the
pipeline when it reassembles the text. So ``text[:p0.start] + text[p0.start:p0.end] + text[p0.end:p1.start]
+ ...`` rebuilds the input exactly, whatever the model does to each piece.

Sentence ends are runs of ``. ! ? …`` (and CJK full stops), with closing quotes or brackets, followed by
whitespace; every line break also ends a piece (lists, headings, code lines). A period after a common
abbreviation ("Dr.", "e.g.") or a single initial ("J. K.") does not end a sentence. Decimals ("3.5") and
URLs never split, since the punctuation must be followed by whitespace. When unsure it does not split: a
longer piece is still judged whole, a cut sentence loses its context. Splitting is linear in the text.
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["Piece", "trim", "split_sentences", "chunk", "split_text", "is_question", "answered_pairs"]

_BOUNDARY = re.compile(r"[.!?…。！？]+[\"'”’»)\]]*(?=\s)|\n")
_QUESTION_END = re.compile(r"[?？][.!?…。！？]*[\"'”’»)\]]*$")
_LAST_WORD = re.compile(r"([\w.]+)\.$")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st vs etc no fig approx inc ltd co corp dept est gen gov "
    "lt col capt sgt rev mt jan feb mar apr jun jul aug sep sept oct nov dec".split()
)


class Piece(NamedTuple):
    """A range ``[start, end)`` of the original text."""

    start: int
    end: int


def trim(text: str, start: int, end: int) -> Piece | None:
    """``[start, end)`` without whitespace at either end; ``None`` when nothing is left."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Piece(start, end) if start < end else None


def _is_abbreviation(text: str, end: int) -> bool:
    """Whether the period ending at ``end`` belongs to an abbreviation or an initial."""
    match = _LAST_WORD.search(text, max(0, end - 12), end)
    if match is None:
        return False
    word = match.group(1).lstrip(".")
    if word.lower() in _ABBREVIATIONS or (len(word) == 1 and word.isupper()):
        return True
    letters = word.split(".")
    return len(letters) > 1 and all(len(part) == 1 for part in letters)  # U.S., e.g., i.e.


def split_sentences(text: str) -> list[Piece]:
    """Sentence (and line) ranges of ``text``, whitespace excluded."""
    pieces: list[Piece] = []
    pos = 0
    for match in _BOUNDARY.finditer(text):
        if match.group() == "\n":
            end = match.start()
        elif match.group() == "." and _is_abbreviation(text, match.end()):
            continue
        else:
            end = match.end()
        piece = trim(text, pos, end)
        if piece:
            pieces.append(piece)
        pos = match.end()
    piece = trim(text, pos, len(text))
    if piece:
        pieces.append(piece)
    return pieces


def chunk(text: str, piece: Piece, max_chars: int) -> list[Piece]:
    """Cut ``piece`` into ranges of at most ``max_chars``, at the last whitespace in each window when there
    is one in its second half, else hard (one long token such as a URL or base64 blob)."""
    out: list[Piece] = []
    start, end = piece
    while end - start > max_chars:
        cut = start + max_chars
        space = max(text.rfind(" ", start + max_chars // 2, cut + 1), text.rfind("\t", start + max_chars // 2, cut + 1))
        if space > start:
            cut = space
        head = trim(text, start, cut)
        if head:
            out.append(head)
        start = cut
        while start < end and text[start].isspace():
            start += 1
    tail = trim(text, start, end)
    if tail:
        out.append(tail)
    return out


def split_text(text: str, *, max_chars: int) -> list[Piece]:
    """Pieces of ``text``: sentences, each no longer than ``max_chars`` (long ones chunked)."""
    pieces: list[Piece] = []
    for sentence in split_sentences(text):
        if sentence.end - sentence.start <= max_chars:
            pieces.append(sentence)
        else:
            pieces.extend(chunk(text, sentence, max_chars))
    return pieces


def is_question(text: str) -> bool:
    """Whether ``text`` (a piece) ends in a question mark, closing quotes or brackets aside ("Really?!")."""
    return _QUESTION_END.search(text.rstrip()) is not None


def answered_pairs(text: str, pieces: list[Piece], *, max_chars: int) -> dict[int, Piece]:
    """Question start -> the range of the question and the piece after it, for every piece of ``pieces`` (in
    order) that :func:`is_question` and is followed by another, when the two together are at most ``max_chars``
    long (the guard judges a flagged question with its answer: ``GuardConfig.answered_questions``)."""
    return {q.start: Piece(q.start, nxt.end) for q, nxt in zip(pieces, pieces[1:])
            if nxt.end - q.start <= max_chars and is_question(text[q.start : q.end])}
