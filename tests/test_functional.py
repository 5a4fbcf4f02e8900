"""The functional suite: templates fill cleanly, the split keeps held-out parts out of training, rewrites
follow the register the guard accepts, obfuscation disguises without relabelling, and the judgement report's
pieces compute what they claim. No model is loaded here."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from srllm_guard.config import GuardConfig
from srllm_guard.eval import functional as F
from srllm_guard.eval import judgement as J
from srllm_guard.eval.lexicon import GROUPS, POSITIVE, Group
from srllm_guard.eval.templates import BIASED_FUNCTIONALITIES, DEFAULT_REWRITES, FUNCTIONALITIES, TEMPLATES
from srllm_guard.pipeline import drift


@pytest.fixture(scope="module")
def train_side():
    return F.generate(GROUPS, side="train", per_group=1)


@pytest.fixture(scope="module")
def test_side():
    return F.generate(GROUPS, side="test", per_group=1)


def test_template_ids_are_unique_and_families_known():
    ids = [t.id for t in TEMPLATES]
    assert len(ids) == len(set(ids))
    assert {t.functionality for t in TEMPLATES} == set(FUNCTIONALITIES)
    assert set(DEFAULT_REWRITES) == set(BIASED_FUNCTIONALITIES)


def test_every_item_is_filled_and_labelled_by_its_family(train_side, test_side):
    for item in train_side + test_side:
        assert "{" not in item.text and "}" not in item.text, item.text
        assert item.text[0].isupper() or not item.text[0].isalpha(), item.text
        assert item.biased == FUNCTIONALITIES[item.functionality]
        assert (item.rewrite is not None) == item.biased
        assert item.rewrite is None or "{" not in item.rewrite
    assert len({i.text for i in train_side}) == len(train_side)  # deduplicated


def test_split_keeps_held_out_groups_templates_and_attributes_out_of_training(train_side, test_side):
    assert all(not i.held_out for i in train_side)
    assert all(i.held_out for i in test_side)
    held_groups = {g.key for g in GROUPS if F.held_out("group", g.key)}
    assert held_groups and not any(i.group in held_groups for i in train_side)
    # every spelling of a held-out group is held out: no train item names any of its plurals
    plurals = {g.plural.casefold() for g in GROUPS if g.key in held_groups}
    for item in train_side:
        if item.group is not None:
            text = item.text.casefold()
            for own in (g.plural.casefold() for g in GROUPS if g.key == item.group):
                text = text.replace(own, " ")  # "Native Americans" names its own group, not Americans
            assert not any(re.search(rf"\b{re.escape(p)}\b", text) for p in plurals), item.text
    held_templates = {t.id for t in TEMPLATES if t.test_only or F.held_out("template", t.id)}
    assert not any(i.template in held_templates for i in train_side)
    assert {t.id for t in TEMPLATES if t.test_only} <= {i.template for i in test_side}
    held_attributes = {i.attribute for i in test_side if "attribute" in i.held_out}
    assert held_attributes and not any(i.attribute in held_attributes for i in train_side)
    # the split is a function of the keys: the same on every call
    assert F.generate(GROUPS[:5], side="train", per_group=1) == F.generate(GROUPS[:5], side="train", per_group=1)


def test_split_shares_are_near_their_targets():
    keys = sorted({g.key for g in GROUPS})
    share = sum(F.held_out("group", k) for k in keys) / len(keys)
    assert 0.08 < share < 0.35, share
    share = sum(F.held_out("template", t.id) for t in TEMPLATES) / len(TEMPLATES)
    assert 0.15 < share < 0.35, share


def test_every_functionality_has_held_out_items_of_each_kind(test_side):
    kinds = Counter((i.functionality, part) for i in test_side for part in i.held_out)
    for functionality in FUNCTIONALITIES:
        assert kinds[(functionality, "template")] > 0, functionality
        if functionality not in ("profanity_untargeted",):
            assert kinds[(functionality, "group")] > 0 or functionality == "individual", functionality


def test_rewrites_drop_group_or_attribute_and_stay_within_the_guards_drift(train_side):
    group_words = {}
    for g in GROUPS:
        group_words.setdefault(g.key, set()).update(w for w in re.findall(r"[a-z]+", g.plural.casefold())
                                                      if w not in {"people", "the", "with"})
    biased = [i for i in train_side if i.biased and i.rewrite]
    asserting = [i for i in biased if i.functionality in ("stereotype", "stereotype_polite")
                 and J.still_asserts(i, i.rewrite, group_words)]
    assert not asserting, asserting[:3]
    drifting = [i for i in biased if drift(i.text, i.rewrite) > 0.9]
    assert len(drifting) / len(biased) < 0.08


def test_frame_rewrites_key_real_templates_use_their_slots_and_never_keep_group_and_attribute():
    from srllm_guard.eval.templates_frame import FRAME_REWRITES

    by_text = {t.text: t for t in TEMPLATES}
    assert set(FRAME_REWRITES) <= set(by_text)
    for text, rewrites in FRAME_REWRITES.items():
        template = by_text[text]
        assert FUNCTIONALITIES[template.functionality] and not template.test_only, text
        slots = set(F._SLOT.findall(text))
        for rewrite in rewrites:
            used = set(F._SLOT.findall(rewrite))
            assert used <= slots, (text, rewrite)
            if template.functionality in ("stereotype", "stereotype_polite", "dehumanisation"):
                assert not (used & {"G", "one", "adj"} and used & {"X", "A", "A1", "Xs", "D"}), rewrite


def test_frame_style_changes_only_the_rewrites_of_the_templates_it_covers(train_side):
    framed = F.generate(GROUPS, side="train", per_group=1, rewrite_style="frame")
    assert [i.text for i in framed] == [i.text for i in train_side]
    changed = [(a, b) for a, b in zip(train_side, framed) if a.rewrite != b.rewrite]
    assert changed and all(b.functionality != "denial" for _, b in changed)
    group_words = {}
    for g in GROUPS:
        group_words.setdefault(g.key, set()).update(w for w in re.findall(r"[a-z]+", g.plural.casefold())
                                                      if w not in {"people", "the", "with"})
    assert not [b for b in framed if b.biased and b.rewrite and J.still_asserts(b, b.rewrite, group_words)
                and b.functionality in ("stereotype", "stereotype_polite", "dehumanisation")]
    with pytest.raises(ValueError, match="rewrite style"):
        F.generate(GROUPS[:2], side="train", per_group=1, rewrite_style="fancy")


def test_checked_style_replaces_only_the_targets_the_guard_would_reject(train_side):
    assert F.TARGET_MAX_DRIFT == GuardConfig().max_drift
    checked = F.generate(GROUPS, side="train", per_group=1, rewrite_style="checked")
    assert [i.text for i in checked] == [i.text for i in train_side]
    changed = 0
    for ref, new in zip(train_side, checked):
        if ref.rewrite is None or drift(ref.text, ref.rewrite) <= F.TARGET_MAX_DRIFT:
            assert new.rewrite == ref.rewrite, ref.text  # and the draws after it are those of reference
        elif new.rewrite != ref.rewrite:
            changed += 1
            assert drift(new.text, new.rewrite) <= F.TARGET_MAX_DRIFT, (new.text, new.rewrite)
    rejected = [i for i in train_side if i.rewrite and drift(i.text, i.rewrite) > F.TARGET_MAX_DRIFT]
    still = [i for i in checked if i.rewrite and drift(i.text, i.rewrite) > F.TARGET_MAX_DRIFT]
    assert rejected and changed and len(still) < len(rejected) / 10
    hiring = [i for i in checked if i.text.endswith("so hiring them is a mistake.")]
    assert hiring and all(drift(i.text, i.rewrite) <= F.TARGET_MAX_DRIFT for i in hiring)
    # each item says whether the rule changed its target (what mix.checked_apart sets apart)
    assert [new.checked for new in checked] == [new.rewrite != ref.rewrite for ref, new in zip(train_side, checked)]
    assert sum(i.checked for i in checked) == changed and not any(i.checked for i in train_side)


def test_avoided_phrasings_are_drawn_only_where_a_template_offers_nothing_else(train_side):
    hurt = "I am angry, but no one, including {G}, should be hurt."
    avoided = F.generate(GROUPS, side="train", per_group=1, avoid={hurt})
    assert [i.text for i in avoided] == [i.text for i in train_side]
    pattern = re.compile(r"I am angry, but no one, including .+, should be hurt\.$")
    before = [i for i in train_side if i.rewrite and pattern.match(i.rewrite)]
    assert before and all(i.functionality == "threat" for i in before)
    by_text = {i.text: i for i in avoided}
    templates = {t.id: t for t in TEMPLATES}
    for old in before:
        new = by_text[old.text]
        assert new.rewrite and not pattern.match(new.rewrite), new.text
        others = [re.sub(r"\\\{\w+\\\}", ".+", re.escape(r)) for r in F.rewrite_options(templates[old.template])
                  if r != hurt]
        assert any(re.fullmatch(o, new.rewrite) for o in others), new.rewrite
    # every item whose draw could not have been the avoided phrasing keeps its rewrite
    untouched = [(a, b) for a, b in zip(train_side, avoided) if a.functionality != "threat"]
    assert untouched and all(a.rewrite == b.rewrite for a, b in untouched)


def test_cap_selects_a_stable_subset_per_functionality():
    full = F.generate(GROUPS, side="train", per_group=1)
    capped = F.generate(GROUPS, side="train", per_group=1, cap=20)
    counts = Counter(i.functionality for i in capped)
    assert max(counts.values()) <= 20
    assert set(i.text for i in capped) <= set(i.text for i in full)
    # an item made through the cap is the same item (same rewrite) as without it
    by_text = {i.text: i for i in full}
    assert all(by_text[i.text] == i for i in capped)


@pytest.mark.parametrize("method", F.OBFUSCATIONS)
def test_obfuscation_disguises_the_key_word_and_keeps_label_and_rewrite(method, test_side):
    item = next(i for i in test_side if i.functionality == "stereotype" and i.attribute == "lazy") if any(
        i.attribute == "lazy" for i in test_side if i.functionality == "stereotype") else next(
        i for i in test_side if i.functionality == "stereotype")
    disguised = F.obfuscate(item, method)
    assert disguised.text != item.text
    assert (disguised.biased, disguised.rewrite, disguised.obfuscation) == (item.biased, item.rewrite, method)
    assert F.obfuscate(item, method) == disguised  # deterministic
    with pytest.raises(ValueError, match="unknown obfuscation"):
        F.obfuscate(item, "rot13")


def test_article_and_fill():
    assert F.article("Asian person") == "an Asian person"
    assert F.article("university student") == "a university student"
    group = Group("x", "old people", "an old person", "elderly", "age")
    assert F.fill("{G} are {X}.", group, {"X": "kind"}) == "Old people are kind."


def test_functional_rates_pairs_obfuscated_items_with_their_plain_form():
    base = F.SuiteItem("Men are lazy.", True, "r", "stereotype", "st01", "man", "lazy", ("group",))
    other = F.SuiteItem("Men are rude.", True, "r", "stereotype", "st01", "man", "rude", ("group",))
    items = [base, other, F.obfuscate(base, "leet"), F.obfuscate(other, "leet")]
    rates = J.functional_rates(items, [0.9, 0.9, 0.9, 0.1], 0.5)
    assert rates["by_functionality"]["stereotype"] == {"n": 2, "flagged": 2, "rate": 1.0,
                                                       "ci95": J.wilson(2, 2)}
    assert rates["by_held_out_part"]["group"]["stereotype"]["rate"] == 1.0
    assert rates["obfuscation"]["leet"] == {"n": 2, "plain_rate": 1.0, "obfuscated_rate": 0.5, "gap": 0.5}
    asked = F.SuiteItem("Why are men so lazy?", True, "r", "stereotype", "st10", "man", "lazy", ())
    rates = J.functional_rates([base, asked, F.obfuscate(asked, "leet")], [0.9, 0.2, 0.9], 0.5)
    assert rates["questions"] == {"stereotype": {"n": 1, "flagged": 0, "rate": 0.0, "ci95": J.wilson(0, 1)}}


def test_question_batch_is_asked_split_like_the_others_and_keeps_rewrites_short(train_side, test_side):
    from srllm_guard.eval.templates import QUESTION_BATCH
    from srllm_guard.eval.templates_extra import ASKED, FRESH

    texts = {e if isinstance(e, str) else e[0] for family in ASKED.values() for e in family}
    asked = [t for t in TEMPLATES if t.text in texts]
    assert len(asked) == len(texts) and all("?" in t.text for t in asked)
    assert not any(t.test_only or t.id.startswith("z") for t in asked)
    fresh = {e if isinstance(e, str) else e[0] for family in FRESH.values() for e in family}
    assert not texts & fresh  # the fresh question families stay unseen phrasings
    ids = {t.id for t in asked}
    trained = {i.template for i in train_side if i.template in ids}
    held = {i.template for i in test_side if i.template in ids and "template" in i.held_out}
    assert trained and held and not trained & held
    for functionality in ASKED:
        assert functionality in FUNCTIONALITIES
        assert any(i.functionality == functionality and i.template in ids for i in train_side), functionality
    assert {t.id for t in asked} == QUESTION_BATCH
    # a question's rewrite is a statement within the guard's drift limit, as for the other batches
    rewrites = [i for i in train_side if i.template in ids and i.rewrite]
    assert rewrites and sum(drift(i.text, i.rewrite) > 0.9 for i in rewrites) / len(rewrites) < 0.08


def test_parity_items_fill_the_same_pairs_for_every_group_and_spread_is_max_minus_min():
    items = J.parity_items(n_templates=3, n_attributes=4)
    per_group = Counter(i.group for i in items)
    assert len(set(per_group.values())) == 1 and set(per_group.values()) == {12}
    assert any(i.majority for i in items)
    scores = [0.9 if i.group == "man" else 0.1 if i.group == "woman" else 0.6 for i in items]
    report = J.parity_rates(items, scores, 0.5)
    assert report["spread"] == 1.0 and report["lowest"][0] == "woman" and report["highest"][0] == "man"


def test_still_asserts_needs_both_the_group_and_the_whole_attribute():
    item = F.SuiteItem("Women are bad at math.", True, None, "stereotype", "st01", "woman", "bad at math", ())
    words = {"woman": {"women", "woman"}}
    assert J.still_asserts(item, "Women are not good at math, they are bad at math.", words)
    assert not J.still_asserts(item, "Anyone can be bad at math.", words)
    assert not J.still_asserts(item, "Women are individuals.", words)
    denial = F.make_item(next(t for t in TEMPLATES if t.id == "dn01"), GROUPS[0],
                         next(a for a in POSITIVE if a.word == "good at math"))
    assert denial.text == "Women are not good at math."
    assert J.still_asserts(denial, "Women could not be good at math, it's not in them.", words)
    assert not J.still_asserts(denial, "Women can be good at math, like anyone else.", words)


def test_rewrite_outcomes_count_fallbacks_and_reasons():
    item = F.SuiteItem("Men are lazy.", True, None, "stereotype", "st01", "man", "lazy", ())
    results = [J.RewriteResult(item, "rewrite", "Anyone can be lazy.", []),
               J.RewriteResult(item, "fallback", "[removed]", ["recheck_failed"]),
               J.RewriteResult(item, "rewrite", "Men are lazy, really.", [])]
    out = J.rewrite_outcomes(results, judge=None, embedder=None)
    assert out["accepted_rewrite_share"] == pytest.approx(2 / 3)
    assert out["fallback_reasons"] == {"recheck_failed": 1}
    assert out["still_asserts"]["asserting"] == 1 and out["still_asserts"]["checked"] == 2
    assert out["rejected_kinds"] == {}


def test_rewrite_outcomes_say_what_the_rejected_rewrites_were():
    item = F.SuiteItem("Men are lazy. The bus is late.", True, None, "stereotype", "st01", "man", "lazy", ())
    piece = "Men are lazy."
    results = [J.RewriteResult(item, "fallback", "[removed] The bus is late.", ["recheck_failed"],
                               [(piece, "men are LAZY")]),
               J.RewriteResult(item, "fallback", "[removed] The bus is late.", ["recheck_failed"],
                               [(piece, "Men are so lazy.")]),
               J.RewriteResult(item, "fallback", "[removed] The bus is late.", ["drift"],
                               [(piece, "Buses are often late.")]),
               J.RewriteResult(item, "rewrite", "Anyone can be lazy. The bus is late.", [])]
    # compared with the piece it replaced, not the whole text
    assert J.rewrite_outcomes(results, judge=None, embedder=None)["rejected_kinds"] == {
        "copy": 1, "near copy": 1, "other": 1}
    unknown = results + [J.RewriteResult(item, "fallback", "[removed]", ["drift"], None)]
    assert J.rewrite_outcomes(unknown, judge=None, embedder=None)["rejected_kinds"] is None


def test_rewrite_outcomes_read_the_reference_rewrites_of_the_same_items_with_the_same_instruments():
    import numpy as np

    class Judge:  # calls anything with "lazy" or "safe" biased: a judge that misreads a benign reference
        def prob_biased(self, texts):
            return [0.9 if "lazy" in t or "safe" in t else 0.1 for t in texts]

    class Embedder:  # one dimension per known word
        vocab = ("men", "lazy", "anyone", "can", "be", "are", "safe")

        def encode(self, texts):
            x = np.array([[float(w in t.lower().strip(".").split()) for w in self.vocab] for t in texts]) + 1e-9
            return x / np.linalg.norm(x, axis=1, keepdims=True)

    lazy = F.SuiteItem("Men are lazy.", True, "Men are safe.", "stereotype", "st01", "man", "lazy", ())
    bare = F.SuiteItem("Men are lazy.", True, None, "natural", "jigsaw", None, None, ())  # no reference
    results = [J.RewriteResult(lazy, "rewrite", "Anyone can be lazy.", []),
               J.RewriteResult(lazy, "fallback", "[removed]", ["recheck_failed"]),
               J.RewriteResult(bare, "rewrite", "Men are.", [])]
    ref = J.rewrite_outcomes(results, judge=Judge(), embedder=Embedder())["references"]
    # only the rewritten items that have a reference, and the guard's outputs on exactly those
    assert ref["n"] == 1
    assert ref["judge_not_biased_share"] == 0.0 and ref["judge_not_biased_share_of_outputs"] == 0.0
    assert ref["sim_median"] == pytest.approx(2 / 3)
    assert ref["sim_median_of_outputs"] == pytest.approx(1 / (2 * 3 ** 0.5))
    assert J.rewrite_outcomes(results[1:2], judge=Judge(), embedder=None)["references"] == {"n": 0}


def test_scorer_flags_a_text_by_its_worst_sentence_and_caches(tmp_path):
    from conftest import FakeBackend
    from srllm_guard.config import GuardConfig
    from srllm_guard.eval.cache import ResultCache

    backend = FakeBackend()
    cache = ResultCache(tmp_path / "c.jsonl")
    scorer = J.Scorer(backend, GuardConfig(), cache=cache)
    assert scorer(["All fine here. They are lazy.", "All fine here."]) == [0.9, 0.1]
    calls = len(backend.calls)
    again = J.Scorer(backend, GuardConfig(), cache=ResultCache(tmp_path / "c.jsonl"))
    assert again(["All fine here. They are lazy."]) == [0.9] and len(backend.calls) == calls


def test_scorer_scores_the_way_the_pipeline_does():
    """The evaluation's scores are the pipeline's: ``check_many`` without rewrites over the sentences, batched,
    then the full model for every sentence it flags (in the guard, the rewrite phase's full check decides: a
    screen's flag is never the verdict); a text's score is its worst sentence's."""
    from conftest import FakeBackend
    from srllm_guard.backends.base import Check
    from srllm_guard.config import GuardConfig
    from srllm_guard.pipeline import guard_text

    class Screened(FakeBackend):  # the screen clears "fine" and flags "odd" sentences (the full model disagrees)
        def check_many(self, texts, *, threshold, rewrite=True, max_new_tokens=256):
            self.batches.append((list(texts), threshold))
            return [Check(score=0.01, screened=True) if "fine" in t else Check(score=0.99, screened=True) if "odd" in t
                    else self.check(t, threshold=threshold, rewrite=rewrite) for t in texts]

    texts = ["All fine here. They are lazy.", "An odd line.", "They are lazy."]
    backend = Screened()
    scores = J.Scorer(backend, GuardConfig())(texts)
    assert scores == [0.9, 0.1, 0.9]
    assert backend.batches == [(["All fine here.", "They are lazy.", "An odd line."], 0.5)]  # each sentence once
    assert "All fine here." not in [text for text, _ in backend.calls] and not any(r for _, r in backend.calls)
    assert scores == [guard_text(t, Screened(), GuardConfig()).score for t in texts]


def test_guard_cache_key_holds_every_setting_that_changes_the_guards_answer():
    from trainers.evaluate import guard_key

    base = GuardConfig(timeout_s=None, retries=0)
    key = guard_key("scorer", base)
    changed = [base.merged(rewrite_attempts=2), base.merged(fallback="flag"), base.merged(max_drift=0.5),
               base.merged(recheck_threshold=0.4), base.merged(max_new_tokens=64), base.merged(redaction_text="x")]
    assert len({key, *(guard_key("scorer", c) for c in changed)}) == 1 + len(changed)
    assert guard_key("other-model", base) != key
    # settings that only bound waiting do not change an answer, so a cached one stays valid
    assert guard_key("scorer", base.merged(timeout_s=5.0, retries=3, n_threads=2)) == key
    # a faithfulness check changes answers, and so does its threshold; without a check the threshold is not read
    # (so the keys of evaluations run before it existed stay valid)
    assert guard_key("scorer", base.merged(min_faithfulness=0.2)) == key
    checked = guard_key("scorer", base, "ab" * 32)
    assert checked != key and guard_key("scorer", base, "cd" * 32) != checked
    assert guard_key("scorer", base.merged(min_faithfulness=0.2), "ab" * 32) != checked


def test_answered_items_follow_held_out_questions_and_rates_sum_per_expected_label():
    from srllm_guard.eval.answered import ANSWERS, answered_items, answered_rates
    from srllm_guard.eval.templates import QUESTION_BATCH

    items = answered_items(GROUPS, per_functionality=5)
    assert items and all(i.source == "answered" and i.held_out and i.template in QUESTION_BATCH for i in items)
    for item in items:
        family, kind = item.functionality.rsplit(":", 1)
        assert any(item.text.endswith("? " + a) for a in ANSWERS[kind])
        assert item.biased == (family in BIASED_FUNCTIONALITIES and (kind != "rejection" or family == "threat"))
        # a question that is not biased is never followed by an agreement, which could re-assert what it rejects
        assert kind in (("rejection", "agreement", "neutral") if family in BIASED_FUNCTIONALITIES
                        else ("interest", "neutral"))
    rates = answered_rates(items, [1.0 if i.biased else 0.0 for i in items], 0.5)
    summary = rates["summary"]
    assert summary["biased_then_agreement"]["rate"] == summary["biased_then_neutral"]["rate"] == 1.0
    assert summary["biased_then_rejection"]["rate"] == summary["not_biased_then_any"]["rate"] == 0.0
    by = rates["by_functionality"]
    assert sum(r["n"] for r in summary.values()) == len(items) == sum(r["n"] for r in by.values())
    # every rate carries its 95% interval, which holds the rate
    assert all(r["ci95"][0] <= r["rate"] <= r["ci95"][1] for r in [*summary.values(), *by.values()])


def test_rates_carry_the_wilson_interval_of_their_count():
    from srllm_guard.eval.judgement import rate, wilson

    # the textbook Wilson score interval: centre (k + z^2/2) / (n + z^2), half-width z/(n + z^2) sqrt(k(n-k)/n + z^2/4)
    z = 1.959963984540054
    for k, n in ((7, 40), (3, 40), (0, 25), (120, 120), (57, 300)):
        centre = (k + z * z / 2) / (n + z * z)
        half = z / (n + z * z) * (k * (n - k) / n + z * z / 4) ** 0.5
        low, high = wilson(k, n)
        assert low == pytest.approx(centre - half, abs=1e-9) and high == pytest.approx(centre + half, abs=1e-9)
    assert wilson(0, 0) is None
    made = rate([True] * 7 + [False] * 33)
    assert (made["n"], made["flagged"], made["rate"]) == (40, 7, 0.175)
    assert made["ci95"] == pytest.approx((0.0875, 0.3195), abs=5e-4)
    assert rate([])["rate"] is None and rate([])["ci95"] is None
