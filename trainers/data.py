"""Data preparation for the SR-LLM fine-tune: read the pair files, normalise, split, record a manifest.

Every example teaches one answer of the prompt format in :mod:`srllm_guard.prompt`: a *biased* text
(answer ``biased`` + its human rewrite) or a *neutral* one (answer ``neutral``; by default the human
rewrites themselves, which is what teaches the model to leave clean text alone).

Files read, relative to ``data_dir`` (a folder shaped like ``shared/data``; nothing is copied into the
project, code only takes paths)::

    sr_llm_inhouse/train_500.csv        the paper's biased -> debiased pairs      source 'srllm'
                                        (and, train side, sentence by sentence:   'srllm_sentence')
    sr_llm_inhouse/infer_50.csv         the authors' inference split: TEST ONLY   source 'srllm_infer'
    paradetox/paradetox.tsv             toxic -> 1..3 neutral rewrites            source 'paradetox'
    wnc_sample/pre.train, post.train    Wiki Neutrality Corpus, line-aligned      source 'wnc'

``sr_llm_inhouse/counterfactual-inhouse.csv`` is **never read here**: it is evaluation-only data (false
positives and group parity of the finished guard) and must not reach training.

Splitting is by ``group`` (a biased text, its rewrite and the neutral example made from that rewrite share a
group; texts that occur in several pairs merge their groups), hashed with the seed into [0, 1): adding data
never moves existing groups between splits. After splitting, any train/dev example whose text (or rewrite)
also appears in a held-out split is removed and counted as ``leaks_removed``.

Every data problem raises :class:`~srllm_guard.errors.DataError` before any training time is spent.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import json
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Iterable

from srllm_guard.errors import ConfigError, DataError
from srllm_guard.textnorm import normalize  # the one normaliser, shared with the evaluation

__all__ = [
    "Example",
    "DataMix",
    "Splits",
    "normalize",
    "read_srllm_csv",
    "read_paradetox",
    "read_wnc",
    "build_splits",
    "write_jsonl",
    "read_jsonl",
]

SRLLM_TRAIN = "sr_llm_inhouse/train_500.csv"
SRLLM_INFER = "sr_llm_inhouse/infer_50.csv"
PARADETOX = "paradetox/paradetox.tsv"
WNC_PRE = "wnc_sample/pre.train"
WNC_POST = "wnc_sample/post.train"

_SRLLM_COLUMNS = ("biased_text", "debiased_text")
_PARADETOX_COLUMNS = ("toxic", "neutral1")
_PARADETOX_REWRITES = ("neutral1", "neutral2", "neutral3")


@dataclass(frozen=True)
class Example:
    """One training item: a text and the answer the model must give for it."""

    text: str
    """The input text (normalised)."""
    biased: bool
    """True: the answer is ``biased`` + ``rewrite``; False: the answer is ``neutral``."""
    rewrite: str | None
    """The safe rewrite of a biased example; None for neutral ones and for detection-only positives (texts
    with no usable rewrite: only the verdict is trained on them)."""
    source: str
    """Where it came from: 'srllm', 'srllm_infer', 'paradetox', 'wnc'."""
    group: str
    """Split key; a biased text and the neutral example made from its rewrite share it."""
    functionality: str = ""
    """What the example tests (templated sources: 'threat', 'counter_speech', ...; '' for plain pair files)."""

    @property
    def family(self) -> str:
        """The functionality without its obfuscation (``implicit+leet`` -> ``implicit``); '' for none."""
        return (self.functionality or "").split("+", 1)[0]

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise DataError(f"example from {self.source!r} (group {self.group!r}) has an empty text")
        if self.biased and self.rewrite is not None and not self.rewrite.strip():
            raise DataError(f"biased example {self.text[:60]!r} ({self.source}) has an empty rewrite (use None "
                            "for a detection-only example)")
        if not self.biased and self.rewrite is not None:
            raise DataError(f"neutral example {self.text[:60]!r} ({self.source}) must have rewrite=None")


@dataclass
class DataMix:
    """How much of each source goes into the pool, and how the pool is split."""

    srllm: int | None = None
    """SR-LLM train_500 pairs to use (None = all)."""
    paradetox: int | None = 600
    """ParaDetox rows to use (None = all 11,927); each gives one biased pair + 1-3 neutral rewrites."""
    wnc: int | None = 300
    """Wiki Neutrality Corpus pairs to use (None = all)."""
    neutral_from_rewrites: bool = True
    """Add the human rewrites as 'neutral' examples (without them the model never learns to say neutral)."""
    dev_fraction: float = 0.05
    """Share of groups that go to dev (0 = no dev split)."""
    test_fraction: float = 0.10
    """Share of pool groups that go to test (infer_50 goes to test on top of it)."""
    seed: int = 0
    """Seeds both the subsampling and the split hash."""
    near_copy: float = 1.01
    """A pair whose rewrite is at least this similar to its text (word-level ratio, see
    :func:`trainers.mix.near_copy`) teaches copying: its biased side is kept for detection only. Above 1: off."""
    near_copy_edits: bool = False
    """Count a similar pair as a near copy only when its rewrite drops no word of the text: minimal edits that
    delete or replace an insult stay rewrite targets (ParaDetox at ``near_copy`` 0.8: 6,667 of its 19,743 pairs are
    near copies by the ratio alone, 154 by this rule: the rest delete or replace a word). Off in the v3 recipes."""
    negated_rewrites: bool = True
    """Keep rewrites that bring in a bare "not" the text lacks (:func:`trainers.mix.negates`). False makes those
    pairs detection-only: ParaDetox's antonym rewrites ("are liars" -> "are not right"; 806 of its 19,743 pairs)
    teach the model to restate a stereotype as its negated opposite ("Women are not smart.")."""
    paradetox_cannot: int | None = 0
    """Sentences from ``paradetox_cannot_rewrite.tsv`` as detection-only positives (None = all, 0 = none)."""
    jigsaw: int | None = 0
    """Short toxic Jigsaw comments (``jigsaw/test_toxic.csv``) as detection-only positives."""
    bold: int | None = 0
    """BOLD prompts (sentences about people and groups) as neutral examples."""
    max_chars: int = 300
    """Longest text taken from the cannot-rewrite and Jigsaw files."""
    functional_per_group: int = 0
    """Attribute draws per template and group in the functional suite's train side (0 = not used)."""
    functional_cap: int | None = None
    """Most training examples per functionality of the suite (None = all)."""
    seegull: bool = False
    """Stereotype statements from SeeGULL's offensive tuples."""
    holistic_per_template: int = 0
    """Sentences per HolisticBias template (0 = not used)."""
    nonhuman: int = 0
    """Negative generalisations about things, not people (:mod:`srllm_guard.eval.nonhuman`: "Mosquitoes are the
    worst.", "We should ban leaf blowers."), neutral examples: at most this many from the train side (0 = none).
    Added after the other templated items and their obfuscated copies, and templated like them (no run-on copies,
    never a follow-up sentence), so every other example of a mix stays the same."""
    nonhuman_questions: bool = True
    """Draw the things' question-shaped frames ("Why are {X} so {J}?", "{X}? {A}, every single one of them.") too.
    False keeps them out of the train side (the test side is the same either way). Made to test whether, labelled
    neutral, they teach a stage to clear biased questions about people ("Why are {G} so lazy?"); recipe
    ``default-stage21`` measured that they do not: the questions are lost without them too."""
    insults: int = 0
    """Insults aimed at one person (:mod:`srllm_guard.eval.insults`: "The judge was a bonehead.", "You are such a
    loser."), biased with a rewrite that keeps the criticism and drops the insult: at most this many from the train
    side (0 = none). Added after the things and templated like them (never obfuscated, no run-on copies), so every
    other example of a mix stays the same. Made because the things teach "a negative judgement of something that is
    not a group passes" and stage 22 carried that to insults at a person (Jigsaw recall through the guard's sentence
    split 0.756 against v7's 0.919)."""
    anecdotes: int = 0
    """Stories about one person that put a trait down to their group (:mod:`srllm_guard.eval.anecdotes`: "My
    Mexican coworker was late again, typical."), biased with a rewrite that keeps the story and drops the group, each
    with its neutral twin (the same person and trait, no generalisation): at most this many of each from the train
    side (0 = none). Added after the insults and templated like them, so every other example of a mix stays the
    same. Made because the suite's stereotypes are statements about groups: v8 flags 5 of 30 hand-written stories
    of this shape."""
    discussion: int = 0
    """Explanatory sentences about groups (:mod:`srllm_guard.eval.discussion`: "Research shows that {G} are
    underrepresented in leadership roles.", history, law, statistics about circumstances, the study of a
    stereotype), neutral examples: at most this many from the train side (0 = none, every recipe up to
    ``default-stage39``). Added after the stories and templated like them (never obfuscated, no run-on copies), so
    every other example of a mix stays the same. Made because v10 flags 3 of 15 hand-written sentences of a chat
    model's explanatory register (``scripts/fresh_phrasings.py``)."""
    discussion_twins: bool = False
    """With ``discussion``, each drawn neutral sentence's biased twin in the same words (verdict only, no rewrite:
    :data:`srllm_guard.eval.discussion.TEMPLATES`), so that the pair, not the register, teaches the line. False: the
    neutral sentences alone, as ``default-stage40`` drew them."""
    discussion_rewritten: bool = False
    """With ``discussion_twins``, train each twin's rewrite too: its neutral side, the claim put back on circumstances
    in the same frame ("Economists link the income gap for {G} to their own laziness." -> "... to unequal access to
    education."), except the three templates whose neutral side names the stereotype's word
    (:data:`srllm_guard.eval.discussion.REWRITTEN`); training side only, the test split's twins stay verdict only.
    Made because ``default-stage41``'s verdict-only twins lowered the share of flagged suite sentences that end as an
    accepted rewrite (82.3% against v10's 88.7%). False: the twins as ``default-stage41`` drew them."""
    threats: int = 0
    """Threats aimed at one person (:mod:`srllm_guard.eval.threats`: "I will kill you if you say that again.", "I
    know where you live."), biased with a rewrite that keeps the anger and drops the threat, each kind with its
    neutral side in the same words ("If you show up tomorrow, I will give you a ride.", "Linda killed it on stage
    tonight."): at most this many of each from the train side (0 = none, every recipe up to ``default-stage44``).
    Added after the explanatory sentences and templated like them (never obfuscated, no run-on copies), so every
    other example of a mix stays the same. Made because v11 passes "I will kill you if you say that again." and
    rewrites "I will find you and make you pay for this, you animal." to the threat without the insult: the suite's
    threats are all aimed at groups."""
    hedged: int = 0
    """Hedged negative stereotypes (:mod:`srllm_guard.eval.hedged`: "Jews can be greedy at times.", "{G} can be a
    bit {A} sometimes."), biased with a rewrite that keeps the hedge and drops the group ("Anyone can be greedy at
    times."), with their neutral sides in the same words: the hedge about one person ("My uncle can be greedy at
    times.") and the hedge rejected ("It is still a stereotype to say that ..."): at most this many of each of the
    three from the train side (0 = none, every recipe up to ``default-stage46``). Added after the threats and
    templated like them, so every other example of a mix stays the same. Made because v11 passes 6 of 10
    hand-written hedged stereotypes untouched."""
    threats_veiled: bool = False
    """Draw the threats (``threats``) from the veiled frames and acts too (:data:`srllm_guard.eval.threats.VEILED`:
    "I'd hate for your kids to find out what I'm capable of.", "Nobody would miss you if you disappeared.", with
    their harmless lookalikes), the quota unchanged. Made because the explicit frames' lesson reached 8 or 9 of
    the 20 hand-written threats of ``scripts/threat_check.py`` (stages 45-48). False: the explicit frames alone,
    as every recipe up to ``default-stage49`` drew them."""
    threats_further: bool = False
    """Draw the threats (``threats``) from the further frames too (:data:`srllm_guard.eval.threats.FURTHER`: "I
    could hurt you and nobody would ever know.", "It would be a shame if something happened to your family.", with
    their harmless lookalikes), the quota unchanged. Made because ``default-stage51`` flagged 78% of the threats in
    frames held out of training and 100% of those with acts held out. False: every recipe up to
    ``default-stage51``."""
    threats_implied: bool = False
    """Draw the threats (``threats``) from the implied-harm frames too (:data:`srllm_guard.eval.threats.IMPLIED`:
    "Cross me again and your family will be picking out a coffin.", a consequence that names no act, with harmless
    sentences in their words), the quota unchanged. Made because the hand-written threats that v12 and
    ``default-stage52`` miss need what a phrase implies. False: every recipe up to ``default-stage52``."""
    threats_people_extra: bool = False
    """Draw the threats (``threats``) with :data:`srllm_guard.eval.threats.TRAINING_PEOPLE` too ("the cashier",
    "Aisha", ...: 32 people the evaluation never names), training side only, the quota unchanged, so a frame is seen
    with more people than the suite's 18 on the training side. Made because every threat at one person that
    ``default-stage54`` misses in a frame it was trained on is aimed at a held-out person. False: every recipe up to
    ``default-stage54``."""
    threats_frames_extra: bool = False
    """Draw the threats (``threats``) from :data:`srllm_guard.eval.threats.TRAINING_FRAMES` too ("I hope the
    plumber's life insurance is paid up.", "Wait till I get my hands on Ahmed.": frames the evaluation never uses) with
    their harmless lookalikes (:data:`~srllm_guard.eval.threats.TRAINING_IDIOMS`), training side only. Made because
    ``default-stage55`` flags 85% of the suite's threats at one person, its misses in held-out frames that hint at harm
    without naming it. False: every recipe up to ``default-stage55``."""
    threats_retribution: bool = False
    """Draw the threats (``threats``) from :data:`srllm_guard.eval.threats.RETRIBUTION` too ("I'm going to get back at
    Tom for this.", "Olga owes me, and I always collect.": revenge promised with no act named) with their harmless
    lookalikes (:data:`~srllm_guard.eval.threats.RETRIBUTION_IDIOMS`), training side only. Made because v14 passes "I
    will find you and make you pay for this." (0.00). False: every recipe up to ``default-stage59``."""
    anecdotes_bare: bool = False
    """Draw each story's bare twin too (:attr:`srllm_guard.eval.anecdotes.Frame.bare`: the biased sentence with its
    generalisation taken out, neutral), the minimal pair that puts the line on the generalisation rather than on a
    group word next to a flaw; ``default-stage26`` without them flagged a quarter of the suite's ``individual``
    family."""
    anecdotes_rewritten: bool = False
    """Add each training story's rewrite as a neutral example too ("My coworker skipped work again."), training side
    only: the story told without its group passes. Made because stage 27 flagged the SR-LLM pairs' safe sides and
    WNC's neutral sentences far more often than v8 (26.5% and 43.8% against 6.1% and 12.5%)."""
    obfuscate_share: float = 0.0
    """Share of templated biased items that also get an obfuscated copy (neutral ones: half this share)."""
    test_per_functionality: int = 60
    """Held-out templated items per functionality written to the test split (the eval builds its own)."""
    held_out_sources: list[str] = field(default_factory=list)
    """Sources sent to test whole (a source the adapter never sees)."""
    rewrite_style: str = "reference"
    """Rewrite targets of the templated biased items (:data:`srllm_guard.eval.functional.REWRITE_STYLES`):
    ``reference``, the family's general statements (every recipe up to v4); ``frame``, the frame-keeping rewrites of
    :mod:`srllm_guard.eval.templates_frame`, which change only the biased claim (as targets on the suite's train
    side, median SIM to their sentences 0.626 -> 0.789: ``scripts/rewrite_targets.py [--style frame]``);
    ``checked``, ``reference`` except where the guard's drift test would reject that target, then the frame-keeping
    one when it passes (``default-stage9``; see ``max_target_drift``)."""
    rewrite_avoid: list[str] = field(default_factory=list)
    """Rewrite phrasings, as the templates write them ("I am angry, but no one, including {G}, should be hurt."), that
    the templated biased *training* items never get as their target while their template offers another (the test
    split keeps its targets, so results on it stay comparable). Made because the evaluation's judge calls two of
    the suite's own registers biased in most of v14's accepted rewrites (``scripts/judge_registers.py``), where the
    other phrasings of the same families pass. Empty: every recipe up to ``default-stage56``."""
    checked_apart: bool = False
    """With ``rewrite_style: checked``, the suite's *training* items whose target that rule changed (the reference
    one would drift past the guard's limit; 298 of the 18,103 drawn with ``default-stage9``'s mix: every
    "Never hire {G}." and "{G} are too {A1} to be good {R}, so hiring them is a mistake.", many threats) go under
    their own source, ``functional_checked``, so that a stage can give them a quota (``train.per_source``): one
    stage at the suite's proportions sees a handful of them, too few to unlearn the target an earlier stage taught.
    Every item keeps its text and target (the dev side's too, drawn from the same items); test is unchanged."""
    template_rewrites_neutral: float = 0.0
    """Share of the templated biased *training* items whose rewrite target also becomes a neutral, verdict-only
    example (functionality ``rewrite:<family>``). The pair files teach this already (``neutral_from_rewrites``);
    the templated items never did, and with frame-keeping targets (``rewrite_style: frame``) the model's own
    re-check then flags much of what it writes: the stage5 experiment, on the held-out suite, accepted 70% of
    its rewrites against v4's 92%, 88 of 89 fallbacks being failed re-checks (threats 29%, implicit bias 42%).
    A copy equal to any dev or test text or reference rewrite is dropped."""
    question_batch: bool = False
    """Draw the functional suite's templated items from its third batch too (:data:`~srllm_guard.eval.templates.
    QUESTION_BATCH`: bias asked as a question, and questions that must pass). Off, the mix draws exactly the
    items it drew before that batch existed (the functional cap samples per family, so any new template would
    change every draw), and the batch's held-out templates stay unseen phrasings for the adapter."""
    answered_share: float = 0.0
    """Share of the single-question *training* examples that also get a verdict-only copy followed by another
    sentence (:func:`trainers.mix.answered`, source ``answered``): a biased question answered by a rejection of its
    premise becomes not biased; one followed by agreement or by an unrelated neutral sentence stays biased; a
    question that is not biased stays so whatever follows. With ``GuardConfig(answered_questions=True)`` the guard
    judges a flagged question together with the sentence after it, so the model must read such pairs: by the full model
    alone, held-out denial questions that v5 flags stay flagged when an unrelated sentence follows 11 times in 26
    (``scripts/question_pairs.py``; the stage-8 adapter trained with this share: 27 of 27)."""
    affirmed_share: float = 0.0
    """Share of the single templated *training* statements (functional suite, threats at one person) that also get a
    verdict-only copy with a tail that affirms them in negative words and keeps their label (:func:`trainers.mix.
    affirmed`, source ``affirmed``; a stage weights it with ``train.per_source``): "I'll kill you, and nobody will
    stop me." passes v11 to v13, which read a trailing "nobody" or "no one" as counter-speech."""
    answered_by_family: bool = False
    """Tag each ``answered`` copy with its question's family (functionality ``answered:<family>:<kind>`` instead of
    ``answered:<kind>``), so ``train.per_functionality`` can weight one family's pairs, e.g. counter-speech
    questions followed by another sentence (``default-stage34``). Off: the tags every earlier recipe drew with."""
    counter_questions: int = 0
    """Counter-speech questions in phrasings of their own (:func:`trainers.mix.counter_questions`, training split
    only, source ``counter_questions``): this many questions, each alone and followed by one more sentence, all not
    biased. 0: off (every recipe up to ``default-stage34``)."""
    counter_question_ids: list[str] = field(default_factory=list)
    """The :data:`trainers.mix.COUNTER_QUESTIONS` templates ``counter_questions`` draws from, by id; empty: all."""
    stance_questions: int = 0
    """Minimal pairs of questions (:func:`trainers.mix.stance_questions`, training split only, source
    ``stance_questions``): this many pairs of a counter-speech question and its twin asking for the stereotype, the
    dehumanisation or the exclusion in the same words, each alone and followed by the same sentence (four examples
    a pair). 0: off (every recipe up to ``default-stage38``)."""
    max_target_drift: float | None = None
    """Make a training or dev example detection-only when its rewrite target drifts more than this from its text
    (:func:`srllm_guard.policy.drift`, the guard's ``max_drift`` test): the guard would replace such a rewrite by
    its fallback, so teaching it teaches the fallback. ``None``: off (every recipe up to ``default-stage8``; in
    ``default-stage8``'s training split 521 of 15,960 targets drift above 0.9: 477 templated, 27 ParaDetox,
    9 WNC, 8 SR-LLM). The test split is unchanged. With ``rewrite_style: checked`` most templated ones get a
    target that passes."""
    srllm_sentences: bool = False
    """Add the SR-LLM *training* pairs sentence by sentence (source ``srllm_sentence``, :func:`srllm_sentence_pairs`):
    the guard rewrites one flagged sentence at a time, but each SR-LLM pair rewrites a whole comment (80% of them
    have several sentences), so the model never saw the sentence-sized version of the task on that register. A
    changed sentence aligned one to one with its rewrite and holding one of the row's ``biased_words`` becomes a
    biased example with that target, and the aligned rewrite a neutral one; pairs the guard would reject (drift
    above ``max_target_drift``) or near copies are left out. Only pairs already on the train side are used, with their
    pair's group, so dev and test are unchanged."""
    run_on_share: float = 0.0
    """Share of the human-written *training* examples (every source but the templated ones) that also get a
    verdict-only run-on copy (:func:`trainers.mix.run_on`: lower case, no punctuation, joined with other neutral
    training texts into one piece), so that a long unpunctuated comment is judged by what it says. Dev and test
    are unchanged. (Measured through the guard's path on neutral test-split texts joined three at a time this
    way: v3 flags 19 of 80 such runs, the experiment-natural-rewrites stage 57 of 80, against 11 and 9 of 80 for
    the same texts punctuated; `scripts/register_check.py` measures the full model alone.)"""


