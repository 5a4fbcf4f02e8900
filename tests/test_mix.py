"""trainers.mix through trainers.data.build_splits: every new source reaches the pool with its label, held-out
groups and templates never reach training, near-copies train the verdict only, and stages see disjoint
examples. The data folder is written here (tiny stand-ins shaped like shared/data)."""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from test_data import make_data_dir

from srllm_guard.errors import ConfigError, DataError
from srllm_guard.eval.functional import held_out
from srllm_guard.eval.lexicon import GROUPS
from trainers.data import DataMix, Example, build_splits
from trainers.mix import TEMPLATED_SOURCES, near_copy
from trainers.train import TrainArgs, encode, stage_sample


def write_extra_sources(root: Path) -> Path:
    make_data_dir(root)
    with (root / "paradetox" / "paradetox_cannot_rewrite.tsv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter="\t")
        w.writerow(["toxic"])
        w.writerows([[f"c{i} you absolute moron"] for i in range(30)])
    (root / "jigsaw").mkdir()
    with (root / "jigsaw" / "test_toxic.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["comment_text"])
        w.writerows([[f"j{i} shut up, idiot"] for i in range(30)] + [["x" * 400]])
    (root / "bold").mkdir()
    (root / "bold" / "gender_prompt.json").write_text(json.dumps(
        {"American_actors": {f"Person {i}": [f"Person {i} is an American actor who"] for i in range(30)}}))
    (root / "seegull").mkdir()
    with (root / "seegull" / "stereotypes_global_v2.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["identity", "attribute", "mean offensiveness_score"])
        w.writerows([[ident, attr, score] for ident in ("Zimbabwean", "Peruvian", "Danish", "Swiss", "Afghans")
                     for attr, score in (("lazy", 3.0), ("criminal", 4.0), ("hospitable", 0.0), ("dirty", -1))])
    (root / "holistic_bias").mkdir()
    (root / "holistic_bias" / "descriptors.json").write_text(json.dumps(
        {"age": {"old": ["old", {"descriptor": "geriatric", "preference": "dispreferred"}]},
         "religion": {"all": ["Jain", "Sikh", "Quaker"]}}))
    (root / "holistic_bias" / "nouns.json").write_text(json.dumps(
        {"female": [["woman", "women"]], "male": [["man", "men"]], "neutral": [["person", "people"]]}))
    (root / "holistic_bias" / "sentence_templates.json").write_text(json.dumps(
        {"I'm {noun_phrase}.": {}, "I hate {plural_noun_phrase}.": {}, "I think {plural_noun_phrase} are the best.": {},
         "I love {plural_noun_phrase}.": {}}))
    return root


MIX = DataMix(srllm=None, paradetox=None, wnc=None, near_copy=0.8, paradetox_cannot=None, jigsaw=None, bold=None,
              functional_per_group=1, functional_cap=40, seegull=True, holistic_per_template=10, obfuscate_share=0.2,
              test_per_functionality=5)


def assert_only_source_added(plain, made, source: str) -> None:
    """Every split of ``made`` is ``plain``'s with only the examples of templated ``source`` added: their own
    groups (``source:...``) cover the source's items and any answered copies of its questions."""
    for old, new in ((plain.train, made.train), (plain.dev, made.dev), (plain.test, made.test)):
        assert [e for e in new if not e.group.startswith(source + ":")] == old


def neutral_source_added(tmp_path, source: str, **fields):
    """Build the splits without and with a templated neutral ``source`` (the mix's ``fields``, e.g.
    ``nonhuman=25``), check that only that source's examples were added (neutral, no rewrite, at most the asked
    number in training, a test side of ``test_per_functionality``) and return ``(plain, made, added)``."""
    mix = replace(MIX, run_on_share=0.5, answered_share=1.0)
    plain = build_splits(write_extra_sources(tmp_path / "a"), mix)
    made = build_splits(write_extra_sources(tmp_path / "b"), replace(mix, **fields))
    assert not any(e.source == source for e in plain.train + plain.dev + plain.test)
    added = [e for e in made.train + made.dev if e.source == source]
    assert 0 < len(added) <= max(fields.values()) and all(not e.biased and e.rewrite is None for e in added)
    assert len([e for e in made.test if e.source == source]) == MIX.test_per_functionality
    assert_only_source_added(plain, made, source)
    return plain, made, added


def assert_split_sides(items, train: list, test: list, **options) -> None:
    """A templated source's two sides (``items(side=..., **options)`` of module ``items``): no text on both, nothing
    held out on the training side, everything on the test side held out with every kind of held-out part
    represented, the test side stable, and an unknown side refused. Each source's own keys are checked by its
    test."""
    assert train and test and not {i.text for i in train} & {i.text for i in test}
    assert all(not i.held_out for i in train) and all(i.held_out for i in test)
    assert {p for i in test for p in i.held_out} == {"group", "template", "attribute"}
    assert items.items(side="test", **options) == test  # stable
    with pytest.raises(ValueError, match="side must be"):
        items.items(side="dev", **options)


def assert_mix_adds_only(tmp_path, module, field: str) -> None:
    """A mix with ``field`` = 20 adds templated source ``module``'s examples and nothing else: at most 20 biased ones,
    each with a rewrite, and at most 20 per neutral functionality (the rest of its ``KINDS``), none with one, in
    training; ``test_per_functionality`` of each functionality in the test split. Without it, none."""
    neutral_kinds = len(module.KINDS) - 1
    mix = replace(MIX, run_on_share=0.5, answered_share=1.0)
    plain = build_splits(write_extra_sources(tmp_path / "a"), mix)
    made = build_splits(write_extra_sources(tmp_path / "b"), replace(mix, **{field: 20}))
    assert not any(e.source == module.SOURCE for e in plain.train + plain.dev + plain.test)
    added = [e for e in made.train + made.dev if e.source == module.SOURCE]
    biased = [e for e in added if e.biased]
    assert 0 < len(biased) <= 20 and 0 < len(added) - len(biased) <= 20 * neutral_kinds
    assert all(e.rewrite for e in biased) and not any(e.rewrite for e in added if not e.biased)
    test = [e for e in made.test if e.source == module.SOURCE]
    assert len(test) == (1 + neutral_kinds) * MIX.test_per_functionality
    assert_only_source_added(plain, made, module.SOURCE)


def assert_evaluation_reads_both_sides(module) -> None:
    """The evaluation's suite (30 per functionality) holds 30 held-out items of each functionality of templated
    source ``module`` (its ``KINDS``: the biased one, then the neutral ones), and the card expects the neutral ones
    to pass."""
    from trainers.evaluate import _suite
    from trainers.ship import _EXPECT

    assert module.KINDS[0] == module.BIASED
    neutrals = module.KINDS[1:]
    suite = _suite(None, per_functionality=30, per_method=0, seed=0)
    held = [i for i in suite if i.source == module.SOURCE]
    assert len(held) == 30 * (1 + len(neutrals)) and all(i.held_out for i in held)
    assert sum(i.biased for i in held) == 30
    assert {i.functionality for i in held if not i.biased} == set(neutrals)
    assert _EXPECT.get(module.BIASED, "flag") == "flag" and all(_EXPECT[n] == "pass" for n in neutrals)


@pytest.fixture(scope="module")
def splits(tmp_path_factory):
    return build_splits(write_extra_sources(tmp_path_factory.mktemp("data")), MIX)


def test_every_source_arrives_with_its_label(splits):
    train = splits.train + splits.dev
    by = {}
    for ex in train:
        by.setdefault(ex.source, set()).add(ex.biased)
    assert by["paradetox_cannot"] == {True} and by["jigsaw"] == {True} and by["bold"] == {False}
    assert by["functional"] == {True, False} and by["seegull"] == {True} and by["holistic_bias"] == {True, False}
    assert all(ex.rewrite is None for ex in train if ex.source in ("paradetox_cannot", "jigsaw"))
    assert not any(len(ex.text) > MIX.max_chars for ex in train if ex.source == "jigsaw")
    assert not any("the best" in ex.text for ex in splits.train + splits.dev + splits.test)  # positive generalisation
    assert not any("geriatric" in ex.text for ex in splits.train + splits.test)  # 'dispreferred' descriptor
    assert any("+" in ex.functionality for ex in train)  # obfuscated copies
    counts = splits.manifest["counts"]["test"]
    assert counts["functional"]["biased"] and counts["functional"]["neutral"]
    assert "seegull/stereotypes_global_v2.csv" in splits.manifest["files"]


def test_held_out_groups_and_templates_stay_in_test(splits):
    templated = [ex for ex in splits.train + splits.dev if ex.source in TEMPLATED_SOURCES]
    for ex in templated:
        _, template, group, attribute = ex.group.split(":")
        assert not held_out("template", template), ex
        assert group == "-" or not held_out("group", group), ex
        assert attribute == "-" or not held_out("attribute", attribute), ex
    test_groups = {ex.group.split(":")[2] for ex in splits.test if ex.source == "functional"}
    assert test_groups & {g.key for g in GROUPS if held_out("group", g.key)}


def test_near_copy_pairs_train_the_verdict_only():
    assert near_copy("you are a stupid idiot", "you are an idiot", 0.6)
    assert not near_copy("you are a stupid idiot", "I disagree with you", 0.8)
    # with edits, a similar rewrite that deletes or replaces a word differs in substance: kept as a target
    assert not near_copy("we all fucking know it .", "We all know it", 0.6, edits=True)
    assert not near_copy("weird shit happens in both directions", "weird things happens in both directions", 0.6,
                         edits=True)
    # case, punctuation or added words only: still a copy
    assert near_copy("holy shit!", "Holy shit", 0.8, edits=True)
    assert near_copy("they are lazy.", "They are lazy, honestly.", 0.6, edits=True)


def test_held_out_source_goes_to_test_whole(tmp_path):
    root = write_extra_sources(tmp_path)
    mix = DataMix(srllm=None, paradetox=None, wnc=None, jigsaw=None, held_out_sources=["jigsaw"])
    out = build_splits(root, mix)
    assert not any(ex.source == "jigsaw" for ex in out.train + out.dev)
    assert sum(ex.source == "jigsaw" for ex in out.test) == 30


def test_stages_see_disjoint_examples_and_rewrite_share_applies(splits):
    first, rec1 = stage_sample(splits.train, TrainArgs(examples=60, rewrite_share=0.0))
    second, rec2 = stage_sample(splits.train, TrainArgs(examples=60, skip=60, rewrite_share=1.0))
    assert rec1["examples"] == rec2["examples"] == 60
    assert not {e.text for e in first} & {e.text for e in second}
    assert rec1["with_rewrite"] == 0 and all(e.biased for e in first if e.source == "jigsaw")
    kept = {e.text: e.rewrite for e in splits.train}
    assert all(e.rewrite == kept[e.text] for e in second)


def test_per_source_quotas_weight_a_stage_and_rewrite_shares_apply_per_source(splits):
    sources = Counter(e.source for e in splits.train)
    assert sources["jigsaw"] > 3 and sources["paradetox"] > 3
    quota = {"jigsaw": 3, "paradetox": sources["paradetox"] + 100}
    chosen, record = stage_sample(splits.train, TrainArgs(per_source=quota, rewrite_share=0.0,
                                                          rewrite_share_by_source={"paradetox": 1.0}))
    assert record["per_source"] == {"jigsaw": 3, "paradetox": sources["paradetox"]}
    kept = {e.text: e.rewrite for e in splits.train}
    assert all(e.rewrite == kept[e.text] for e in chosen if e.source == "paradetox")
    assert record["with_rewrite"] == sum(kept[e.text] is not None for e in chosen if e.source == "paradetox") > 0
    # the quota follows the stage's own stable order, so the same call picks the same examples
    again, _ = stage_sample(splits.train, TrainArgs(per_source=quota))
    assert [e.text for e in again] == [e.text for e in chosen]
    with pytest.raises(DataError, match="per_source names source"):
        stage_sample(splits.train, TrainArgs(per_source={"nosuch": 1}))
    with pytest.raises(DataError, match="per_source names source.*nosuch"):
        stage_sample(splits.train, TrainArgs(per_source={"nosuch:neutral": 1}))


def test_a_side_quota_weights_one_label_of_a_source_apart_from_the_other(splits):
    pd = [e for e in splits.train if e.source == "paradetox"]
    neutral, biased = sum(not e.biased for e in pd), sum(e.biased for e in pd)
    assert neutral > 3 and biased > 3
    chosen, _ = stage_sample(splits.train, TrainArgs(per_source={"paradetox:neutral": 3}))
    assert [e.biased for e in chosen] == [False] * 3
    both, _ = stage_sample(splits.train, TrainArgs(per_source={"paradetox:neutral": neutral + 5, "paradetox": 2}))
    assert sum(not e.biased for e in both) == neutral and sum(e.biased for e in both) == 2


def test_per_functionality_quotas_weight_one_family_apart_from_its_source(splits):
    def family(e):
        return (e.functionality or "").split("+")[0]

    implicit = [e for e in splits.train if family(e) == "implicit"]
    assert len(implicit) > 4 and any("+" in e.functionality for e in implicit)
    quota = {"functional": 10, "jigsaw": 2}
    plain, _ = stage_sample(splits.train, TrainArgs(per_source=quota))
    weighted, record = stage_sample(splits.train, TrainArgs(per_source=quota, per_functionality={"implicit": 4}))
    # the named family has its own quota (obfuscated copies count as it) ...
    assert sum(family(e) == "implicit" for e in weighted) == 4 == record["per_functionality"]["implicit"]
    # ... and no longer spends its source's: the source's quota goes to its other families
    assert sum(e.source == "functional" and family(e) != "implicit" for e in weighted) == 10
    assert [e for e in weighted if e.source == "jigsaw"] == [e for e in plain if e.source == "jigsaw"]
    # without per_source, the named families are capped and every other example stays
    alone, _ = stage_sample(splits.train, TrainArgs(per_functionality={"implicit": 1}))
    assert sum(family(e) == "implicit" for e in alone) == 1 and len(alone) == len(splits.train) - len(implicit) + 1
    with pytest.raises(DataError, match="per_functionality names functionalities .* known: .*implicit"):
        stage_sample(splits.train, TrainArgs(per_functionality={"nosuch": 1}))


def test_rewrite_only_sources_keep_their_rewrites_and_leave_the_other_sources_alone(splits):
    sources = Counter(e.source for e in splits.train)
    quota = {source: n for source, n in sources.items()}
    plain, _ = stage_sample(splits.train, TrainArgs(per_source=quota, rewrite_share=0.0))
    only, record = stage_sample(splits.train, TrainArgs(per_source=quota, rewrite_share=0.0,
                                                        rewrite_only_sources=["paradetox"]))
    mine = [e for e in only if e.source == "paradetox"]
    kept = {e.text: e.rewrite for e in splits.train}
    # every example of the source is biased with its own rewrite, whatever rewrite_share says ...
    assert mine and all(e.biased and e.rewrite and e.rewrite == kept[e.text] for e in mine)
    assert len(mine) == sum(e.biased and e.rewrite is not None for e in splits.train if e.source == "paradetox")
    assert record["per_source"]["paradetox"] == len(mine)
    # ... and the other sources' examples are exactly those of the same stage without it
    assert [e for e in only if e.source != "paradetox"] == [e for e in plain if e.source != "paradetox"]
    with pytest.raises(DataError, match="rewrite_only_sources names source"):
        stage_sample(splits.train, TrainArgs(rewrite_only_sources=["nosuch"]))


def test_run_on_copies_are_verdict_only_train_side_and_leave_the_test_split_alone(tmp_path, splits):

    from trainers.mix import plain_text

    cased = build_splits(write_extra_sources(tmp_path / "data"), replace(MIX, run_on_share=1.0))
    assert [(e.text, e.biased) for e in cased.test] == [(e.text, e.biased) for e in splits.test]
    assert [e.text for e in cased.dev] == [e.text for e in splits.dev]
    copies = [e for e in cased.train if e.functionality == "run_on"]
    assert copies and cased.manifest["dropped"]["run_on"]["added"] == len(copies)
    natural = [e for e in splits.train if e.source not in TEMPLATED_SOURCES]
    biased_plain = [plain_text(e.text) for e in natural if e.biased]
    for copy in copies:
        assert copy.rewrite is None and copy.text == plain_text(copy.text)
        # it carries one original of its own group and label; a neutral run holds no biased text
        assert any(e.group == copy.group and e.biased == copy.biased and plain_text(e.text) in copy.text
                   for e in natural)
        assert copy.biased or not any(b in copy.text for b in biased_plain)
    assert max(len(c.text.split()) for c in copies) > max(len(e.text.split()) for e in natural)  # joined runs
    held = {plain_text(t) for e in cased.test + cased.dev for t in (e.text, e.rewrite) if t}
    assert not held & {c.text for c in copies}
    assert plain_text("Well, she's an IDIOT!") == "well shes an idiot"


def test_template_rewrites_become_neutral_train_examples_and_leave_dev_and_test_alone(tmp_path, splits):

    framed = build_splits(write_extra_sources(tmp_path / "data"),
                          replace(MIX, rewrite_style="frame", template_rewrites_neutral=1.0))
    assert [(e.text, e.biased) for e in framed.test] == [(e.text, e.biased) for e in splits.test]
    assert [e.text for e in framed.dev] == [e.text for e in splits.dev]
    made = [e for e in framed.train if e.functionality.startswith("rewrite:")]
    assert made and framed.manifest["dropped"]["template_rewrites_neutral"]["added"] == len(made)
    targets = {e.rewrite for e in framed.train if e.source in TEMPLATED_SOURCES and e.biased and e.rewrite}
    assert {e.text for e in made} <= targets
    assert all(not e.biased and e.rewrite is None and e.source in TEMPLATED_SOURCES for e in made)
    held = {t for e in framed.test + framed.dev for t in (e.text, e.rewrite) if t}
    assert not held & {e.text for e in made}
    with pytest.raises(ConfigError, match="mix.rewrite_style must be one of reference, frame"):
        build_splits(tmp_path / "data", replace(MIX, rewrite_style="fancy"))
    with pytest.raises(ConfigError, match="template_rewrites_neutral is a share"):
        build_splits(tmp_path / "data", replace(MIX, template_rewrites_neutral=2.0))
    # the frame style changes the templated targets, never the texts
    assert sorted(e.text for e in framed.train if not e.functionality.startswith("rewrite:")) == sorted(
        e.text for e in splits.train)


def test_near_copy_edits_give_minimal_edits_back_their_rewrite_and_leave_every_split_alone(tmp_path, splits):

    edits = build_splits(write_extra_sources(tmp_path / "data"), replace(MIX, near_copy_edits=True))
    for name in ("train", "dev", "test"):
        assert [(e.text, e.biased) for e in getattr(edits, name)] == [(e.text, e.biased) for e in getattr(splits, name)]
    # the fixture's WNC pairs drop one framing word ("the brilliant mayor spoke ." -> "the mayor spoke ."):
    # detection-only by the ratio alone, a rewrite target with near_copy_edits
    before = {e.text: e.rewrite for e in splits.train if e.source == "wnc" and e.biased}
    after = {e.text: e.rewrite for e in edits.train if e.source == "wnc" and e.biased}
    assert before and not any(before.values())
    assert all(rewrite and "brilliant" not in rewrite and "brilliant" in text for text, rewrite in after.items())
    assert edits.manifest["dropped"]["near_copy"].get("near_copy_detection_only", 0) < \
        splits.manifest["dropped"]["near_copy"]["near_copy_detection_only"]


def test_verdict_only_examples_encode_the_prompt_alone():
    pytest.importorskip("transformers")
    import transformers

    from srllm_guard.models import hf_base_dir

    tok = transformers.AutoTokenizer.from_pretrained(str(hf_base_dir()))
    only = encode(tok, Example("You moron.", True, None, "jigsaw", "g"), 128)
    full = encode(tok, Example("You moron.", True, "You are wrong.", "paradetox", "g"), 128)
    neutral = encode(tok, Example("Nice day.", False, None, "bold", "g"), 128)
    assert len(only["input_ids"]) == only["prompt_len"] and only["verdict"] == 1
    assert len(neutral["input_ids"]) == neutral["prompt_len"] and neutral["verdict"] == 0
    assert full["input_ids"][: full["prompt_len"]] == only["input_ids"]
    assert tok.decode(full["input_ids"][full["prompt_len"]:]) == "biased\nYou are wrong.<end_of_turn>"
    assert only["verdict_weight"] == full["verdict_weight"] == 1.0
    rewrite_only = encode(tok, Example("You moron.", True, "You are wrong.", "paradetox", "g"), 128, verdict=False)
    assert rewrite_only["input_ids"] == full["input_ids"] and rewrite_only["verdict_weight"] == 0.0


def test_question_batch_is_drawn_only_when_the_mix_asks_and_then_on_every_templated_side(tmp_path, splits):

    from srllm_guard.eval.templates import QUESTION_BATCH

    def template(e: Example) -> str:
        return e.group.split(":")[1]

    templated = [e for e in splits.train + splits.dev + splits.test if e.source in ("functional", "seegull")]
    assert templated and not any(template(e) in QUESTION_BATCH for e in templated)
    asked = build_splits(write_extra_sources(tmp_path / "data"), replace(MIX, question_batch=True))
    for side in (asked.train, asked.test):
        assert {e.source for e in side if template(e) in QUESTION_BATCH} >= {"functional"}, side[:1]
    assert any(e.source == "seegull" and template(e) in QUESTION_BATCH for e in asked.train + asked.test)
    # held-out question templates stay out of training, as every held-out template does
    assert not any(held_out("template", template(e)) for e in asked.train if e.source in TEMPLATED_SOURCES)


def test_answered_copies_follow_a_training_question_and_take_the_label_of_what_follows(tmp_path):

    from srllm_guard.eval.answered import ANSWERS
    from srllm_guard.eval.templates import QUESTION_BATCH, TEMPLATES
    from trainers.mix import AGREEMENTS, NEUTRAL_FOLLOW_UPS, REJECTIONS

    base = replace(MIX, question_batch=True)
    plain = build_splits(write_extra_sources(tmp_path / "a"), base)
    made = build_splits(write_extra_sources(tmp_path / "b"), replace(base, answered_share=1.0))
    assert [e.text for e in made.test] == [e.text for e in plain.test] and made.dev == plain.dev
    copies = [e for e in made.train if e.source == "answered"]
    assert copies and made.manifest["dropped"]["answered"]["added"] == len(copies)
    questions = {e.text: e for e in plain.train}
    kinds = Counter()
    for copy in copies:
        question, follow = copy.text.split("? ", 1)[0] + "?", copy.text.split("? ", 1)[1]
        source = questions[question]
        kind = copy.functionality.split(":")[1]
        kinds[kind, copy.biased] += 1
        assert copy.rewrite is None and follow in {"rejection": REJECTIONS, "agreement": AGREEMENTS}.get(
            kind, NEUTRAL_FOLLOW_UPS + tuple(e.text for e in plain.train))
        # only a rejection changes the label, and only of a biased templated question that is not a threat
        assert copy.biased == (source.biased and kind != "rejection")
        if kind == "rejection":
            assert source.source in TEMPLATED_SOURCES and not source.functionality.startswith("threat")
    assert {("rejection", False), ("agreement", True), ("neutral", True), ("agreement", False)} <= set(kinds)
    # the evaluation's follow-ups and the held-out question templates' own answers are never training text
    asked = {t.text.split("? ", 1)[1] for t in TEMPLATES if t.id in QUESTION_BATCH and "? " in t.text}
    training = set(REJECTIONS + AGREEMENTS + NEUTRAL_FOLLOW_UPS)
    assert not training & (asked | {s for pool in ANSWERS.values() for s in pool})


def test_answered_by_family_tags_each_copy_with_its_question_family_and_changes_nothing_else(tmp_path):

    from trainers.train import TrainArgs, stage_sample

    base = replace(MIX, question_batch=True, answered_share=1.0)
    plain = build_splits(write_extra_sources(tmp_path / "a"), base)
    tagged = build_splits(write_extra_sources(tmp_path / "b"), replace(base, answered_by_family=True))
    assert [(e.text, e.biased) for e in tagged.train] == [(e.text, e.biased) for e in plain.train]
    assert tagged.test == plain.test and tagged.dev == plain.dev
    questions = {e.text: e for e in plain.train if e.source != "answered"}
    pairs = [(p, t) for p, t in zip(plain.train, tagged.train) if p.source == "answered"]
    assert pairs
    for old, new in pairs:
        asked = questions[new.text.split("? ", 1)[0] + "?"]
        family = asked.functionality.split("+", 1)[0] or asked.source
        kind = old.functionality.split(":", 1)[1]
        assert new.functionality == f"answered:{family}:{kind}", (new.text, new.functionality)
    # a stage can now take one family's pairs by quota, and only those
    wanted = f"answered:{pairs[0][1].functionality.split(':')[1]}:{pairs[0][1].functionality.split(':')[2]}"
    pool = sum(e.functionality == wanted for e in tagged.train)
    chosen, record = stage_sample(tagged.train, TrainArgs(per_source={}, per_functionality={wanted: 1000}))
    assert [e.functionality for e in chosen] == [wanted] * pool and record["per_functionality"] == {wanted: pool}


def test_counter_questions_add_benign_training_questions_in_phrasings_the_evaluation_never_uses(tmp_path):

    from srllm_guard.eval.functional import held_out
    from srllm_guard.eval.templates import TEMPLATES
    from trainers.mix import AGREEMENTS, COUNTER_QUESTIONS, NEUTRAL_FOLLOW_UPS

    plain = build_splits(write_extra_sources(tmp_path / "a"), MIX)
    made = build_splits(write_extra_sources(tmp_path / "b"), replace(MIX, counter_questions=40))
    assert made.test == plain.test and made.dev == plain.dev
    assert [e for e in made.train if e.source != "counter_questions"] == plain.train
    added = [e for e in made.train if e.source == "counter_questions"]
    assert made.manifest["dropped"]["counter_questions"]["added"] == len(added) == 80
    alone = {e.text for e in added if e.functionality == "counter_question"}
    assert len(alone) == 40 and all(t.endswith("?") for t in alone)
    for e in added:
        assert not e.biased and e.rewrite is None
        if e.functionality != "counter_question":
            question, follow = e.text.split("? ", 1)
            kind = e.functionality.split(":")[1]
            assert question + "?" in alone and follow in {"agreement": AGREEMENTS, "neutral": NEUTRAL_FOLLOW_UPS}[kind]
    # training side only: no held-out template id, and no phrasing of the evaluation's templates
    used = {e.group.split(":")[1] for e in added}
    assert used and not any(held_out("template", t) for t in used)
    assert not {text for _, text in COUNTER_QUESTIONS} & {t.text for t in TEMPLATES}
    # a stage can leave templates out by id, and an unknown id is named
    some = build_splits(write_extra_sources(tmp_path / "c"),
                        replace(MIX, counter_questions=40, counter_question_ids=sorted(used)[:1]))
    assert {e.group.split(":")[1] for e in some.train if e.source == "counter_questions"} == {sorted(used)[0]}
    with pytest.raises(ConfigError, match="cq99"):
        build_splits(write_extra_sources(tmp_path / "d"),
                     replace(MIX, counter_questions=40, counter_question_ids=["cq99"]))


def test_stance_questions_add_minimal_pairs_of_a_counter_speech_question_and_its_biased_twin(tmp_path):

    from srllm_guard.eval.templates import TEMPLATES
    from srllm_guard.pipeline import drift
    from trainers.mix import AGREEMENTS, COUNTER_QUESTIONS, NEUTRAL_FOLLOW_UPS, STANCE_QUESTIONS

    plain = build_splits(write_extra_sources(tmp_path / "a"), replace(MIX, max_target_drift=0.9))
    made = build_splits(write_extra_sources(tmp_path / "b"), replace(MIX, stance_questions=30, max_target_drift=0.9))
    assert made.test == plain.test and made.dev == plain.dev
    added = [e for e in made.train if e.source == "stance_questions"]
    assert [e for e in made.train if e.source != "stance_questions"] == plain.train
    assert made.manifest["dropped"]["stance_questions"]["added"] == len(added) == 120
    by_pair: dict[tuple[str, str], list[Example]] = {}
    for e in added:
        _, template, group, _ = e.group.split(":")
        by_pair.setdefault((template, group), []).append(e)
    assert len(by_pair) == 30
    twins = {tid: (text, family, twin) for tid, text, family, twin in STANCE_QUESTIONS}
    for (template, _), examples in by_pair.items():
        assert not held_out("template", template)
        counter = [e for e in examples if not e.biased]
        biased = [e for e in examples if e.biased]
        family = twins[template][1]
        assert sorted(e.functionality for e in counter)[0] == "stance:counter_speech"
        assert sorted(e.functionality for e in biased)[0] == f"stance:{family}"
        assert len(counter) == len(biased) == 2 and all(e.rewrite is None for e in counter)
        # both questions are followed by the same sentence, of the kind their tags name
        follows = {e.text.split("? ", 1)[1] for e in examples if "? " in e.text}
        kinds = {e.functionality.rsplit(":", 1)[1] for e in examples if "? " in e.text}
        assert len(follows) == 1 and len(kinds) == 1
        assert follows.pop() in {"agreement": AGREEMENTS, "neutral": NEUTRAL_FOLLOW_UPS}[kinds.pop()]
        for e in biased:  # a rewrite only on the question alone, and never one the guard would reject as drift
            assert e.rewrite is None or ("? " not in e.text and drift(e.text, e.rewrite) <= 0.9)
    # the counter-speech sides of cq* are the counter questions; no question is a phrasing of the evaluation's
    assert [(tid, text) for tid, text, _, _ in STANCE_QUESTIONS if tid.startswith("cq")] == list(COUNTER_QUESTIONS)
    assert not {q for _, text, _, twin in STANCE_QUESTIONS for q in (text, twin)} & {t.text for t in TEMPLATES}


def test_max_target_drift_makes_far_targets_detection_only_and_leaves_test_alone(tmp_path, splits):

    from srllm_guard.pipeline import drift

    checked = build_splits(write_extra_sources(tmp_path / "data"), replace(MIX, max_target_drift=0.5))
    assert [(e.text, e.biased, e.rewrite) for e in checked.test] == [(e.text, e.biased, e.rewrite)
                                                                      for e in splits.test]
    assert [(e.text, e.biased) for e in checked.train] == [(e.text, e.biased) for e in splits.train]
    far = [e for e in splits.train + splits.dev if e.rewrite and drift(e.text, e.rewrite) > 0.5]
    assert far and sum(checked.manifest["dropped"]["max_target_drift"].values()) == len(far)
    assert all(e.rewrite is None or drift(e.text, e.rewrite) <= 0.5 for e in checked.train + checked.dev)
    kept = {(e.text, e.rewrite) for e in splits.train if e.rewrite and drift(e.text, e.rewrite) <= 0.5}
    assert kept and kept <= {(e.text, e.rewrite) for e in checked.train}
    with pytest.raises(ConfigError, match="max_target_drift is a drift"):
        build_splits(tmp_path / "data", replace(MIX, max_target_drift=0.0))


def test_checked_apart_puts_the_items_whose_target_the_checked_rule_changed_under_their_own_source(tmp_path):

    from trainers.mix import CHECKED_SOURCE

    root = write_extra_sources(tmp_path / "data")
    mix = replace(MIX, functional_cap=400, rewrite_style="checked")
    plain, apart = build_splits(root, mix), build_splits(root, replace(mix, checked_apart=True))
    reference = build_splits(root, replace(mix, rewrite_style="reference"))
    for name in ("train", "dev", "test"):
        a, b = getattr(plain, name), getattr(apart, name)
        assert [(e.text, e.biased, e.rewrite) for e in a] == [(e.text, e.biased, e.rewrite) for e in b]
    assert plain.test == apart.test
    target = {e.text: e.rewrite for e in reference.train}
    moved = [e for e in apart.train if e.source == CHECKED_SOURCE]
    assert moved and CHECKED_SOURCE in TEMPLATED_SOURCES
    assert all(e.biased and e.rewrite != target[e.text] for e in moved)
    kinds = {m.functionality for m in moved}
    stayed = [e for e in apart.train if e.source == "functional" and e.functionality in kinds]
    assert stayed and all(e.rewrite == target[e.text] for e in stayed)
    with pytest.raises(ConfigError, match="set mix.rewrite_style: checked"):
        build_splits(root, replace(MIX, checked_apart=True))


def test_rewrite_avoid_changes_training_targets_only_and_names_a_typo(tmp_path):
    polite = "{G} are individuals, and generalizing about them is unfair."
    root = write_extra_sources(tmp_path / "data")
    plain = build_splits(root, replace(MIX, functional_cap=400))
    avoided = build_splits(root, replace(MIX, functional_cap=400, rewrite_avoid=[polite]))
    assert avoided.test == plain.test
    for name in ("train", "dev", "test"):
        assert [e.text for e in getattr(avoided, name)] == [e.text for e in getattr(plain, name)]
    ends = "are individuals, and generalizing about them is unfair."
    before = [e for e in plain.train if e.rewrite and e.rewrite.endswith(ends)]
    assert before and {e.source for e in before} & {"functional", "seegull"}
    assert not [e for e in avoided.train if e.rewrite and e.rewrite.endswith(ends)]
    kept = [e for e in avoided.test if e.rewrite and e.rewrite.endswith(ends)]
    assert kept and kept == [e for e in plain.test if e.rewrite and e.rewrite.endswith(ends)]  # the test keeps it
    with pytest.raises(ConfigError, match="mix.rewrite_avoid names phrasings no template offers"):
        build_splits(root, replace(MIX, rewrite_avoid=["Women are individuals."]))


def test_affirmed_copies_add_a_negative_word_tail_to_a_templated_statement_and_keep_its_label(tmp_path):

    from srllm_guard.eval import threats
    from trainers.mix import AFFIRMED_FAMILIES, CLAIM_TAILS, THREAT_TAILS

    base = replace(MIX, threats=40, threats_veiled=True)
    plain = build_splits(write_extra_sources(tmp_path / "a"), base)
    made = build_splits(write_extra_sources(tmp_path / "b"), replace(base, affirmed_share=1.0))
    assert [e.text for e in made.test] == [e.text for e in plain.test] and made.dev == plain.dev
    copies = [e for e in made.train if e.source == "affirmed"]
    assert copies and made.manifest["dropped"]["affirmed"]["added"] == len(copies)
    statements = {e.text[:-1]: e for e in plain.train if e.text.endswith(".")}
    seen = Counter()
    for copy in copies:
        tail = next(t for t in THREAT_TAILS + CLAIM_TAILS if copy.text.endswith(t))
        source = statements[copy.text[: -len(tail)]]
        assert source.source in {"functional", "threats"} and source.family in AFFIRMED_FAMILIES
        assert copy.biased == source.biased and copy.rewrite is None
        assert (tail in THREAT_TAILS) == (source.biased and source.family == "threat")
        seen[copy.functionality, copy.biased] += 1
    assert {("affirmed:threat", True), ("affirmed:threat_lookalike", False)} <= set(seen)
    assert any(f != "affirmed:threat" and b for f, b in seen)  # a stereotype family too
    # the held-out frame of the evaluation and the hand-written check keep their tails unseen
    held = [t for tid, t in threats.TEMPLATES + threats.VEILED if "stop me" in t]
    assert held and not any("stop me" in t for t in THREAT_TAILS + CLAIM_TAILS)
    # without the share nothing moves
    assert [e.text for e in build_splits(write_extra_sources(tmp_path / "c"), base).train] == \
        [e.text for e in plain.train]
