"""The functional suite: sentences built from templates, split by group, template and attribute.

One generator serves both sides. The trainer (``trainers/data.py``) takes the ``train`` side; the evaluation
takes the ``test`` side, whose every item has at least one part the training side never contains: a held-out
group (every spelling of it), a held-out template, or a held-out attribute. The split is a stable hash of each
part's key with the seed (:func:`held_out`), so it is the same on every machine and adding templates or
groups never moves existing ones.

Groups come from :data:`~srllm_guard.eval.lexicon.GROUPS`, plus, when their files are given, the SeeGULL
identities (nationalities, US and Indian states) and the HolisticBias descriptors (:func:`load_groups`).
SeeGULL's own rated tuples and HolisticBias's own templates are separate sources with the same split
(:mod:`srllm_guard.eval.sources`).

Obfuscated variants (:func:`obfuscate`: leetspeak, swapped letters, spaced letters, masked vowels) are
made from biased items and from some neutral ones, so that odd spelling alone never means "biased".
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass, replace
from typing import Callable, Collection, Iterable, Iterator, Sequence

from srllm_guard.config import GuardConfig
from srllm_guard.eval import lexicon
from srllm_guard.eval.lexicon import Attribute, Group
from srllm_guard.eval.templates import DEFAULT_REWRITES, FUNCTIONALITIES, TEMPLATES, Template

__all__ = [
    "SuiteItem",
    "HELD_OUT_SHARE",
    "held_out",
    "held_out_parts",
    "grid",
    "check_side",
    "on_side",
    "within_drift",
    "group_is_held_out",
    "generate",
    "make_item",
    "REWRITE_STYLES",
    "rewrite_options",
    "slot_kinds",
    "obfuscate",
    "OBFUSCATIONS",
    "article",
    "fill",
]

HELD_OUT_SHARE = {"group": 0.2, "template": 0.25, "attribute": 0.15}
"""Share of each kind of part kept out of training (by stable hash of its key)."""

OBFUSCATIONS = ("leet", "swap", "spaced", "masked")

_SLOT = re.compile(r"\{(G|one|adj|X|A|A1|Xs|P|P1|D|R|T)\}")


@dataclass(frozen=True)
class SuiteItem:
    """One sentence of the suite, with everything a report slices on."""

    text: str
    biased: bool
    rewrite: str | None
    """A reference rewrite (biased items), else None."""
    functionality: str
    template: str
    group: str | None
    """Group key (None for templates without a group)."""
    attribute: str | None
    held_out: tuple[str, ...]
    """Which parts are held out of training: 'group', 'template', 'attribute' (empty on the train side)."""
    source: str = "functional"
    obfuscation: str | None = None
    majority: bool = False
    checked: bool = False
    """The rewrite is the frame-keeping one that ``rewrite_style='checked'`` chose because the template's usual
    target drifts too far (the training mix can set these items apart: ``mix.checked_apart``)."""


def _unit(key: str, seed: int) -> float:
    digest = hashlib.sha256(f"{seed}\x00{key}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def held_out(kind: str, key: str, seed: int = 0) -> bool:
    """Whether part ``key`` of ``kind`` ('group', 'template', 'attribute') is on the test side."""
    return _unit(f"{kind}:{key.casefold()}", seed) < HELD_OUT_SHARE[kind]


def held_out_parts(seed: int = 0, *, group: str | None = None, template: str | None = None,
                   attribute: str | None = None) -> tuple[str, ...]:
    """The held-out parts ('group', 'template', 'attribute', in that order) among the split keys given; a part
    whose key is ``None`` is not checked."""
    return tuple(kind for kind, key in (("group", group), ("template", template), ("attribute", attribute))
                 if key is not None and held_out(kind, key, seed))


def check_side(side: str) -> None:
    """Refuse a ``side`` other than 'train', 'test' or 'all'."""
    if side not in ("train", "test", "all"):
        raise ValueError(f"side must be 'train', 'test' or 'all', got {side!r}")


def on_side(side: str, parts: tuple[str, ...]) -> bool:
    """Whether an item with held-out ``parts`` belongs to ``side`` ('train': none, 'test': at least one, 'all')."""
    return side == "all" or (side == "train") == (not parts)


def within_drift(text: str, options: Sequence[str], max_drift: float) -> list[str]:
    """The ``options`` (rewrites of ``text``) that drift from it at most ``max_drift``
    (:func:`srllm_guard.policy.drift`), else the closest one alone: what a templated source draws its target from,
    so that the guard's drift test accepts what the model learns."""
    from srllm_guard.policy import drift

    return ([r for r in options if drift(text, r) <= max_drift]
            or [min(options, key=lambda r: drift(text, r))])