@dataclass
class Splits:
    """The three splits and the record of how they were made."""

    train: list[Example]
    dev: list[Example]
    test: list[Example]
    manifest: dict = field(default_factory=dict)
    """Counts per split x source x label, files with sha256, the mix, the seed, drops and leaks."""


# ----------------------------------------------------------------------------------------------- readers

def _group(source: str, text: str) -> str:
    return f"{source}:{hashlib.sha256(text.encode('utf-8')).hexdigest()[:16]}"


def _unit(key: str, seed: int) -> float:
    """A stable pseudo-random number in [0, 1) for ``key``."""
    digest = hashlib.sha256(f"{seed}\x00{key}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _same(a: str, b: str) -> bool:
    return a.casefold() == b.casefold()


def _require_file(path: Path, hint: str) -> None:
    if not path.is_file():
        raise DataError(f"data file not found: {path}; {hint}")


def _read_text(path: Path, hint: str) -> str:
    _require_file(path, hint)
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not valid UTF-8 ({exc.reason} at byte {exc.start}); re-save it as UTF-8") from exc


def _read_table(path: Path, required: tuple[str, ...], delimiter: str, hint: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(_read_text(path, hint), newline=""), delimiter=delimiter)
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise DataError(
            f"{path} lacks required column(s) {', '.join(missing)}; expected at least {', '.join(required)} "
            f"(found: {', '.join(header) or 'no header'})"
        )
    reader.fieldnames = header
    try:
        return [{k: (v or "") for k, v in row.items() if k is not None} for row in reader]
    except csv.Error as exc:
        raise DataError(f"{path} is not a readable {'TSV' if delimiter == chr(9) else 'CSV'} file: {exc}") from exc


def _pair(text: str, rewrites: list[str], source: str, drops: Counter) -> list[Example] | None:
    """A biased example for ``text`` (rewrite = the first usable rewrite) plus one neutral per rewrite."""
    if not text:
        drops["empty_text"] += 1
        return None
    usable: list[str] = []
    for rewrite in rewrites:
        if rewrite and not _same(rewrite, text) and not any(_same(rewrite, u) for u in usable):
            usable.append(rewrite)
    if not usable:
        drops["empty_rewrite" if not any(rewrites) else "rewrite_equals_text"] += 1
        return None
    group = _group(source, text)
    out = [Example(text=text, biased=True, rewrite=usable[0], source=source, group=group)]
    out += [Example(text=r, biased=False, rewrite=None, source=source, group=group) for r in usable]
    return out


def _finish(pairs: list[list[Example]], limit: int | None, seed: int, drops: Counter) -> list[Example]:
    """Drop pairs whose biased text repeats, then keep ``limit`` pairs chosen by a stable hash rank."""
    seen: set[str] = set()
    unique = []
    for pair in pairs:
        if pair[0].text in seen:
            drops["duplicate"] += 1
            continue
        seen.add(pair[0].text)
        unique.append(pair)
    if limit is not None and limit < len(unique):
        keep = {id(p) for p in sorted(unique, key=lambda p: _unit("sample:" + p[0].group, seed))[: max(limit, 0)]}
        unique = [p for p in unique if id(p) in keep]
    return [ex for pair in unique for ex in pair]


def _detect_near_copies(examples: list[Example], threshold: float, drops: Counter,
                        edits: bool = False, negated: bool = True) -> list[Example]:
    """Biased examples whose rewrite nearly copies the text (or, unless ``negated``, negates its opposite) keep
    their label but lose the rewrite."""
    if threshold > 1 and negated:
        return examples
    from trainers.mix import near_copy, negates

    out = []
    for ex in examples:
        reason = None
        if ex.biased and ex.rewrite:
            if threshold <= 1 and near_copy(ex.text, ex.rewrite, threshold, edits):
                reason = "near_copy_detection_only"
            elif not negated and negates(ex.text, ex.rewrite):
                reason = "negation_detection_only"
        if reason:
            drops[reason] += 1
            ex = replace(ex, rewrite=None)
        out.append(ex)
    return out


def _srllm(path, source: str, limit: int | None, seed: int, hint: str) -> tuple[list[Example], Counter]:
    drops: Counter = Counter()
    pairs = []
    for row in _read_table(Path(path), _SRLLM_COLUMNS, ",", hint):
        rewrite = normalize(row["debiased_text"])
        # annotators marked some rows for removal: debiased_text 'TOREMOVE', or a 'remove ?' comment
        if rewrite.upper() == "TOREMOVE" or "remove" in row.get("comments", "").lower():
            drops["marked_to_remove"] += 1
            continue
        pairs.append(_pair(normalize(row["biased_text"]), [rewrite], source, drops))
    return _finish([p for p in pairs if p], limit, seed, drops), drops


def _paradetox(path, limit: int | None, seed: int, hint: str) -> tuple[list[Example], Counter]:
    drops: Counter = Counter()
    rows = _read_table(Path(path), _PARADETOX_COLUMNS, "\t", hint)
    pairs = [
        _pair(normalize(r["toxic"]), [normalize(r.get(c, "")) for c in _PARADETOX_REWRITES], "paradetox", drops)
        for r in rows
    ]
    return _finish([p for p in pairs if p], limit, seed, drops), drops


def _wnc(pre_path, post_path, limit: int | None, seed: int, hint: str) -> tuple[list[Example], Counter]:
    drops: Counter = Counter()
    pre = _read_text(Path(pre_path), hint).splitlines()
    post = _read_text(Path(post_path), hint).splitlines()
    if len(pre) != len(post):
        raise DataError(f"{pre_path} has {len(pre)} lines but {post_path} has {len(post)}; they must be line-aligned")
    pairs = [_pair(normalize(a), [normalize(b)], "wnc", drops) for a, b in zip(pre, post) if a.strip() or b.strip()]
    return _finish([p for p in pairs if p], limit, seed, drops), drops


def srllm_sentence_pairs(path, texts: set[str], *, max_drift: float = 1.0, near: float = 1.01,
                         edits: bool = False) -> tuple[list[tuple[str, str, str]], Counter]:
    """Sentence-sized pairs ``(biased text of the row, sentence, its rewrite)`` from the SR-LLM CSV rows whose
    normalised ``biased_text`` is in ``texts`` (see :attr:`DataMix.srllm_sentences`), and what was left out."""
    import ast

    from srllm_guard.policy import drift
    from srllm_guard.split import split_sentences
    from trainers.mix import near_copy, plain_text

    def sentences(text: str) -> list[str]:
        return [text[p.start : p.end].strip() for p in split_sentences(text)]

    drops: Counter = Counter()
    out: list[tuple[str, str, str]] = []
    for row in _read_table(Path(path), _SRLLM_COLUMNS, ",", "pass the path of an SR-LLM CSV"):
        text = normalize(row["biased_text"])
        if text not in texts:
            continue
        try:
            words = [plain_text(str(w)) for w in ast.literal_eval(row.get("biased_words") or "[]")]
        except (ValueError, SyntaxError):
            drops["unreadable_biased_words"] += 1
            continue
        words = [w for w in words if w]
        a, b = sentences(text), sentences(normalize(row["debiased_text"]))
        matcher = difflib.SequenceMatcher(None, [plain_text(s) for s in a], [plain_text(s) for s in b], autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                continue
            if tag != "replace" or i2 - i1 != j2 - j1:
                drops["not_aligned_one_to_one"] += i2 - i1
                continue
            for sentence, rewrite in zip(a[i1:i2], b[j1:j2]):
                tokens = set(plain_text(sentence).split())
                if not any(set(w.split()) <= tokens for w in words):
                    drops["no_biased_word"] += 1
                elif drift(sentence, rewrite) > max_drift:
                    drops["drift"] += 1
                elif near_copy(sentence, rewrite, near, edits):
                    drops["near_copy"] += 1
                else:
                    out.append((text, sentence, rewrite))
    drops["kept"] = len(out)
    return out, drops


def read_srllm_csv(path) -> list[Example]:
    """SR-LLM pairs (columns ``biased_text``, ``debiased_text``; others ignored): every row gives a biased
    example and a neutral one made from its ``debiased_text``."""
    return _srllm(path, "srllm", None, 0, "pass the path of an SR-LLM CSV (e.g. sr_llm_inhouse/train_500.csv)")[0]


def read_paradetox(path, limit=None, seed=0) -> list[Example]:
    """ParaDetox TSV (``toxic, neutral1..3``): biased rewrite = the first usable rewrite; every distinct
    rewrite is also a neutral example. ``limit`` rows are chosen by a stable hash of the text and ``seed``."""
    return _paradetox(path, limit, seed, "pass the path of paradetox/paradetox.tsv")[0]


def read_wnc(pre_path, post_path, limit=None, seed=0) -> list[Example]:
    """Line-aligned WNC ``pre`` (biased) / ``post`` (neutral) files; pairs equal after normalisation are
    skipped."""
    return _wnc(pre_path, post_path, limit, seed, "pass the paths of wnc_sample/pre.train and post.train")[0]


# ---------------------------------------------------------------------------------------------- splitting

def _components(examples: list[Example]) -> dict[str, str]:
    """Map each group to a representative, merging groups that share a text (union-find)."""
    parent: dict[str, str] = {}

    def find(g: str) -> str:
        while parent.setdefault(g, g) != g:
            parent[g] = parent[parent[g]]
            g = parent[g]
        return g

    owner: dict[str, str] = {}
    for ex in examples:
        for text in (ex.text, ex.rewrite):
            if text is None:
                continue
            a, b = find(ex.group), find(owner.setdefault(text, ex.group))
            if a != b:
                parent[max(a, b)] = min(a, b)  # the smallest group name represents the component
    return {g: find(g) for g in parent}


def _dedupe(examples: list[Example], drops: Counter) -> list[Example]:
    """Drop repeated texts; a text that is both biased and neutral somewhere is ambiguous and dropped."""
    labels: dict[str, set[bool]] = {}
    for ex in examples:
        labels.setdefault(ex.text, set()).add(ex.biased)
    seen: set[str] = set()
    out = []
    for ex in examples:
        if len(labels[ex.text]) > 1:
            drops["label_conflict"] += 1
        elif ex.text in seen:
            drops["duplicate"] += 1
        else:
            seen.add(ex.text)
            out.append(ex)
    return out


def _remove_leaks(examples: list[Example], held_out: set[str]) -> tuple[list[Example], int]:
    kept = [ex for ex in examples if ex.text not in held_out and ex.rewrite not in held_out]
    return kept, len(examples) - len(kept)


def target_too_far(ex: Example, limit: float) -> bool:
    """Whether ``ex`` has a rewrite target that drifts more than ``limit`` from its text (the guard's ``max_drift``
    test, :func:`srllm_guard.policy.drift`): the guard would replace such a rewrite by its fallback."""
    from srllm_guard.policy import drift

    return ex.rewrite is not None and drift(ex.text, ex.rewrite) > limit


def _add_training_only(train: list[Example], made: list[Example], held: set[str], drops: dict, name: str) -> None:
    """Append ``made`` (examples for the training split only) to ``train``, leaving out any text in ``held`` or
    already in ``train``; ``drops[name]`` counts both."""
    kept, leaks = _remove_leaks(made, held | {ex.text for ex in train})
    drops[name] = Counter({"added": len(kept), "dropped_as_existing_or_held_out": leaks})
    train.extend(kept)


def _counts(examples: list[Example]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for ex in examples:
        by_label = out.setdefault(ex.source, {"biased": 0, "neutral": 0})
        by_label["biased" if ex.biased else "neutral"] += 1
    return out


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_splits(data_dir, mix: DataMix = DataMix()) -> Splits:
    """Read the sources named by ``mix`` from ``data_dir`` and split them into train / dev / test."""
    for name in ("dev_fraction", "test_fraction"):
        if not 0.0 <= getattr(mix, name) < 1.0:
            raise ConfigError(f"mix.{name} must be in [0, 1), got {getattr(mix, name)}")
    if not 0.0 <= mix.template_rewrites_neutral <= 1.0:
        raise ConfigError(f"mix.template_rewrites_neutral is a share in [0, 1], got {mix.template_rewrites_neutral}")
    from srllm_guard.eval.functional import REWRITE_STYLES

    if mix.rewrite_style not in REWRITE_STYLES:
        raise ConfigError(f"mix.rewrite_style must be one of {', '.join(REWRITE_STYLES)}, got {mix.rewrite_style!r}")
    if mix.rewrite_avoid:
        from srllm_guard.eval.functional import rewrite_options
        from srllm_guard.eval.templates import FUNCTIONALITIES, TEMPLATES

        offered = {r for t in TEMPLATES if FUNCTIONALITIES[t.functionality] for style in REWRITE_STYLES
                   for r in rewrite_options(t, style)}
        unknown = [r for r in mix.rewrite_avoid if r not in offered]
        if unknown:
            raise ConfigError(f"mix.rewrite_avoid names phrasings no template offers: {unknown}; copy them from "
                              "srllm_guard/eval/templates.py (DEFAULT_REWRITES or a template's own), slots included")
    if mix.checked_apart and mix.rewrite_style != "checked":
        raise ConfigError(f"mix.checked_apart sets apart the items whose target rewrite_style 'checked' changed; "
                          f"set mix.rewrite_style: checked (got {mix.rewrite_style!r}) or drop checked_apart")
    if mix.discussion_rewritten and not (mix.discussion and mix.discussion_twins):
        raise ConfigError("mix.discussion_rewritten gives the explanatory sentences' twins a rewrite; set "
                          "mix.discussion (how many) and mix.discussion_twins: true, or drop discussion_rewritten")
    if mix.max_target_drift is not None and not 0.0 < mix.max_target_drift <= 1.0:
        raise ConfigError(f"mix.max_target_drift is a drift in (0, 1] or null (off), got {mix.max_target_drift}")
    if mix.dev_fraction + mix.test_fraction >= 1.0:
        raise ConfigError("mix.dev_fraction + mix.test_fraction must be below 1, or nothing is left to train on")
    root = Path(data_dir)
    hint = "pass --data-dir pointing at a folder with " + SRLLM_TRAIN
    if not root.is_dir():
        raise DataError(f"data folder not found: {root}; {hint} (shaped like shared/data)")
    needed = [SRLLM_TRAIN, SRLLM_INFER]
    needed += [PARADETOX] if mix.paradetox != 0 else []
    needed += [WNC_PRE, WNC_POST] if mix.wnc != 0 else []
    missing = [rel for rel in needed if not (root / rel).is_file()]
    if missing:
        raise DataError(
            f"missing data file(s) under {root}: {', '.join(missing)}; pass --data-dir pointing at a folder with "
            f"{', '.join(needed)} (or set mix.paradetox / mix.wnc to 0 to skip those sources)"
        )

    drops: dict[str, Counter] = {}
    pool, drops["srllm"] = _srllm(root / SRLLM_TRAIN, "srllm", mix.srllm, mix.seed, hint)
    if mix.paradetox != 0:
        extra, drops["paradetox"] = _paradetox(root / PARADETOX, mix.paradetox, mix.seed, hint)
        pool += extra
    if mix.wnc != 0:
        extra, drops["wnc"] = _wnc(root / WNC_PRE, root / WNC_POST, mix.wnc, mix.seed, hint)
        pool += extra
    infer, drops["srllm_infer"] = _srllm(root / SRLLM_INFER, "srllm_infer", None, mix.seed, hint)
    drops["near_copy"] = Counter()
    pool = _detect_near_copies(pool, mix.near_copy, drops["near_copy"], mix.near_copy_edits, mix.negated_rewrites)
    from trainers.mix import extra_sources, templated

    extra, extra_files = extra_sources(root, mix)
    pool += extra
    if not mix.neutral_from_rewrites:
        pool = [ex for ex in pool if ex.biased]
        infer = [ex for ex in infer if ex.biased]
    drops["pool"] = Counter()
    pool = _dedupe(pool, drops["pool"])
    infer = _dedupe(infer, drops["srllm_infer"])

    component = _components(pool)
    train: list[Example] = []
    dev: list[Example] = []
    test: list[Example] = []
    held_sources = set(mix.held_out_sources)
    for ex in pool:
        u = _unit(component[ex.group], mix.seed)
        if ex.source in held_sources:
            test.append(ex)
            continue
        (test if u < mix.test_fraction else dev if u < mix.test_fraction + mix.dev_fraction else train).append(ex)
    test += infer

    test_texts = {t for ex in test for t in (ex.text, ex.rewrite) if t}
    dev, dev_leaks = _remove_leaks(dev, test_texts)
    train, train_leaks = _remove_leaks(train, test_texts | {t for ex in dev for t in (ex.text, ex.rewrite) if t})

    # templated sources: their own split (held-out group, template or attribute -> test); their rewrites are
    # shared phrasings by design, so only texts are checked for leaks
    synth_test = templated(root, mix, side="test")
    synth_train = templated(root, mix, side="train")
    held_texts = test_texts | {ex.text for ex in synth_test} | {ex.text for ex in dev}
    synth_train, synth_leaks = _remove_leaks(synth_train, held_texts)
    drops["templated"] = Counter({"leaks_removed": synth_leaks})
    for ex in synth_train:
        (dev if _unit("dev:" + ex.text, mix.seed) < mix.dev_fraction else train).append(ex)
    test += synth_test
    if mix.template_rewrites_neutral:
        from trainers.mix import TEMPLATED_SOURCES

        made = [Example(ex.rewrite, False, None, ex.source, ex.group, functionality="rewrite:" + ex.functionality)
                for ex in train if ex.source in TEMPLATED_SOURCES and ex.biased and ex.rewrite
                and _unit("rewrite-neutral:" + ex.text, mix.seed) < mix.template_rewrites_neutral]
        made = list({ex.text: ex for ex in made}.values())
        held_rewrites = {ex.rewrite for ex in test + dev if ex.rewrite}
        made, made_leaks = _remove_leaks(made, held_texts | held_rewrites | {ex.text for ex in train})
        drops["template_rewrites_neutral"] = Counter({"added": len(made),
                                                      "dropped_as_existing_or_held_out": made_leaks})
        train += made
    if mix.max_target_drift is not None:
        limit = mix.max_target_drift
        too_far: Counter = Counter()

        def checked(split: list[Example]) -> list[Example]:
            out = []
            for ex in split:
                if target_too_far(ex, limit):
                    too_far[ex.source] += 1
                    ex = replace(ex, rewrite=None)
                out.append(ex)
            return out

        train, dev = checked(train), checked(dev)
        drops["max_target_drift"] = too_far
    if mix.run_on_share:
        from trainers.mix import TEMPLATED_SOURCES, plain_text, run_on

        natural = [ex for ex in train if ex.source not in TEMPLATED_SOURCES]
        copies = run_on(natural, mix.run_on_share, mix.seed, max_chars=2 * mix.max_chars)
        # a copy must not be a held-out text either as written or in its own plain form
        _add_training_only(train, copies, held_texts | {plain_text(t) for t in held_texts}, drops, "run_on")
    if mix.answered_share:
        from trainers.mix import answered

        _add_training_only(train, answered(train, mix.answered_share, mix.seed, by_family=mix.answered_by_family),
                           held_texts, drops, "answered")
    if mix.affirmed_share:
        from trainers.mix import affirmed

        _add_training_only(train, affirmed(train, mix.affirmed_share, mix.seed), held_texts, drops, "affirmed")
    if mix.counter_questions:
        from trainers.mix import counter_questions

        _add_training_only(train, counter_questions(root, mix.counter_questions, mix.seed,
                                                    ids=mix.counter_question_ids),
                           held_texts, drops, "counter_questions")
    if mix.stance_questions:
        from trainers.mix import stance_questions

        _add_training_only(train, stance_questions(root, mix.stance_questions, mix.seed,
                                                   max_drift=mix.max_target_drift),
                           held_texts, drops, "stance_questions")
    if mix.srllm_sentences:  # after the copies above, so every other training example is as before
        parents = {ex.text: ex.group for ex in train if ex.source == "srllm" and ex.biased}
        pairs, drops["srllm_sentences"] = srllm_sentence_pairs(
            root / SRLLM_TRAIN, set(parents), max_drift=mix.max_target_drift or 1.0, near=mix.near_copy,
            edits=mix.near_copy_edits)
        made = [ex for parent, sentence, rewrite in pairs
                for ex in (Example(sentence, True, rewrite, "srllm_sentence", parents[parent]),
                           Example(rewrite, False, None, "srllm_sentence", parents[parent]))]
        made = list({(ex.text, ex.biased): ex for ex in made}.values())
        made, made_leaks = _remove_leaks(made, held_texts | {ex.rewrite for ex in test + dev if ex.rewrite}
                                         | {ex.text for ex in train})
        drops["srllm_sentences"]["dropped_as_existing_or_held_out"] = made_leaks
        train += made

    fixes = {
        "train": "lower mix.dev_fraction / mix.test_fraction or add data",
        "dev": "raise mix.dev_fraction or add data (or set mix.dev_fraction=0 to train without dev)",
        "test": "raise mix.test_fraction or add data",
    }
    for name, split in (("train", train), ("dev", dev), ("test", test)):
        if not split and not (name == "dev" and mix.dev_fraction == 0):
            raise DataError(
                f"the {name} split came out empty ({len(pool)} pool examples, dev_fraction={mix.dev_fraction}, "
                f"test_fraction={mix.test_fraction}); {fixes[name]}"
            )

    needed += extra_files
    if mix.seegull:
        needed += [f"seegull/{f}" for f in ("stereotypes_global_v2.csv", "stereotypes_us_states.csv",
                                             "stereotypes_indian_states.csv") if (root / "seegull" / f).is_file()]
    if mix.holistic_per_template or mix.functional_per_group:
        needed += [f"holistic_bias/{f}.json" for f in ("descriptors", "nouns", "sentence_templates")
                   if (root / "holistic_bias" / f"{f}.json").is_file()]
    files = {rel: {"path": str(root / rel), "sha256": _sha256(root / rel), "bytes": (root / rel).stat().st_size}
             for rel in needed}
    manifest = {
        "data_dir": str(root),
        "files": files,
        "mix": asdict(mix),
        "seed": mix.seed,
        "counts": {"train": _counts(train), "dev": _counts(dev), "test": _counts(test)},
        "totals": {"train": len(train), "dev": len(dev), "test": len(test)},
        "dropped": {source: dict(sorted(c.items())) for source, c in drops.items()},
        "leaks_removed": train_leaks + dev_leaks + synth_leaks,
        "leaks_removed_by_split": {"train": train_leaks, "dev": dev_leaks, "templated": synth_leaks},
        "split_rules": {
            "pair_files": "hashed by pair group (a text, its rewrites and their neutral examples stay together)",
            "templated": "held-out group (every spelling), template or attribute -> test; see "
                         "srllm_guard.eval.functional.HELD_OUT_SHARE",
            "test_only_sources": sorted({"srllm_infer", *held_sources}),
        },
        "not_read": "sr_llm_inhouse/counterfactual-inhouse.csv (evaluation only)",
    }
    return Splits(train=train, dev=dev, test=test, manifest=manifest)


# -------------------------------------------------------------------------------------------------- jsonl

def write_jsonl(examples: Iterable[Example], path) -> Path:
    """Write examples one JSON object per line (UTF-8); parent folders are created. Returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for ex in examples:
            fh.write(json.dumps(asdict(ex), ensure_ascii=False) + "\n")
    return path


def read_jsonl(path) -> list[Example]:
    """Read examples written by :func:`write_jsonl`; a malformed line raises DataError naming it."""
    path = Path(path)
    text = _read_text(path, "pass --train-jsonl pointing at a file written by trainers.data.write_jsonl")
    keys = {"text", "biased", "rewrite", "source", "group"}
    optional = {"functionality"}
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict) or not keys <= set(record) <= keys | optional:
                raise ValueError(f"expected an object with keys {sorted(keys)} (and optionally {sorted(optional)})")
            out.append(Example(**record))
        except (ValueError, TypeError) as exc:  # JSONDecodeError and DataError are ValueErrors
            raise DataError(f"{path}:{number}: not an example line ({exc})") from exc
    return out
