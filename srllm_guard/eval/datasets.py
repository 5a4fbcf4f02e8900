"""Readers for the evaluation data: each file is read from a path, checked, and turned into items.

Formats are recognised by their header, so any file shaped like one of these can be passed::

    srllm              biased_text, debiased_text         biased_text = positive (reference: debiased_text),
                                                          debiased_text = negative
    paradetox          toxic, neutral1[, neutral2, neutral3]   toxic = positive (references: the neutrals),
                                                          neutral1 = negative
    jigsaw             comment_text, toxic                toxic 1 = positive, 0 = negative, other (-1) skipped
    jigsaw-toxic-only  comment_text                       every row positive (no references)
    counterfactual     Original + one column per demographic variant
    stereoset (JSONL)  type, target, bias_type, context, stereotype, anti-stereotype, unrelated

Texts go through the trainer's :func:`srllm_guard.textnorm.normalize` (the model was trained on normalised text).
Every problem (missing or empty file, not UTF-8, an unknown header, a missing column) is a
:class:`~srllm_guard.errors.DataError` that names the file and the columns it expected.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Iterable, Sequence

from srllm_guard.errors import DataError

__all__ = [
    "FORMATS",
    "Item",
    "CFRow",
    "StereoItem",
    "DataPaths",
    "read_detection",
    "read_counterfactual",
    "read_stereoset",
    "read_seen",
    "balanced_sample",
    "half",
    "unit",
]

FORMATS: dict[str, tuple[str, ...]] = {
    "srllm": ("biased_text", "debiased_text"),
    "paradetox": ("toxic", "neutral1"),
    "jigsaw": ("comment_text", "toxic"),
    "jigsaw-toxic-only": ("comment_text",),
}
"""Detection formats and the columns that identify each (checked in this order)."""

STEREOSET_KEYS = ("type", "target", "bias_type", "context", "stereotype", "anti-stereotype", "unrelated")


def _expected() -> str:
    return "; ".join(f"{name} ({', '.join(cols)})" for name, cols in FORMATS.items())


def unit(key: str, seed: int) -> float:
    """A stable pseudo-random number in [0, 1) for ``key``: seeded samples that do not move as files grow."""
    digest = hashlib.sha256(f"{seed}\x00{key}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def half(item: Item, seed: int) -> str:
    """``'eval'`` or ``'judge'``: files shared by the evaluation and the judge's training are cut in two,
    by source row (a toxic text and its rewrites stay on one side)."""
    return "eval" if unit("judge-split:" + (item.group or item.text), seed) < 0.5 else "judge"


def _normalize(text: str) -> str:
    from srllm_guard.textnorm import normalize  # the trainer's normaliser: eval text must look like training text

    return normalize(text)


@dataclass(frozen=True)
class Item:
    """One labelled text."""

    dataset: str
    """Name of the slice it belongs to (``srllm``, ``paradetox``, ``jigsaw`` ...)."""
    text: str
    label: int
    """1: biased / toxic (the guard should act), 0: neutral."""
    refs: tuple[str, ...] = ()
    """Human rewrites of a positive, where the data has them (FL is chrF against these)."""
    group: str = ""
    """Texts of one source row share it (a toxic text and its rewrite): halves are cut by group."""

    @property
    def key(self) -> str:
        return hashlib.sha256(f"{self.dataset}\x00{self.label}\x00{self.text}".encode("utf-8")).hexdigest()[:20]


@dataclass(frozen=True)
class CFRow:
    """One neutral sentence and its demographic variants (column name -> text)."""

    original: str
    variants: dict[str, str] = field(hash=False)


@dataclass(frozen=True)
class StereoItem:
    """One StereoSet item: a context and three candidate continuations."""

    kind: str
    """``intersentence`` (continuation follows the context) or ``intrasentence`` (full sentences)."""
    target: str
    bias_type: str
    context: str
    stereotype: str
    anti: str
    unrelated: str

    @property
    def key(self) -> str:
        raw = "\x00".join((self.kind, self.target, self.context, self.stereotype, self.anti, self.unrelated))
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:20]


# ------------------------------------------------------------------------------------------------ files

def _read_text(path: Path, expected: str) -> str:
    if not path.is_file():
        raise DataError(f"data file not found: {path}; expected a file with {expected}")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not valid UTF-8 ({exc.reason} at byte {exc.start}); re-save it as UTF-8") from exc
    if not text.strip():
        raise DataError(f"{path} is empty; expected a file with {expected}")
    return text


def _read_table(path: Path, expected: str) -> tuple[list[str], list[dict[str, str]]]:
    csv.field_size_limit(1 << 24)
    delimiter = "\t" if path.suffix.lower() in {".tsv", ".tab"} else ","
    reader = csv.DictReader(io.StringIO(_read_text(path, expected), newline=""), delimiter=delimiter)
    header = [(h or "").strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    try:
        rows = [{k: (v or "") for k, v in row.items() if k is not None} for row in reader]
    except csv.Error as exc:
        raise DataError(f"{path} is not a readable {'TSV' if delimiter == chr(9) else 'CSV'} file: {exc}") from exc
    if not rows:
        raise DataError(f"{path} has a header but no rows; expected a file with {expected}")
    return header, rows


def _detect_format(path: Path, header: Sequence[str]) -> str:
    for name, columns in FORMATS.items():
        if all(c in header for c in columns):
            return name
    raise DataError(
        f"{path}: unknown dataset format (columns: {', '.join(header) or 'none'}); expected the columns of one "
        f"of: {_expected()}"
    )


def read_detection(
    path: str | Path, *, dataset: str | None = None, fmt: str | None = None, max_chars: int | None = 1000
) -> list[Item]:
    """Labelled items from one file; ``fmt`` forces a format (else it is recognised from the header).

    Texts longer than ``max_chars`` are skipped (long comments would not fit the model's prompt whole).
    """
    path = Path(path)
    if fmt is not None and fmt not in FORMATS:
        raise DataError(f"unknown dataset format {fmt!r} for {path}; use one of {', '.join(FORMATS)}")
    header, rows = _read_table(path, f"the columns of one of: {_expected()}")
    if fmt is None:
        fmt = _detect_format(path, header)
    missing = [c for c in FORMATS[fmt] if c not in header]
    if missing:
        raise DataError(f"{path} lacks column(s) {', '.join(missing)} of format {fmt!r}; expected "
                        f"{', '.join(FORMATS[fmt])} (found: {', '.join(header)})")
    name = dataset or fmt.split("-")[0]
    items: list[Item] = []
    for row in rows:
        items += _items(fmt, name, row)
    items = [it for it in items if it.text and (max_chars is None or len(it.text) <= max_chars)]
    if not items:
        raise DataError(f"{path} yielded no usable labelled texts (format {fmt!r}, columns {', '.join(FORMATS[fmt])})")
    return _unique(items)


def _items(fmt: str, name: str, row: dict[str, str]) -> list[Item]:
    if fmt == "srllm":
        biased, debiased = _normalize(row["biased_text"]), _normalize(row["debiased_text"])
        if debiased.upper() == "TOREMOVE" or "remove" in row.get("comments", "").lower() or not biased:
            return []  # annotators marked these rows for removal (as the trainer does)
        pos = Item(name, biased, 1, (debiased,) if debiased else (), group=biased)
        return [pos, *([Item(name, debiased, 0, group=biased)] if debiased else [])]
    if fmt == "paradetox":
        toxic = _normalize(row["toxic"])
        refs = tuple(r for r in (_normalize(row.get(c, "")) for c in ("neutral1", "neutral2", "neutral3")) if r)
        if not toxic or not _normalize(row["neutral1"]):
            return []
        return [Item(name, toxic, 1, refs, group=toxic), Item(name, _normalize(row["neutral1"]), 0, group=toxic)]
    text = _normalize(row["comment_text"])
    if fmt == "jigsaw-toxic-only":
        return [Item(name, text, 1, group=text)]
    label = row["toxic"].strip()
    return [Item(name, text, int(label), group=text)] if label in {"0", "1"} else []


def _unique(items: Iterable[Item]) -> list[Item]:
    """First occurrence of each text; a text seen with both labels is dropped (ambiguous)."""
    labels: dict[str, set[int]] = {}
    for it in items:
        labels.setdefault(it.text, set()).add(it.label)
    seen: set[str] = set()
    out = []
    for it in items:
        if len(labels[it.text]) == 1 and it.text not in seen:
            seen.add(it.text)
            out.append(it)
    return out


def balanced_sample(items: Sequence[Item], limit: int | None, seed: int) -> list[Item]:
    """A seeded slice of ``limit`` items, half positives and half negatives where both have enough."""
    if limit is None or limit >= len(items):
        return list(items)
    ranked = sorted(items, key=lambda it: unit(it.key, seed))
    pos = [it for it in ranked if it.label == 1]
    neg = [it for it in ranked if it.label == 0]
    n_pos = min(len(pos), max(limit - len(neg), limit // 2))
    chosen = {id(it) for it in pos[:n_pos] + neg[: limit - n_pos]}
    return [it for it in items if id(it) in chosen]


def read_seen(paths: Iterable[str | Path]) -> set[str]:
    """Texts (and rewrites) of trainer JSONL splits: evaluation items among them are dropped as seen."""
    seen: set[str] = set()
    for path in map(Path, paths):
        for number, line in enumerate(_read_text(path, "JSON lines with a 'text' field").splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                seen.add(record["text"])
            except (ValueError, KeyError, TypeError) as exc:
                raise DataError(f"{path}:{number}: expected a JSON object with a 'text' field ({exc})") from exc
            if record.get("rewrite"):
                seen.add(record["rewrite"])
    return seen


def read_counterfactual(path: str | Path) -> list[CFRow]:
    """Rows of counterfactual-inhouse.csv: ``Original`` plus one column per demographic variant."""
    path = Path(path)
    expected = "the columns Original plus one column per demographic variant (e.g. gender_a_woman)"
    header, rows = _read_table(path, expected)
    variants = [c for c in header if c and c != "Original"]
    if "Original" not in header or not variants:
        raise DataError(f"{path} lacks {'column Original' if 'Original' not in header else 'variant columns'}; "
                        f"expected {expected} (found: {', '.join(header)})")
    out = []
    for row in rows:
        original = _normalize(row["Original"])
        texts = {c: _normalize(row[c]) for c in variants if _normalize(row[c])}
        if original and texts:
            out.append(CFRow(original=original, variants=texts))
    if not out:
        raise DataError(f"{path} has no row with an Original text and a variant; expected {expected}")
    return out


def read_stereoset(path: str | Path) -> list[StereoItem]:
    """StereoSet dev, one JSON object per line with the keys in ``STEREOSET_KEYS``."""
    path = Path(path)
    expected = "JSON lines with keys " + ", ".join(STEREOSET_KEYS)
    out = []
    for number, line in enumerate(_read_text(path, expected).splitlines(), 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
            missing = [k for k in STEREOSET_KEYS if not isinstance(r.get(k), str)]
        except ValueError as exc:
            raise DataError(f"{path}:{number}: not JSON ({exc}); expected {expected}") from exc
        if missing:
            raise DataError(f"{path}:{number}: missing or non-text key(s) {', '.join(missing)}; expected {expected}")
        out.append(StereoItem(kind=r["type"], target=r["target"], bias_type=r["bias_type"], context=r["context"],
                              stereotype=r["stereotype"], anti=r["anti-stereotype"], unrelated=r["unrelated"]))
    return out


# ------------------------------------------------------------------------------------------------ paths

@dataclass
class DataPaths:
    """Where each evaluation file is; ``None`` skips what needs it. :meth:`from_dir` fills the defaults."""

    srllm: Path | None = None
    """SR-LLM held-out pairs (``sr_llm_inhouse/infer_50.csv``)."""
    paradetox: Path | None = None
    """ParaDetox pairs (``paradetox/paradetox.tsv``); half its rows (by hash) are evaluation, half judge training."""
    jigsaw: tuple[Path, ...] = ()
    """Jigsaw slices for detection (labelled and toxic-only files)."""
    counterfactual: Path | None = None
    """``sr_llm_inhouse/counterfactual-inhouse.csv``."""
    stereoset: Path | None = None
    """``stereoset/stereoset_dev_flat.jsonl``."""
    judge_train: tuple[Path, ...] = ()
    """Labelled files the MiniLM judge is trained on (never the evaluation slices)."""

    DEFAULTS: ClassVar[dict[str, str | tuple[str, ...]]] = {
        "srllm": "sr_llm_inhouse/infer_50.csv",
        "paradetox": "paradetox/paradetox.tsv",
        "jigsaw": ("jigsaw/ibm_max_sample/test_examples.csv", "jigsaw/dummy_sample/test.csv", "jigsaw/test_toxic.csv"),
        "counterfactual": "sr_llm_inhouse/counterfactual-inhouse.csv",
        "stereoset": "stereoset/stereoset_dev_flat.jsonl",
        "judge_train": ("jigsaw/dummy_sample/train.csv", "sr_llm_inhouse/train_500.csv", "paradetox/paradetox.tsv",
                        "jigsaw/test_toxic.csv"),
    }

    @classmethod
    def from_dir(cls, data_dir: str | Path | None, **overrides: Any) -> DataPaths:
        """Defaults under ``data_dir`` (a folder shaped like shared/data) for the fields not in ``overrides``;
        a default that does not exist is left out (``None``), a path given explicitly must exist."""
        values: dict[str, Any] = {}
        root = Path(data_dir) if data_dir is not None else None
        if root is not None and not root.is_dir():
            raise DataError(f"data folder not found: {root}; pass --data-dir pointing at a folder shaped like "
                            "shared/data, or pass each file with its own flag")
        for name, default in cls.DEFAULTS.items():
            given = overrides.get(name)
            if given is not None and given != ():
                values[name] = tuple(Path(p) for p in given) if isinstance(default, tuple) else Path(given)
            elif root is not None:
                if isinstance(default, tuple):
                    values[name] = tuple(root / p for p in default if (root / p).is_file())
                else:
                    values[name] = root / default if (root / default).is_file() else None
        return cls(**values)

    def files(self) -> list[Path]:
        out: list[Path] = []
        for value in (self.srllm, self.paradetox, *self.jigsaw, self.counterfactual, self.stereoset,
                      *self.judge_train):
            if value is not None and value not in out:
                out.append(value)
        return out
