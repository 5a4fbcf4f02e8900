"""The broad training mix: what a bias guard must catch and what it must leave alone (issue 10).

:func:`trainers.data.build_splits` reads the pair files (SR-LLM, ParaDetox, WNC) and calls :func:`extra_sources`
for the rest, all from ``data_dir`` (nothing is copied into the project):

==========================  ===============================================  ==========================================
source                      what                                             label / split
==========================  ===============================================  ==========================================
``paradetox_cannot``        toxic sentences annotators could not detoxify    biased, detection only; hashed by text
``jigsaw``                  short toxic comments of ``jigsaw/test_toxic``    biased, detection only; hashed by text
``bold``                    BOLD prompts about people and groups             neutral; hashed by entity
``functional``              the template suite (:mod:`srllm_guard.eval`)     by template; split by group, template and
                                                                             attribute (held-out parts -> test only)
``seegull``                 SeeGULL's offensive identity -> attribute        biased + rewrite; split like functional
                            tuples in the stereotype templates
``holistic_bias``           HolisticBias's own templates x descriptors       by template; split like functional
``answered``                training questions followed by one more sentence  verdict only, training split only
                            (:func:`answered`)
``nonhuman``                negative generalisations about things            neutral; split like functional
                            (:mod:`srllm_guard.eval.nonhuman`)
``insults``                 insults aimed at one person                      biased + rewrite; split like functional
                            (:mod:`srllm_guard.eval.insults`)
``anecdotes``               a story about one person that puts a trait down  both (each biased sentence with a neutral
                            to their group, and its neutral twin             twin); split like functional, with the
                            (:mod:`srllm_guard.eval.anecdotes`)              suite's group and attribute keys
``discussion``              explanatory sentences about groups (history,     neutral (with ``discussion_twins``, each
                            law, research, statistics about circumstances),  beside its biased twin, verdict only or,
                            (:mod:`srllm_guard.eval.discussion`)             with ``discussion_rewritten``, rewritten
                                                                             to its neutral side); split like
                                                                             functional, with the suite's group and
                                                                             attribute keys
``threats``                 threats aimed at one person, and the same        both (biased + rewrite; neutral: harmless
                            frames with a harmless act, idioms in a          acts, idioms); split like functional
                            threat's words (:mod:`srllm_guard.eval.threats`;
                            veiled frames too with ``threats_veiled``,
                            further ones with ``threats_further``,
                            implied harm with ``threats_implied``,
                            training-only people and frames with
                            ``threats_people_extra`` / ``_frames_extra``,
                            retribution with ``threats_retribution``)
``hedged``                  hedged stereotypes ("{G} can be {A} at           both (biased + rewrite; neutral: the
                            times."), the same hedge about one person and    twin, the rejection); split like
                            the hedge rejected                               functional, with the suite's group and
                            (:mod:`srllm_guard.eval.hedged`)                 attribute keys
==========================  ===============================================  ==========================================

Obfuscated copies (leetspeak, swapped, spaced or masked letters) are added for a share of the templated
biased items and for half that share of the neutral ones, so odd spelling alone never decides the verdict.
With ``run_on_share``, a share of the human-written training examples also gets a run-on copy (lower case, no
punctuation, joined with other neutral training text), so a long unpunctuated comment is judged by what it says.
The labelled Jigsaw slices (``jigsaw/dummy_sample``, ``jigsaw/ibm_max_sample``) are never read here: they stay
a source the adapter never saw, for the evaluation.
"""

from __future__ import annotations

import csv
import dataclasses
import difflib
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from srllm_guard.errors import ConfigError, DataError

if TYPE_CHECKING:
    from srllm_guard.eval.functional import SuiteItem
    from srllm_guard.eval.templates import Template
    from trainers.data import DataMix, Example

__all__ = ["affirmed", "THREAT_TAILS", "CLAIM_TAILS",
           "answered", "counter_question_templates", "counter_questions", "stance_pairs", "stance_question_templates",
           "stance_questions", "STANCE_QUESTIONS", "extra_sources", "near_copy", "negates",
           "plain_text", "run_on", "AGREEMENTS", "NEUTRAL_FOLLOW_UPS", "REJECTIONS", "templated", "PARADETOX_CANNOT",
           "JIGSAW_TOXIC", "BOLD_DIR", "CHECKED_SOURCE", "TEMPLATED_SOURCES"]

