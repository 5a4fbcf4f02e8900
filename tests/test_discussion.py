"""The explanatory sentences about groups (srllm_guard.eval.discussion): neutral, split like the functional suite
with its group and attribute keys, and reaching a training mix only when the mix asks (leaving every other example
as it was)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from test_mix import MIX, assert_split_sides, neutral_source_added, write_extra_sources

from srllm_guard.errors import ConfigError
from srllm_guard.eval import discussion
from srllm_guard.eval.functional import held_out
from srllm_guard.eval.lexicon import GROUPS
from trainers.data import build_splits


@pytest.fixture(scope="module")
def sides():
    return discussion.items(side="train"), discussion.items(side="test")


def test_items_are_filled_neutral_sentences_that_name_their_group(sides):
    plurals = {g.key: {g2.plural.casefold() for g2 in GROUPS if g2.key == g.key} for g in GROUPS}
    ones = {g.key: {g2.one.casefold() for g2 in GROUPS if g2.key == g.key} for g in GROUPS}
    for item in sides[0] + sides[1]:
        assert "{" not in item.text and item.text[0].isupper() and item.text.endswith(".")
        assert item.biased is False and item.rewrite is None and item.source == discussion.SOURCE
        assert item.functionality == discussion.FUNCTIONALITY
        text = item.text.casefold()
        assert any(p in text for p in plurals[item.group] | ones[item.group]), item


def test_split_uses_the_suites_group_and_attribute_keys(sides):
    train, test = sides
    assert_split_sides(discussion, train, test)
    for item in train:  # a group the suite holds out never reaches training here either
        assert not held_out("group", item.group) and not held_out("template", f"discussion:{item.template}")
        assert item.attribute is None or not held_out("attribute", item.attribute)
    assert any(held_out("group", i.group) for i in test)


def test_the_mix_adds_them_only_when_asked_and_leaves_every_other_example_alone(tmp_path):
    neutral_source_added(tmp_path, discussion.SOURCE, discussion=25)


def test_the_evaluation_reads_both_held_out_sides_and_the_card_says_which_should_pass():
    from trainers.evaluate import _suite
    from trainers.ship import _EXPECT

    suite = _suite(None, per_functionality=30, per_method=0, seed=0)
    made = [i for i in suite if i.source == discussion.SOURCE]
    assert len(made) == 60 and all(i.held_out for i in made)
    assert sum(i.biased and i.functionality == discussion.TWIN for i in made) == 30
    assert _EXPECT[discussion.FUNCTIONALITY] == "pass" and discussion.TWIN not in _EXPECT  # the twins: flag


def test_each_neutral_sentence_can_bring_its_biased_twin_on_its_own_side(tmp_path):
    plain = discussion.items(side="train")
    paired = discussion.items(side="train", twins=True)
    assert [i for i in paired if not i.biased] != [] and len(paired) == 2 * len([i for i in paired if not i.biased])
    for neutral, twin in zip(paired[::2], paired[1::2]):
        assert not neutral.biased and twin.biased and twin.functionality == discussion.TWIN and twin.rewrite is None
        assert (neutral.template, neutral.group, neutral.attribute, neutral.held_out) == \
            (twin.template, twin.group, twin.attribute, twin.held_out)
        assert neutral.text != twin.text
    assert discussion.items(side="train", twins=False) == plain  # the draw made before the twins existed
    mix = replace(MIX, discussion=25)
    alone = build_splits(write_extra_sources(tmp_path / "a"), mix)
    both = build_splits(write_extra_sources(tmp_path / "b"), replace(mix, discussion_twins=True))
    added = [e for e in both.train + both.dev if e.source == discussion.SOURCE]
    neutral = [e for e in added if not e.biased]
    assert 0 < len(neutral) <= 25 and len(added) == 2 * len(neutral)
    assert all(e.rewrite is None for e in added)
    assert len([e for e in both.test if e.source == discussion.SOURCE and e.biased]) == MIX.test_per_functionality
    assert [e for e in both.train if e.source != discussion.SOURCE] == \
        [e for e in alone.train if e.source != discussion.SOURCE]


def test_rewritten_twins_take_their_neutral_side_unless_it_names_the_word(tmp_path):
    paired = discussion.items(side="train", twins=True)
    rewritten = discussion.items(side="train", twins=True, rewritten=True)
    assert [replace(i, rewrite=None) for i in rewritten] == paired  # the same draw; only the twins' rewrites differ
    assert {"di22", "di32", "di33"}.isdisjoint(discussion.REWRITTEN) and len(discussion.REWRITTEN) == 33
    for neutral, twin in zip(rewritten[::2], rewritten[1::2]):
        assert neutral.rewrite is None
        assert twin.rewrite == (neutral.text if twin.template in discussion.REWRITTEN else None)
        if twin.rewrite and twin.attribute is not None:  # the stereotype's word never survives into a rewrite
            assert twin.attribute not in twin.rewrite.casefold(), twin
    assert any(t.rewrite for t in rewritten[1::2]) and any(t.rewrite is None for t in rewritten[1::2])
    mix = replace(MIX, discussion=25, discussion_twins=True)
    plain = build_splits(write_extra_sources(tmp_path / "a"), mix)
    both = build_splits(write_extra_sources(tmp_path / "b"), replace(mix, discussion_rewritten=True))
    twins = [e for e in both.train + both.dev if e.source == discussion.SOURCE and e.biased]
    assert twins and any(e.rewrite for e in twins)
    neutral = {e.text for e in both.train + both.dev if e.source == discussion.SOURCE and not e.biased}
    assert all(e.rewrite in neutral for e in twins if e.rewrite)  # a twin is rewritten to a sentence taught to pass
    assert all(e.rewrite is None for e in both.test if e.source == discussion.SOURCE)  # test: verdict only, as before
    assert [replace(e, rewrite=None) for e in both.train] == [replace(e, rewrite=None) for e in plain.train]
    with pytest.raises(ConfigError, match="discussion_twins: true"):  # without twins there is nothing to rewrite
        build_splits(write_extra_sources(tmp_path / "c"), replace(MIX, discussion=25, discussion_rewritten=True))