GridDraw = tuple[str, str, "str | None", str, tuple[str, ...], random.Random]
"""One draw of :func:`grid`: template id, subject, word, text, held-out parts, the draw's rng."""


def grid(source: str, templates: Sequence[tuple[str, str]], subjects: Sequence[str],
         pool: Callable[[str], Sequence[str]], fill: Callable[[str, str, str | None], str], *, side: str,
         per_subject: int, seed: int, template_key: Callable[[str], str] = lambda tid: tid) -> Iterator[GridDraw]:
    """Every template with every subject (``per_subject`` words drawn from its ``pool`` each) on one ``side`` of the
    suite's split ('train': no held-out part, 'test': at least one, 'all'), for the sources made of frames x
    subjects x words (things, insults): yields ``(template id, subject, word, text, held-out parts, rng)``, each
    text once; ``rng`` is the draw's own, for anything more the source picks. Subjects are split as groups under
    ``source:``, words as attributes under ``source:``, templates by ``template_key(id)``."""
    check_side(side)
    seen: set[str] = set()
    for tid, template in templates:
        words_of = pool(template)
        for subject in subjects:
            rng = random.Random(f"{seed}:{source}:{tid}:{subject}")
            words: list[str | None] = (list(rng.sample(list(words_of), min(per_subject, len(words_of))))
                                       if words_of else [None])
            for word in words:
                parts = held_out_parts(seed, group=f"{source}:{subject}", template=template_key(tid),
                                       attribute=None if word is None else f"{source}:{word}")
                text = fill(template, subject, word)
                if not on_side(side, parts) or text in seen:
                    continue
                seen.add(text)
                yield tid, subject, word, text, parts, rng


def group_is_held_out(key: str, seed: int = 0) -> bool:
    return held_out("group", key, seed)


def article(phrase: str) -> str:
    """'a' or 'an' for ``phrase`` (by its first letter, with the common exceptions)."""
    low = phrase.lower()
    vowel = low[:1] in "aeiou" and not low.startswith(("uni", "use", "eu", "one", "ur"))
    return ("an " if vowel or low.startswith(("hour", "honest", "heir")) else "a ") + phrase


def _singular(attr: Attribute) -> str:
    return attr.one if attr.kind == "noun" and attr.one else attr.word


def capitalise(text: str) -> str:
    """``text`` with its first letter upper-cased (the rest as written): how every templated source starts a
    sentence."""
    return text[:1].upper() + text[1:]


def fill(template: str, group: Group | None, slots: dict[str, str]) -> str:
    """Fill a template's slots; the first letter is capitalised."""
    values = dict(slots)
    if group is not None:
        values.update(G=group.plural, one=group.one, adj=group.adj or "")
    return capitalise(_SLOT.sub(lambda m: values[m.group(1)], template))


def _needs(template: str) -> set[str]:
    return set(_SLOT.findall(template))


def _fits(template: Template, group: Group | None) -> bool:
    need = _needs(template.text)
    if need & {"G", "one", "adj"} and group is None:
        return False
    return not ("adj" in need and group is not None and not group.adj)