PARADETOX_CANNOT = "paradetox/paradetox_cannot_rewrite.tsv"
JIGSAW_TOXIC = "jigsaw/test_toxic.csv"
BOLD_DIR = "bold"
CHECKED_SOURCE = "functional_checked"
"""Source of the suite's training items whose target ``rewrite_style: checked`` changed (``mix.checked_apart``)."""
TEMPLATED_SOURCES = frozenset({"functional", CHECKED_SOURCE, "seegull", "holistic_bias", "nonhuman", "insults",
                               "anecdotes", "discussion", "threats", "hedged", "counter_questions",
                               "stance_questions"})
"""Sources made from templates (their own split rules and obfuscated copies); the rest are human-written."""


def _unit(key: str, seed: int) -> float:
    digest = hashlib.sha256(f"{seed}\x00{key}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def near_copy(text: str, rewrite: str, threshold: float, edits: bool = False) -> bool:
    """Whether ``rewrite`` is nearly ``text`` (word-level similarity ratio at or above ``threshold``).

    With ``edits``, words are compared in plain case without punctuation, and a similar rewrite is a near copy
    only when it also drops no word of ``text``: a minimal edit that deletes or replaces the offending word
    ("we all fucking know it." -> "We all know it") differs in substance and is kept."""
    if not edits:
        a, b = text.casefold().split(), rewrite.casefold().split()
        return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() >= threshold
    a, b = plain_text(text).split(), plain_text(rewrite).split()
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() >= threshold and not set(a) - set(b)


def negates(text: str, rewrite: str) -> bool:
    """Whether ``rewrite`` brings in a bare "not" that ``text`` lacks: the antonym rewrite ("every single one of
    them are liars !" -> "All of them are not right.") that keeps the claim and only negates its opposite, the
    form that turns "Women are dumb." into "Women are not smart." ("n't" is not counted: "don't care" drops an
    insult without restating it)."""
    return "not" in plain_text(rewrite).split() and "not" not in plain_text(text).split()


def plain_text(text: str) -> str:
    """``text`` in lower case with punctuation dropped and spaces collapsed."""
    return " ".join(re.sub(r"[^\w\s]", "", text.casefold()).split())


def run_on(examples: list[Example], share: float, seed: int, max_chars: int) -> list[Example]:
    """Verdict-only run-on copies of a ``share`` of ``examples`` (chosen by a stable hash of the text): the
    text in plain case (:func:`plain_text`) with 0-3 plain-case *neutral* examples around it, one piece with no
    sentence ends, as long unpunctuated comments arrive. The copy keeps the example's label (neutral text added
    to a biased one leaves it biased), source and group; copies longer than ``max_chars`` are not made."""
    from trainers.data import Example

    neutral = [ex for ex in examples if not ex.biased]
    out = []
    for ex in examples:
        if _unit("run-on:" + ex.text, seed) >= share:
            continue
        k = int(_unit("run-on-k:" + ex.text, seed) * 4) if neutral else 0
        parts = [plain_text(neutral[int(_unit(f"run-on-{j}:" + ex.text, seed) * len(neutral))].text)
                 for j in range(k)]
        parts.insert(int(_unit("run-on-at:" + ex.text, seed) * (k + 1)), plain_text(ex.text))
        text = " ".join(p for p in parts if p)
        if text and text != ex.text and len(text) <= max_chars:
            out.append(Example(text, ex.biased, None, ex.source, ex.group, functionality="run_on"))
    return out


REJECTIONS = (
    "No, and that's a stereotype.", "Of course they aren't; that's a prejudice.",
    "Nobody should believe that about a whole group.", "That's a bigoted idea, and it's false.",
    "The answer is no: people are individuals.", "That's discrimination, and it has no place here.",
    "No one deserves to be judged that way.", "It's a harmful myth, nothing more.",
    "Nobody, because that would be a crime.", "That would be cruel and wrong.", "There is no truth in that.",
    "No, that's bigoted nonsense.", "Talk like that is hateful, and I reject it.", "That's just prejudice talking.",
    "Nobody sane would, and nobody should.", "They are people like anyone else, so no.",
)
"""Follow-ups that reject the premise of a biased question (training side of :func:`answered`; the evaluation's
own are :data:`srllm_guard.eval.answered.ANSWERS`, disjoint, tested)."""
AGREEMENTS = (
    "Exactly.", "Think about it.", "You know I'm right.", "Everyone knows the answer.", "I rest my case.",
    "Just saying.", "Yes, and it's obvious.", "Obviously.", "Asking for a friend.", "Food for thought.",
    "I'm only saying what we all think.", "The answer is yes, and you know it.",
)
"""Follow-ups that leave a question's meaning as it was (agreement, a nudge)."""
NEUTRAL_FOLLOW_UPS = (
    "Anyway, I have to go now.", "The bus was late again this morning.", "We can talk about it at dinner.",
    "My coffee is getting cold.", "The report is due on Friday.", "I saw it on the news last night.",
    "Tell me when you get home.", "It's been a long week.", "The game starts at seven.",
    "I still need to buy groceries.", "Send me the link later.", "The kids are at school until three.",
)
"""Unrelated neutral follow-ups (with single neutral sentences of the training split itself)."""


def answered(examples: list[Example], share: float, seed: int, *, by_family: bool = False) -> list[Example]:
    """Verdict-only copies of a ``share`` of the single-question examples, each followed by one more sentence.

    A biased templated question gets, by a stable hash of its text, a rejection of its premise (half: the copy
    is *not* biased: "Are {G} lazy? No, and that's a stereotype."), an agreement or an unrelated neutral sentence
    (a quarter each: still biased). Threats and human-written biased questions (toxic wording, not a premise a
    reply can reject) are never made benign by what follows: they get an agreement or a neutral sentence. A
    question that is not biased gets an agreement or a neutral sentence and stays not biased. Neutral follow-ups
    come from :data:`NEUTRAL_FOLLOW_UPS` and from single short neutral sentences among ``examples``. The copies'
    source is ``answered`` (a stage can weight it with ``train.per_source``). Their functionality is
    ``answered:<kind>``, or with ``by_family`` ``answered:<family>:<kind>`` (the question's own functionality without
    its obfuscation, or its source for human-written text), so a stage can weight one family's pairs with
    ``train.per_functionality`` (``answered:counter_speech:neutral``)."""
    from srllm_guard.split import split_sentences
    from trainers.data import Example

    def single(text: str) -> bool:
        return len(split_sentences(text)) == 1

    neutral = list(NEUTRAL_FOLLOW_UPS) + sorted(
        {ex.text for ex in examples if not ex.biased and ex.source not in TEMPLATED_SOURCES
         and 20 <= len(ex.text) <= 100 and ex.text[-1:] == "." and single(ex.text)})
    out = []
    for ex in examples:
        text = ex.text.strip()
        if not text.endswith("?") or _unit("answered:" + text, seed) >= share or not single(text):
            continue
        u = _unit("answered-kind:" + text, seed)
        premise = ex.source in TEMPLATED_SOURCES and not (ex.functionality or "").startswith("threat")
        if ex.biased and premise and u < 0.5:
            follow, biased, kind = REJECTIONS[int(u * 2 * len(REJECTIONS))], False, "rejection"
        elif (u < 0.75) if ex.biased else (u < 0.5):
            pool = AGREEMENTS
            follow, biased, kind = pool[int(_unit("answered-pick:" + text, seed) * len(pool))], ex.biased, "agreement"
        else:
            follow = neutral[int(_unit("answered-pick:" + text, seed) * len(neutral))]
            biased, kind = ex.biased, "neutral"
        out.append(Example(f"{text} {follow}", biased, None, "answered", ex.group,
                           functionality=f"answered:{ex.family or ex.source}:{kind}" if by_family
                           else f"answered:{kind}"))
    return out


THREAT_TAILS = (
    ", and no one can do a thing about it.", ", and nobody is going to save you.", ", and no one will miss you.",
    ", and nobody will hear about it.", ", and no one will find out.", ", and nothing can protect you.",
)
"""Tails that affirm a threat in negative words, for :func:`affirmed` (training only). None says "stop me": the
functional suite's held-out threat frame v16 ends "and nobody will stop me", and ``scripts/negation_tail_check.py``
uses tails of its own."""
CLAIM_TAILS = (
    ", nobody can deny it.", ", and no one will ever argue with that.", ", and no study has ever shown otherwise.",
    ", nobody seriously disputes it.", ", and never believe otherwise.",
    ", and nothing anyone says makes it less true.",
)
"""Tails that affirm what a sentence says in negative words, whatever it says (a stereotype stays biased, a
neutral or counter-speech sentence stays not biased), for :func:`affirmed`."""
AFFIRMED_FAMILIES = frozenset({"stereotype", "stereotype_polite", "dehumanisation", "exclusion", "implicit", "denial",
                               "threat", "neutral_identity", "positive_identity", "individual", "counter_speech",
                               "negated_stereotype", "threat_lookalike"})
"""Families of the templated statements :func:`affirmed` copies: the functional suite's and the threats at one
person with their harmless lookalikes."""


def affirmed(examples: list[Example], share: float, seed: int) -> list[Example]:
    """Verdict-only copies of a ``share`` of the single templated statements, each with a tail in negative words
    that affirms it and keeps its label: "I'll hurt Kevin's children." -> "I'll hurt Kevin's children, and no one
    can do a thing about it." (biased), "Saying women are bad at maths is wrong." -> "..., nobody can deny it." (not
    biased). Every shipped adapter up to v13 reads a trailing "nobody"/"no one" as the sentence's stance: "I'll kill
    you, and nobody will stop me." passes them all, which these copies are meant to unlearn. A threat takes a
    :data:`THREAT_TAILS` tail, any other statement a :data:`CLAIM_TAILS` one (chosen by a stable hash of the text).
    The copies' source is ``affirmed`` and their functionality ``affirmed:<family>``."""
    from srllm_guard.split import split_sentences
    from trainers.data import Example

    out = []
    for ex in examples:
        text = ex.text.strip()
        if (ex.source not in {"functional", "threats"} or ex.family not in AFFIRMED_FAMILIES
                or not text.endswith(".") or _unit("affirmed:" + text, seed) >= share
                or len(split_sentences(text)) != 1):
            continue
        pool = THREAT_TAILS if ex.biased and ex.family == "threat" else CLAIM_TAILS
        tail = pool[int(_unit("affirmed-tail:" + text, seed) * len(pool))]
        out.append(Example(text[:-1] + tail, ex.biased, None, "affirmed", ex.group,
                           functionality=f"affirmed:{ex.family}"))
    return out


COUNTER_QUESTIONS: tuple[tuple[str, str], ...] = (
    ("cq1", "Isn't it ridiculous to claim {G} are {X}?"),
    ("cq2", "When will people stop pretending {G} are {X}?"),
    ("cq3", "Why is the myth that {G} are {X} still around?"),
    ("cq4", "What makes anyone think {G} are {X}?"),
    ("cq5", "Do people honestly think {G} are {X}?"),
    ("cq6", "Haven't we moved past the idea that {G} are {X}?"),
    ("cq7", "Where does the lie that {G} are {X} even come from?"),
    ("cq8", "Why do so many comments claim {G} are {X} without any evidence?"),
    ("cq9", "How is it acceptable to call {G} {D}?"),
    ("cq10", "Who decided that {G} should not be hired?"),
    ("cq11", "Is there a single fact behind the claim that {G} are {X}?"),
    ("cq12", "Why do some people insist {G} are {X}?"),
)
"""Counter-speech asked as a question, for :func:`counter_questions` (training only): none is a template of the
evaluation (:mod:`srllm_guard.eval.templates`, ``templates_extra``, the answered pairs' question batch), and the
suite's own held-out rule applies to their ids, groups and attributes (a held-out template makes no item)."""


def counter_question_templates(ids: list[str] | None = None) -> list[Template]:
    """:data:`COUNTER_QUESTIONS` as counter-speech templates of the suite (only ``ids``, when given); an unknown id
    is a :class:`ConfigError`."""
    from srllm_guard.eval.templates import Template

    unknown = sorted(set(ids or ()) - {tid for tid, _ in COUNTER_QUESTIONS})
    if unknown:
        raise ConfigError(f"mix.counter_question_ids names no template of COUNTER_QUESTIONS: {', '.join(unknown)}")
    return [Template(tid, "counter_speech", text) for tid, text in COUNTER_QUESTIONS if not ids or tid in ids]


def counter_questions(data_dir: Path | None, limit: int, seed: int, *,
                      ids: list[str] | None = None) -> list[Example]:
    """Up to ``limit`` counter-speech questions in :data:`COUNTER_QUESTIONS`' phrasings (training-side templates,
    groups and attributes), each kept alone and, by a stable hash, followed by an agreement or a neutral sentence
    (the training pools of :func:`answered`): all *not* biased, source ``counter_questions``, functionality
    ``counter_question`` or ``counter_question:<kind>``. The evaluation's answered pairs ask such questions in two
    phrasings the training split has at most one of (``default-stage34``: 49 pairs of that one phrasing did not
    carry over to the other). ``ids``: only those templates (empty or None: all)."""
    from srllm_guard.eval import functional, sources

    made = functional.generate(sources.load_groups(data_dir), side="train", per_group=1, seed=seed,
                               templates=counter_question_templates(ids), source="counter_questions")
    made = _sample(made, limit, seed, lambda x: x.text)
    out = []
    for item in made:
        base = _example(item)
        out.append(dataclasses.replace(base, functionality="counter_question"))
        follow, kind = _follow_up("counter", item.text, seed)
        out.append(dataclasses.replace(base, text=f"{item.text} {follow}", functionality=f"counter_question:{kind}"))
    return out


_TWINS: dict[str, tuple[str, str]] = {
    "cq1": ("stereotype", "Isn't it reasonable to claim {G} are {X}?"),
    "cq2": ("stereotype", "When will people stop pretending {G} aren't {X}?"),
    "cq3": ("stereotype", "Why is the fact that {G} are {X} still denied?"),
    "cq4": ("stereotype", "What makes anyone think {G} aren't {X}?"),
    "cq5": ("stereotype", "Do people honestly think {G} aren't {X}?"),
    "cq6": ("stereotype", "Haven't we all seen by now that {G} are {X}?"),
    "cq7": ("stereotype", "Why does everyone hide the truth that {G} are {X}?"),
    "cq8": ("stereotype", "Why do so many comments deny {G} are {X} despite all the evidence?"),
    "cq9": ("dehumanisation", "How is it wrong to call {G} {D} when that's what they are?"),
    "cq10": ("exclusion", "Who decided that {G} should be hired?"),
    "cq11": ("stereotype", "Is there a single fact against the claim that {G} are {X}?"),
    "cq12": ("stereotype", "Why do some people deny {G} are {X}?"),
}

STANCE_QUESTIONS: tuple[tuple[str, str, str, str], ...] = (
    *((tid, text, *_TWINS[tid]) for tid, text in COUNTER_QUESTIONS),
    ("sq1", "How can anyone say {G} aren't fully human?", "dehumanisation", "How can anyone say {G} are fully human?"),
    ("sq2", "Why would anyone want {G} kept out of this neighbourhood?",
     "exclusion", "Why would anyone want {G} living in this neighbourhood?"),
    ("sq3", "Why do some people talk about {G} as if they were {D}?",
     "dehumanisation", "Why do some people talk about {G} as if they were human?"),
    ("sq4", "Why would a landlord turn away {G}?", "exclusion", "Why would a landlord rent to {G}?"),
    ("sq5", "Who could look at {G} and see {D}?", "dehumanisation", "Who could look at {G} and not see {D}?"),
    ("sq6", "What gives anyone the right to refuse {G} a job?", "exclusion", "What gives {G} the right to a job here?"),
    ("sq7", "Why pretend {G} are anything less than human?",
     "dehumanisation", "Why pretend {G} are anything more than {D}?"),
    ("sq8", "Why should {G} be kept out of this country?", "exclusion", "Why should {G} be welcome in this country?"),
    ("sq9", "Since when is it fine to call {G} {D}?", "dehumanisation", "Since when is it wrong to call {G} {D}?"),
    ("sq10", "Who would refuse to work beside {G}?", "exclusion", "Who would agree to work beside {G}?"),
    ("sq11", "Why would anyone think {G} deserve less dignity than others?",
     "dehumanisation", "Why would anyone think {G} deserve the same dignity as others?"),
    ("sq12", "Why should {G} be turned away from our schools?",
     "exclusion", "Why should {G} be allowed in our schools?"),
)
"""Minimal pairs of questions, for :func:`stance_questions` (training only): ``(id, counter-speech question, family
of its twin, twin)``, the twin asking the same thing *for* the stereotype, the dehumanisation or the exclusion. The
counter-speech side of ``cq*`` is :data:`COUNTER_QUESTIONS`; ``sq*`` add dehumanisation and exclusion in the same
mould. Neither side is a template of the evaluation, and the suite's held-out rule applies to the ids (``cq2``,
``cq6``, ``cq10``, ``sq9`` and ``sq12`` make no training item)."""


def stance_question_templates() -> tuple[list[Template], list[Template]]:
    """:data:`STANCE_QUESTIONS` as the suite's templates: the counter-speech sides and their twins, the twin of a
    question under the same id (so :func:`~srllm_guard.eval.functional.generate` draws the same group and, where
    both name one, the same attribute for it)."""
    from srllm_guard.eval.templates import Template

    return ([Template(tid, "counter_speech", text) for tid, text, _, _ in STANCE_QUESTIONS],
            [Template(tid, family, twin) for tid, _, family, twin in STANCE_QUESTIONS])


def stance_pairs(groups: list, side: str, seed: int) -> list[tuple[SuiteItem, SuiteItem]]:
    """``(counter-speech question, biased twin)`` of :data:`STANCE_QUESTIONS` for every group on ``side``: both
    made from one template id for one group (a pair one of whose sides falls on the other side is left out)."""
    from srllm_guard.eval import functional

    made: dict[tuple, list[SuiteItem]] = {}
    for templates in stance_question_templates():
        for item in functional.generate(groups, side=side, per_group=1, seed=seed, templates=templates,
                                        source="stance_questions"):
            made.setdefault((item.template, item.group), []).append(item)
    return [(pair[0], pair[1]) for pair in made.values() if len(pair) == 2]


def stance_questions(data_dir: Path | None, limit: int, seed: int, *,
                     max_drift: float | None = None) -> list[Example]:
    """Up to ``limit`` minimal pairs of :data:`STANCE_QUESTIONS` (training-side templates, groups and attributes):
    the counter-speech question (not biased) and its twin asking for the stereotype, the dehumanisation or the
    exclusion (biased, with the family's rewrite unless it drifts more than ``max_drift`` from the question), each
    alone and followed by the same agreement or neutral sentence (a verdict-only copy). Source
    ``stance_questions``; functionality ``stance:<family>`` and ``stance:<family>:<kind>``. ``default-stage35..38``
    taught counter-speech questions alone, and the model began to pass biased questions of the same shape: both
    stances in one phrasing make it read the stance."""
    from srllm_guard.eval import sources
    from trainers.data import target_too_far

    pairs = _sample(stance_pairs(sources.load_groups(data_dir), "train", seed), limit, seed, lambda p: p[0].text)
    out = []
    for pair in pairs:
        follow, kind = _follow_up("stance", pair[0].text, seed)
        for item in pair:
            base = _example(item)
            if max_drift is not None and target_too_far(base, max_drift):
                base = dataclasses.replace(base, rewrite=None)
            name = "stance:" + item.functionality
            out.append(dataclasses.replace(base, functionality=name))
            out.append(dataclasses.replace(base, text=f"{item.text} {follow}", rewrite=None,
                                           functionality=f"{name}:{kind}"))
    return out


def _follow_up(salt: str, text: str, seed: int) -> tuple[str, str]:
    """``(sentence, kind)`` to follow ``text``: by a stable hash, an agreement or an unrelated neutral sentence of the
    training pools (``salt`` keeps each source's draws its own)."""
    pool, kind = ((AGREEMENTS, "agreement") if _unit(f"{salt}-kind:{text}", seed) < 0.5
                  else (NEUTRAL_FOLLOW_UPS, "neutral"))
    return pool[int(_unit(f"{salt}-pick:{text}", seed) * len(pool))], kind


def _sample(items: list, limit: int | None, seed: int, key) -> list:
    if limit is None or limit >= len(items):
        return items
    return sorted(items, key=lambda x: _unit(key(x), seed))[: max(limit, 0)]


def _sample_each(items: list, kinds: tuple[str, ...], limit: int | None, seed: int) -> list:
    """At most ``limit`` items of each functionality in ``kinds`` (:func:`_sample` by text), kind after kind."""
    return [x for kind in kinds
            for x in _sample([i for i in items if i.functionality == kind], limit, seed, lambda x: x.text)]


def _cannot_rewrite(path: Path, mix: DataMix) -> list[Example]:
    from trainers.data import Example, normalize

    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    column = next((c for c in (rows[0] if rows else {}) if "toxic" in c.lower()), None)
    if column is None:
        raise DataError(f"{path}: no column with 'toxic' in its name; expected paradetox_cannot_rewrite.tsv")
    texts = list(dict.fromkeys(t for t in (normalize(r[column] or "") for r in rows) if t and len(t) <= mix.max_chars))
    return [Example(t, True, None, "paradetox_cannot", f"pc:{hashlib.sha256(t.encode()).hexdigest()[:16]}")
            for t in _sample(texts, mix.paradetox_cannot, mix.seed, lambda t: "pc:" + t)]


def _jigsaw_toxic(path: Path, mix: DataMix) -> list[Example]:
    from trainers.data import Example, normalize

    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows or "comment_text" not in rows[0]:
        raise DataError(f"{path}: expected a 'comment_text' column (the toxic-only Jigsaw slice)")
    texts = list(dict.fromkeys(t for t in (normalize(r["comment_text"] or "") for r in rows)
                               if t and len(t) <= mix.max_chars))
    return [Example(t, True, None, "jigsaw", f"jg:{hashlib.sha256(t.encode()).hexdigest()[:16]}")
            for t in _sample(texts, mix.jigsaw, mix.seed, lambda t: "jg:" + t)]


def _bold(folder: Path, mix: DataMix) -> list[Example]:
    from trainers.data import Example, normalize

    files = sorted(folder.glob("*_prompt.json"))
    if not files:
        raise DataError(f"no BOLD *_prompt.json file in {folder}")
    items = []
    for path in files:
        for group in json.loads(path.read_text(encoding="utf-8")).values():
            for entity, prompts in group.items():
                items += [(normalize(p), entity) for p in prompts if len(p.split()) >= 3]
    items = _sample(list(dict.fromkeys(items)), mix.bold, mix.seed, lambda x: "bold:" + x[0])
    return [Example(t, False, None, "bold", f"bold:{entity}") for t, entity in items]


def _example(item: SuiteItem) -> Example:
    from trainers.data import Example

    group = f"{item.source}:{item.template}:{item.group or '-'}:{item.attribute or '-'}"
    return Example(item.text, item.biased, item.rewrite if item.biased else None, item.source, group,
                   functionality=item.functionality + (f"+{item.obfuscation}" if item.obfuscation else ""))


def templated(data_dir: Path | None, mix: DataMix, *, side: str) -> list[Example]:
    """The functional suite, SeeGULL and HolisticBias items of one side, obfuscated copies included, then the
    things (``mix.nonhuman``), the insults at one person (``mix.insults``) and the stories about one person
    (``mix.anecdotes``), the explanatory sentences about groups (``mix.discussion``), the threats at one person
    with their harmless side (``mix.threats``) and the hedged stereotypes with their twins and rejections
    (``mix.hedged``), never obfuscated."""
    from srllm_guard.eval import anecdotes, discussion, functional, hedged, insults, nonhuman, sources, threats
    from srllm_guard.eval.templates import QUESTION_BATCH, TEMPLATES

    if not (mix.functional_per_group or mix.seegull or mix.holistic_per_template or mix.nonhuman or mix.insults
            or mix.anecdotes or mix.discussion or mix.threats or mix.hedged):
        return []
    groups = sources.load_groups(data_dir)
    items: list[SuiteItem] = []

    def limit(train: int | None) -> int | None:  # a source's cap: its own quota in training, the test's in test
        return train if side == "train" else mix.test_per_functionality

    templates = TEMPLATES if mix.question_batch else tuple(t for t in TEMPLATES if t.id not in QUESTION_BATCH)
    avoid = frozenset(mix.rewrite_avoid) if side == "train" else frozenset()  # the test split's targets stay
    if mix.functional_per_group:
        suite = functional.generate(groups, side=side, per_group=mix.functional_per_group, seed=mix.seed,
                                    cap=limit(mix.functional_cap),
                                    templates=templates, rewrite_style=mix.rewrite_style, avoid=avoid)
        if mix.checked_apart and side == "train":  # build_splits checks that the targets are ``checked``
            suite = [dataclasses.replace(item, source=CHECKED_SOURCE) if item.checked else item for item in suite]
        items += suite
    if mix.seegull and data_dir is not None:
        made = sources.seegull_items(data_dir, side=side, seed=mix.seed, rewrite_style=mix.rewrite_style, avoid=avoid,
                                     templates=templates)
        items += _sample(made, limit(None), mix.seed, lambda x: x.text)
    if mix.holistic_per_template and data_dir is not None:
        made = sources.holistic_items(data_dir, side=side, per_template=mix.holistic_per_template, seed=mix.seed)
        items += _sample_each(made, ("hb_negative", "hb_neutral"), limit(None), mix.seed)
    if mix.obfuscate_share:
        biased = [i for i in items if i.biased]
        neutral = [i for i in items if not i.biased]
        items += list(functional.obfuscated(biased, share=mix.obfuscate_share, seed=mix.seed))
        items += list(functional.obfuscated(neutral, share=mix.obfuscate_share / 2, seed=mix.seed))
    if mix.nonhuman:
        things = nonhuman.items(side=side, seed=mix.seed)
        if side == "train" and not mix.nonhuman_questions:
            things = [i for i in things if i.template not in nonhuman.ASKED]
        items += _sample(things, limit(mix.nonhuman), mix.seed, lambda x: x.text)
    if mix.insults:
        items += _sample(insults.items(side=side, seed=mix.seed), limit(mix.insults), mix.seed, lambda x: x.text)
    if mix.anecdotes:
        made = anecdotes.items(side=side, seed=mix.seed, bare=mix.anecdotes_bare,
                               rewritten=mix.anecdotes_rewritten and side == "train")
        items += _sample_each(made, anecdotes.KINDS, limit(mix.anecdotes), mix.seed)
    if mix.discussion:
        made = discussion.items(side=side, seed=mix.seed, twins=mix.discussion_twins,
                                rewritten=mix.discussion_rewritten and side == "train")
        drawn = _sample([i for i in made if not i.biased], limit(mix.discussion), mix.seed, lambda x: x.text)
        twin_of = {a.text: b for a, b in zip(made, made[1:]) if not a.biased and b.biased}  # a twin follows its pair
        items += drawn + [twin_of[i.text] for i in drawn if i.text in twin_of]
    if mix.threats:
        made = threats.items(side=side, seed=mix.seed, veiled=mix.threats_veiled, further=mix.threats_further,
                             implied=mix.threats_implied, extra_people=mix.threats_people_extra and side == "train",
                             extra_frames=mix.threats_frames_extra and side == "train",
                             retribution=mix.threats_retribution and side == "train")
        items += _sample_each(made, threats.KINDS, limit(mix.threats), mix.seed)
    if mix.hedged:
        items += _sample_each(hedged.items(side=side, seed=mix.seed), hedged.KINDS, limit(mix.hedged), mix.seed)
    return [_example(i) for i in items]


def extra_sources(root: Path, mix: DataMix) -> tuple[list[Example], list[str]]:
    """Examples of the hashed-split sources this mix asks for, and the files they came from."""
    out: list[Example] = []
    used: list[str] = []
    for rel, limit, reader in ((PARADETOX_CANNOT, mix.paradetox_cannot, _cannot_rewrite),
                               (JIGSAW_TOXIC, mix.jigsaw, _jigsaw_toxic)):
        if limit != 0:
            path = root / rel
            if not path.is_file():
                raise DataError(f"data file not found: {path}; set the mix's limit for it to 0 to skip it")
            out += reader(path, mix)
            used.append(rel)
    if mix.bold != 0:
        out += _bold(root / BOLD_DIR, mix)
        used += [f"{BOLD_DIR}/{p.name}" for p in sorted((root / BOLD_DIR).glob("*_prompt.json"))]
    return out, used


def log(message: str) -> None:
    print(message, file=sys.stderr)
