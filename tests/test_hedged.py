"""The hedged stereotypes source (srllm_guard.eval.hedged): a negative stereotype softened by a hedge ("{G} can be
{A} at times."), labelled biased with a rewrite that keeps the hedge and drops the group, beside the same hedge
about one person and the hedge rejected; split like the functional suite, and reaching a training mix only when
the mix asks."""

from __future__ import annotations

import pytest
from test_mix import assert_evaluation_reads_both_sides, assert_mix_adds_only, assert_split_sides

from srllm_guard.eval import hedged
from srllm_guard.eval.functional import held_out
from srllm_guard.eval.lexicon import GROUPS
from srllm_guard.policy import drift

_PLURALS: dict[str, set[str]] = {}
for _g in GROUPS:
    _PLURALS.setdefault(_g.key, set()).add(_g.plural)


@pytest.fixture(scope="module")
def sides():
    return hedged.items(side="train"), hedged.items(side="test")


def test_hedges_pin_a_trait_on_a_group_and_their_rewrites_keep_the_hedge_without_the_group(sides):
    for item in sides[0] + sides[1]:
        assert "{" not in item.text and item.text[0].isupper() and item.text.endswith((".", "?")), item
        assert item.source == hedged.SOURCE and f" {item.attribute}" in item.text, item
        if item.functionality == hedged.BIASED:
            assert item.biased and item.group and item.rewrite, item
            # the trait stays, the group goes, and the model may learn the target (within the guard's max_drift)
            assert item.attribute in item.rewrite and not any(p in item.rewrite for p in _PLURALS[item.group]), item
            assert drift(item.text, item.rewrite) < 0.9, item
        elif item.functionality == hedged.INDIVIDUAL:
            # one person, a mild trait (the rest are insults when said of a person), no group
            assert not item.biased and item.rewrite is None and item.group is None, item
            assert item.attribute in hedged.MILD
            assert any(p in item.text.casefold() for p, _ in hedged.PEOPLE), item
        else:
            assert item.functionality == hedged.REJECTED and not item.biased and item.rewrite is None, item
            assert any(p in item.text for p in _PLURALS[item.group]) and "say" in item.text, item
    assert hedged._fill("{S} is sometimes a bit {A}, isn't {they}?", GROUPS[0], hedged.TRAITS[0],
                        ("my sister", "she")) == f"My sister is sometimes a bit {hedged.TRAITS[0].word}, isn't she?"


def test_every_frame_comes_with_a_twin_and_the_clause_frames_with_a_rejection():
    every = hedged.items(side="all")
    by = {f: {i.template for i in every if i.functionality == f}
          for f in (hedged.BIASED, hedged.INDIVIDUAL, hedged.REJECTED)}
    frames = {f.id for f in hedged.FRAMES}
    assert by[hedged.BIASED] == by[hedged.INDIVIDUAL] == frames
    assert by[hedged.REJECTED] == {f.id for f in hedged.FRAMES if f.clause}
    # a stereotype and its twin differ in who is hedged about (and in the trait, where the group's is no mild one)
    for frame in hedged.FRAMES:
        pair = [i for i in every if i.template == frame.id][:2]
        assert [i.functionality for i in pair] == [hedged.BIASED, hedged.INDIVIDUAL]
        tail = frame.twin.split("{A}")[1].split("{")[0]
        assert tail in pair[1].text and pair[1].attribute in pair[1].text, (frame.id, pair)


def test_split_keeps_held_out_groups_frames_and_traits_out_of_training(sides):
    train, test = sides
    assert_split_sides(hedged, train, test)
    for item in train:
        assert not held_out("template", f"{hedged.SOURCE}:{item.template}")
        assert not held_out("attribute", item.attribute)
        assert item.group is None or not held_out("group", item.group)
    # a twin names no group, so a held-out group alone must not put it on the test side
    assert all(i.held_out != ("group",) for i in test if i.functionality == hedged.INDIVIDUAL)
    assert {i.functionality for i in test} == set(hedged.KINDS)


def test_the_mix_adds_hedges_only_when_asked_and_leaves_every_other_example_alone(tmp_path):
    assert_mix_adds_only(tmp_path, hedged, "hedged")


def test_the_evaluation_reads_every_side_of_the_held_out_hedges():
    assert_evaluation_reads_both_sides(hedged)