def _attribute_pool(slot: str) -> tuple[Attribute, ...]:
    if slot in ("X", "Xs"):
        return lexicon.NEGATIVE
    if slot == "A":
        return tuple(a for a in lexicon.NEGATIVE if a.kind == "adj")
    if slot == "A1":
        return tuple(a for a in lexicon.NEGATIVE if a.kind == "adj" and " " not in a.word)
    if slot == "P":
        return lexicon.POSITIVE
    if slot == "P1":
        return tuple(a for a in lexicon.POSITIVE if " " not in a.word)
    if slot == "D":
        return lexicon.DEHUMANISING
    return ()


def slot_kinds(template: Template) -> set[str]:
    """The attribute kinds ('adj', 'noun') that ``template``'s attribute slot accepts (empty: no slot)."""
    slot = _main_slot(template)
    if slot is None or slot in ("D", "P", "P1"):
        return set()
    return {"adj"} if slot in ("A", "A1") else {"adj", "noun"}


def _main_slot(template: Template) -> str | None:
    need = _needs(template.text)
    return next((s for s in ("X", "A", "A1", "Xs", "P", "P1", "D") if s in need), None)


def _slots(template: Template, attr: Attribute | None, rng: random.Random) -> dict[str, str]:
    slots = {"R": rng.choice(lexicon.ROLES), "T": rng.choice(lexicon.THINGS)}
    if attr is not None:
        slots.update(X=attr.word, A=attr.word, A1=attr.word, Xs=_singular(attr), P=attr.word, P1=attr.word,
                     D=attr.word)
    return slots


REWRITE_STYLES = ("reference", "frame", "checked")
"""Where a biased item's reference rewrite comes from: ``reference``, the template's own rewrites or its family's
:data:`~srllm_guard.eval.templates.DEFAULT_REWRITES`; ``frame``, the frame-keeping rewrites of
:data:`~srllm_guard.eval.templates_frame.FRAME_REWRITES` where the template has them (else as ``reference``);
``checked``, the ``reference`` rewrite unless the guard would reject it (drift above
:data:`TARGET_MAX_DRIFT`), then the template's frame-keeping rewrite that drifts least, if that one passes.

``checked`` exists because 3.6% of the suite's train-side reference rewrites are ones the guard throws away: the
family statements share almost no words with long or short sentences ("Never hire {G}." ->
"Every candidate should be judged on their own abilities.", drift 1.0; every item of "{G} are too {A1} to be
good {R}, so hiring them is a mistake."), so a model that learns them has its rewrite replaced by the fallback.
Every other item draws exactly what ``reference`` draws."""

TARGET_MAX_DRIFT: float = GuardConfig.model_fields["max_drift"].default
"""The drift above which ``checked`` looks for another target: :class:`~srllm_guard.config.GuardConfig`'s default
``max_drift`` (0.9)."""


def rewrite_options(template: Template, style: str = "reference") -> tuple[str, ...]:
    """The rewrite phrasings a biased template's items draw from in ``style`` (see :data:`REWRITE_STYLES`)."""
    options: tuple[str, ...] = ()
    if style == "frame":  # ``checked`` starts from ``reference`` (see _rewrite)
        from srllm_guard.eval.templates_frame import FRAME_REWRITES

        options = FRAME_REWRITES.get(template.text, ())
    elif style not in REWRITE_STYLES:
        raise ValueError(f"rewrite style must be one of {', '.join(REWRITE_STYLES)}, got {style!r}")
    return options or template.rewrites or DEFAULT_REWRITES[template.functionality]


