"""The insults source (srllm_guard.eval.insults): name-calling aimed at one person, labelled biased with a rewrite
that keeps the criticism, split like the functional suite, and reaching a training mix only when the mix asks."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from test_mix import MIX, assert_only_source_added, assert_split_sides, write_extra_sources

from srllm_guard.eval import insults
from srllm_guard.eval.functional import held_out
from srllm_guard.eval.lexicon import GROUPS
from srllm_guard.policy import drift
from trainers.data import build_splits


@pytest.fixture(scope="module")
def sides():
    return insults.items(side="train"), insults.items(side="test")


def test_items_insult_one_person_and_their_rewrites_keep_the_person_without_the_insult(sides):
    groups = {g.plural.casefold() for g in GROUPS}
    words = {w.casefold() for w in insults.NOUNS + insults.ADJECTIVES}
    for item in sides[0] + sides[1]:
        assert "{" not in item.text and item.text[0].isupper() and item.text.rstrip()[-1] in ".?"
        assert item.biased is True and item.source == insults.SOURCE and item.functionality == insults.FUNCTIONALITY
        person = item.group.split(":", 1)[1]
        assert person in insults.PEOPLE and person.casefold() in item.text.casefold()
        word = item.attribute.split(":", 1)[1]
        assert word.casefold() in item.text.casefold()
        assert not any(re.search(rf"\b{re.escape(g)}\b", item.text.casefold()) for g in groups if len(g) > 3), item
        # the rewrite names the same person and none of the insulting words
        assert item.rewrite and person.casefold() in item.rewrite.casefold(), item
        assert not any(re.search(rf"\b{re.escape(w)}\b", item.rewrite.casefold()) for w in words), item
        assert drift(item.text, item.rewrite) < 0.85  # well within the recipes' max_target_drift: kept as a target
    # "you" takes its own verbs
    every = [i.text for i in insults.items(side="all")]
    assert any(t.startswith("You are ") for t in every) and any(t.startswith("You were ") for t in every)
    assert not any(re.search(r"(^|, )you (is|was)\b", t, re.I) for t in every)  # "Listening to you is" is fine
    assert insults._fill("What {N} {p} {be}.", "the judge", "idiot") == "What an idiot the judge is."
    assert insults._fill("{P} {be} such {N}.", "you", "clown") == "You are such a clown."


def test_split_keeps_held_out_people_templates_and_words_out_of_training(sides):
    train, test = sides
    assert_split_sides(insults, train, test)
    for item in train:
        assert not held_out("group", item.group) and not held_out("template", f"{insults.SOURCE}:{item.template}")
        assert not held_out("attribute", item.attribute)


def test_the_mix_adds_insults_only_when_asked_and_leaves_every_other_example_alone(tmp_path):
    mix = replace(MIX, run_on_share=0.5, answered_share=1.0, nonhuman=20)
    plain = build_splits(write_extra_sources(tmp_path / "a"), mix)
    made = build_splits(write_extra_sources(tmp_path / "b"), replace(mix, insults=25))
    assert not any(e.source == insults.SOURCE for e in plain.train + plain.dev + plain.test)
    added = [e for e in made.train + made.dev if e.source == insults.SOURCE]
    assert 0 < len(added) <= 25 and all(e.biased and e.rewrite for e in added)
    assert len([e for e in made.test if e.source == insults.SOURCE]) == MIX.test_per_functionality
    # (a question-shaped insult, "The judge? Total bonehead.", gets its own answered copies)
    assert_only_source_added(plain, made, insults.SOURCE)
    texts = {e.text for e in added}
    others = [e.text for e in made.train if not e.group.startswith(insults.SOURCE + ":")]
    assert not any(t in text for text in others for t in texts)


def test_the_evaluation_reads_the_held_out_insults_and_expects_them_flagged():
    from trainers.evaluate import _suite
    from trainers.ship import _EXPECT

    suite = _suite(None, per_functionality=30, per_method=0, seed=0)
    held = [i for i in suite if i.source == insults.SOURCE]
    assert len(held) == 30 and all(i.held_out and i.biased for i in held)
    assert _EXPECT.get(insults.FUNCTIONALITY, "flag") == "flag"
