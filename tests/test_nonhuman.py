"""The things source (srllm_guard.eval.nonhuman): negative generalisations about things, labelled neutral, split
like the functional suite, and reaching a training mix only when the mix asks (leaving every other example as
it was)."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from test_mix import MIX, assert_split_sides, neutral_source_added, write_extra_sources

from srllm_guard.eval import nonhuman
from srllm_guard.eval.functional import held_out
from srllm_guard.eval.lexicon import GROUPS
from trainers.data import build_splits


@pytest.fixture(scope="module")
def sides():
    return nonhuman.items(side="train"), nonhuman.items(side="test")


def test_items_are_filled_neutral_and_name_no_group_of_people(sides):
    words = {g.plural.casefold() for g in GROUPS}
    for item in sides[0] + sides[1]:
        assert "{" not in item.text and item.text[0].isupper() and item.text.rstrip()[-1] in ".?"
        assert item.biased is False and item.rewrite is None and item.source == nonhuman.SOURCE
        thing = item.group.split(":", 1)[1]
        assert thing in nonhuman.THINGS and thing.casefold() in item.text.casefold()
        assert not any(re.search(rf"\b{re.escape(w)}\b", item.text.casefold()) for w in words if len(w) > 3), item


def test_split_keeps_held_out_things_templates_and_words_out_of_training(sides):
    train, test = sides
    assert_split_sides(nonhuman, train, test)
    for item in train:
        assert not held_out("group", item.group) and not held_out("template", item.template)
        assert item.attribute is None or not held_out("attribute", item.attribute)


def test_the_mix_adds_things_only_when_asked_and_leaves_every_other_example_alone(tmp_path):
    # (a question about things gets its own answered copies, which stay not biased)
    _, made, added = neutral_source_added(tmp_path, nonhuman.SOURCE, nonhuman=25)
    asked = [e for e in made.train if e.source == "answered" and e.group.startswith(nonhuman.SOURCE + ":")]
    assert all(not e.biased for e in asked)
    # never in a run-on copy or as the follow-up sentence of another example
    things = {e.text for e in added}
    others = [e.text for e in made.train if e.text not in things and e not in asked]
    assert not any(t in text for text in others for t in things)


def test_the_evaluation_reads_the_held_out_things_and_the_card_says_they_should_pass():
    from trainers.evaluate import _suite
    from trainers.ship import _EXPECT

    suite = _suite(None, per_functionality=30, per_method=0, seed=0)
    things = [i for i in suite if i.source == nonhuman.SOURCE]
    assert len(things) == 30 and all(i.held_out and not i.biased for i in things)
    assert _EXPECT[nonhuman.FUNCTIONALITY] == "pass"


def test_the_mix_can_leave_the_things_questions_out_of_training_but_not_out_of_the_test(tmp_path):
    mix = replace(MIX, nonhuman=400)
    asked = nonhuman.ASKED
    assert asked == {"nh09", "nh16"}  # the frames this flag is about: every question-shaped one
    every = build_splits(write_extra_sources(tmp_path / "a"), mix)
    plain = build_splits(write_extra_sources(tmp_path / "b"), replace(mix, nonhuman_questions=False))
    templates = {e.group.split(":")[1] for e in plain.train + plain.dev if e.source == nonhuman.SOURCE}
    assert templates and not templates & asked
    assert {e.group.split(":")[1] for e in every.train if e.source == nonhuman.SOURCE} & asked
    assert [e for e in plain.test if e.source == nonhuman.SOURCE] == [e for e in every.test
                                                                      if e.source == nonhuman.SOURCE]