def _rewrite(template: Template, group: Group | None, slots: dict[str, str], rng: random.Random,
             style: str = "reference", avoid: Collection[str] = ()) -> tuple[str | None, bool]:
    """The item's rewrite, and whether the ``checked`` rule replaced the usual target with a frame-keeping one.
    ``avoid``: phrasings (as the templates write them) not drawn while the template offers another."""
    if not FUNCTIONALITIES[template.functionality]:
        return None, False
    from srllm_guard.pipeline import drift

    options = rewrite_options(template, style)
    options = tuple(r for r in options if r not in avoid) or options
    usable = [fill(r, group, slots) for r in options if _fits(Template("", "", r), group)]
    if not usable:
        return None, False
    # the guard rejects a rewrite that drifts too far from its original (GuardConfig.max_drift): prefer the
    # phrasings that keep the most of the sentence's words
    text = fill(template.text, group, slots)
    drifts = [drift(text, r) for r in usable]
    chosen = rng.choice([r for r, d in zip(usable, drifts) if d <= min(drifts) + 0.05])
    if style == "checked" and drift(text, chosen) > TARGET_MAX_DRIFT:
        # no further draw from rng, so the items after this one are those of ``reference``
        framed = [fill(r, group, slots) for r in rewrite_options(template, "frame")
                  if _fits(Template("", "", r), group)]
        best = min(framed, key=lambda r: drift(text, r), default=None)
        if best is not None and drift(text, best) <= TARGET_MAX_DRIFT and best != chosen:
            return best, True
    return chosen, False


def _parts(template: Template, group: Group | None, attr: Attribute | None, seed: int) -> tuple[str, ...]:
    parts = []
    if group is not None and held_out("group", group.key, seed):
        parts.append("group")
    if template.test_only or held_out("template", template.id, seed):
        parts.append("template")
    if attr is not None and held_out("attribute", attr.key, seed):
        parts.append("attribute")
    return tuple(parts)


def make_item(template: Template, group: Group | None, attr: Attribute | None, *, seed: int = 0,
              source: str = "functional", rng: random.Random | None = None,
              rewrite_style: str = "reference", avoid: Collection[str] = ()) -> SuiteItem:
    """One filled template (its rewrite drawn with ``rng`` in ``rewrite_style``, see :data:`REWRITE_STYLES`, and
    never one of the phrasings in ``avoid`` while the template offers another), with its held-out parts."""
    rng = rng or random.Random(f"{seed}:{template.id}:{group.plural if group else ''}:{attr.word if attr else ''}")
    slots = _slots(template, attr, rng)
    rewrite, checked = _rewrite(template, group, slots, rng, rewrite_style, avoid)
    return SuiteItem(
        text=fill(template.text, group, slots), biased=FUNCTIONALITIES[template.functionality],
        rewrite=rewrite, functionality=template.functionality,
        template=template.id, group=group.key if group else None, attribute=attr.key if attr else None,
        held_out=_parts(template, group, attr, seed), source=source, majority=bool(group and group.majority),
        checked=checked)


