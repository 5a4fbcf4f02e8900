"""The anecdotes source (srllm_guard.eval.anecdotes): a story about one person that puts a trait down to their
group, with a rewrite that keeps the story without the group, and its neutral twin; split with the suite's own
group and attribute keys, and reaching a training mix only when the mix asks."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from test_mix import (
    MIX,
    assert_evaluation_reads_both_sides,
    assert_only_source_added,
    assert_split_sides,
    write_extra_sources,
)

from srllm_guard.eval import anecdotes
from srllm_guard.eval.functional import held_out
from srllm_guard.eval.lexicon import GROUPS
from srllm_guard.policy import drift
from trainers.data import build_splits


@pytest.fixture(scope="module")
def sides():
    return anecdotes.items(side="train"), anecdotes.items(side="test")


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z][a-z-]*", text.casefold()))


def test_each_biased_story_has_a_neutral_twin_with_the_same_person_and_a_rewrite_without_the_group(sides):
    by_group = {g.key: g for g in GROUPS}
    for side in sides:
        stories: list[list] = []
        for item in side:  # each biased sentence, then its neutral twin(s)
            if item.biased:
                stories.append([item])
            else:
                stories[-1].append(item)
        assert any(len(s) == 3 for s in stories) and all(len(s) in (2, 3) for s in stories)
        for biased, *twins in stories:
            for neutral in twins:
                _same_story(biased, neutral, by_group)
        # a bare twin is the biased sentence with its generalisation taken out, word for word (one frame's tense
        # aside: "I knew the driver would be ..." -> "The driver was ...")
        bare = [s for s in stories if len(s) == 3]
        assert all(_words(s[2].text) - _words(s[0].text) <= {"was"} for s in bare)
        assert all(len(_words(s[2].text)) < len(_words(s[0].text)) for s in bare)
    # a frame that says "he" or "she" is never filled with a gender group
    every = anecdotes.items(side="all")
    assert not any(re.search(r"\b(a woman|a man|female|male)\b", i.text, re.I) and re.search(r"\b(he|she)\b", i.text)
                   for i in every)


def _same_story(biased, neutral, by_group) -> None:
    """A neutral twin tells the same story about the same person; the rewrite drops the group."""
    assert biased.biased and biased.functionality == anecdotes.BIASED and biased.source == anecdotes.SOURCE
    assert not neutral.biased and neutral.functionality == anecdotes.NEUTRAL and neutral.rewrite is None
    assert (biased.template, biased.group, biased.attribute, biased.held_out) == (
        neutral.template, neutral.group, neutral.attribute, neutral.held_out)
    for item in (biased, neutral):
        assert "{" not in item.text and item.text[0].isupper() and item.text.rstrip()[-1] in ".?"
    group = by_group[biased.group]
    spelled = [g for g in GROUPS if g.key == group.key]
    text = neutral.text.casefold()
    assert any(g.adj and g.adj.casefold() in text or g.one.casefold() in text for g in spelled), neutral
    # the rewrite keeps neither the group's words nor a generalisation, and stays within the guard's drift
    rewrite = biased.rewrite or ""
    for g in spelled:
        for form in filter(None, (g.adj, g.plural, g.one.split(" ", 1)[1])):
            assert not re.search(rf"\b{re.escape(form.casefold())}\b", rewrite.casefold()), (biased, form)
    assert not re.search(r"\b(typical|all of them|rest of them|always|as usual)\b", rewrite.casefold())
    assert drift(biased.text, rewrite) <= anecdotes.MAX_DRIFT


def test_rewritten_adds_each_rewrite_once_as_a_neutral_sentence_without_the_group(sides):
    train = sides[0]
    more = anecdotes.items(side="train", rewritten=True)
    added = [i for i in more if i not in train]
    assert added and len(more) == len(train) + len(added)
    assert {i.text for i in added} <= {i.rewrite for i in train if i.biased}
    assert len({i.text for i in added}) == len(added)
    assert all(not i.biased and i.functionality == anecdotes.NEUTRAL and i.rewrite is None for i in added)


def test_split_uses_the_suite_keys_so_a_held_out_group_is_held_out_everywhere(sides):
    train, test = sides
    assert_split_sides(anecdotes, train, test)
    for item in train:
        assert not held_out("group", item.group) and not held_out("template", f"{anecdotes.SOURCE}:{item.template}")
    # a twin without the trait is the same sentence for every trait: the trait never decides its side
    no_trait = {f.id for f in anecdotes.FRAMES if "{A}" not in f.neutral and "{Xs}" not in f.neutral}
    assert no_trait and not any("attribute" in i.held_out for i in test if i.template in no_trait)


def test_the_mix_adds_both_kinds_only_when_asked_and_leaves_every_other_example_alone(tmp_path):
    mix = replace(MIX, run_on_share=0.5, answered_share=1.0, insults=10)
    plain = build_splits(write_extra_sources(tmp_path / "a"), mix)
    made = build_splits(write_extra_sources(tmp_path / "b"), replace(mix, anecdotes=20))
    assert not any(e.source == anecdotes.SOURCE for e in plain.train + plain.dev + plain.test)
    added = [e for e in made.train + made.dev if e.source == anecdotes.SOURCE]
    assert 0 < sum(e.biased for e in added) <= 20 and 0 < sum(not e.biased for e in added) <= 20
    assert all(bool(e.rewrite) == e.biased for e in added)
    assert len([e for e in made.test if e.source == anecdotes.SOURCE]) == 2 * MIX.test_per_functionality
    assert_only_source_added(plain, made, anecdotes.SOURCE)
    # the bare twins and the rewrites as neutral sentences are opt-in; the rewrites only on the training side
    more = build_splits(write_extra_sources(tmp_path / "c"),
                        replace(mix, anecdotes=400, anecdotes_bare=True, anecdotes_rewritten=True))
    rewrites = {i.rewrite for i in anecdotes.items(side="train") if i.biased}
    train_neutral = {e.text for e in more.train + more.dev if e.source == anecdotes.SOURCE and not e.biased}
    assert train_neutral & rewrites
    assert not {e.text for e in more.test if not e.biased} & rewrites


def test_the_evaluation_reads_both_kinds_and_expects_the_twins_to_pass():
    assert_evaluation_reads_both_sides(anecdotes)