def generate(groups: Sequence[Group], *, side: str, per_group: int = 2, seed: int = 0,
             functionalities: Iterable[str] | None = None, templates: Sequence[Template] = TEMPLATES,
             source: str = "functional", cap: int | None = None,
             rewrite_style: str = "reference", avoid: Collection[str] = ()) -> list[SuiteItem]:
    """Sentences from every template for every group (``per_group`` attribute draws each; rewrites as in
    :func:`make_item`).

    ``side='train'`` keeps the items with no held-out part; ``'test'`` those with at least one; ``'all'``
    both. Templates without a group slot are made once each (``per_group`` times for attribute slots).
    ``cap``: at most this many items per functionality, the first by a stable hash of their text (chosen
    before any rewrite is made, so a small sample of a large suite is fast).
    """
    check_side(side)
    wanted = set(functionalities) if functionalities is not None else set(FUNCTIONALITIES)
    candidates: list[tuple[Template, Group | None, Attribute | None, tuple, str]] = []
    seen: set[str] = set()
    for template in templates:
        if template.functionality not in wanted:
            continue
        uses_group = bool(_needs(template.text) & {"G", "one", "adj"})
        # a template with no group is made once, or (with a {T} slot) once per draw of the thing it names
        repeats = 1 if uses_group or "T" not in _needs(template.text) else 8 * per_group
        for group, rep in ((g, r) for g in (groups if uses_group else [None]) for r in range(repeats)):
            if not _fits(template, group):
                continue
            rng = random.Random(f"{seed}:{template.id}:{group.plural if group else ''}:{rep or ''}")
            slot = _main_slot(template)
            pool = _attribute_pool(slot) if slot else ()
            draws = rng.sample(pool, min(per_group, len(pool))) if pool else [None]
            for attr in draws:
                state = rng.getstate()
                text = fill(template.text, group, _slots(template, attr, rng))
                parts = _parts(template, group, attr, seed)
                if not on_side(side, parts) or text in seen:
                    continue
                seen.add(text)
                candidates.append((template, group, attr, state, text))
    if cap is not None:
        by_kind: dict[str, list] = {}
        for cand in candidates:
            by_kind.setdefault(cand[0].functionality, []).append(cand)
        keep = {id(c) for kind in by_kind.values()
                for c in sorted(kind, key=lambda c: _unit("fn:" + c[4], seed))[: max(cap, 0)]}
        candidates = [c for c in candidates if id(c) in keep]
    out = []
    for template, group, attr, state, _ in candidates:
        rng = random.Random()
        rng.setstate(state)
        out.append(make_item(template, group, attr, seed=seed, source=source, rng=rng, rewrite_style=rewrite_style,
                             avoid=avoid))
    return out


# --------------------------------------------------------------------------------------------- obfuscation

_LEET = str.maketrans({"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"})


def _obfuscate_word(word: str, method: str, rng: random.Random) -> str:
    if len(word) < 3:
        return word
    if method == "leet":
        return word.translate(_LEET)
    if method == "swap":
        i = rng.randrange(1, len(word) - 2) if len(word) > 3 else 1
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if method == "spaced":
        return " ".join(word)
    if method == "masked":
        vowels = [i for i, c in enumerate(word) if c.lower() in "aeiou" and 0 < i]
        if not vowels:
            return word[0] + "*" + word[2:]
        i = rng.choice(vowels)
        return word[:i] + "*" + word[i + 1 :]
    raise ValueError(f"unknown obfuscation {method!r}; use one of {', '.join(OBFUSCATIONS)}")


def _target_word(item: SuiteItem) -> str | None:
    """The word to disguise: the attribute's longest word if it is in the text, else the longest word."""
    words = re.findall(r"[A-Za-z]{3,}", item.attribute or "")
    words = [w for w in words if re.search(rf"\b{re.escape(w)}\b", item.text)]
    if not words:
        words = re.findall(r"[A-Za-z]{4,}", item.text)
    return max(words, key=len) if words else None


def obfuscate(item: SuiteItem, method: str, *, seed: int = 0) -> SuiteItem:
    """``item`` with its key word disguised by ``method`` (see :data:`OBFUSCATIONS`); same label, same rewrite."""
    rng = random.Random(f"{seed}:{method}:{item.text}")
    word = _target_word(item)
    if word is None:
        return replace(item, obfuscation=method)
    text = re.sub(rf"\b{re.escape(word)}\b", lambda m: _obfuscate_word(m.group(0), method, rng), item.text, count=1)
    return replace(item, text=text, obfuscation=method)


def obfuscated(items: Iterable[SuiteItem], *, share: float = 1.0, seed: int = 0) -> Iterator[SuiteItem]:
    """One obfuscated variant per item (method chosen by hash) for a ``share`` of ``items`` (chosen by hash)."""
    for item in items:
        if _unit("obf:" + item.text, seed) < share:
            method = OBFUSCATIONS[int(_unit("obf-method:" + item.text, seed) * len(OBFUSCATIONS))]
            yield obfuscate(item, method, seed=seed)
