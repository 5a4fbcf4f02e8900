"""trainers.data: normalisation, the readers, deterministic leak-free splits, and the errors that name the fix.

All tests but the last build their own tiny data folder in tmp_path; the last (marked ``data``) runs on
../shared/data and skips when it is absent.
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest

from srllm_guard.errors import DataError
from trainers.data import (
    DataMix,
    Example,
    build_splits,
    normalize,
    read_jsonl,
    read_paradetox,
    read_srllm_csv,
    read_wnc,
    write_jsonl,
)

SRLLM_HEADER = ["biased_text", "dimension", "biased_words", "aspect", "label", "Done (x)", "debiased_text", "comments"]


# ------------------------------------------------------------------------------------------------ fixtures

def write_srllm(path: Path, pairs: list[tuple[str, str]], comments: dict[int, str] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(SRLLM_HEADER)
        for i, (biased, debiased) in enumerate(pairs):
            note = (comments or {}).get(i, "")
            writer.writerow([biased, "toxicity", "['x']", "Ableism", "Slightly Biased", "x", debiased, note])
    return path


def write_paradetox(path: Path, rows: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter="\t")
        writer.writerow(["toxic", "neutral1", "neutral2", "neutral3"])
        writer.writerows(rows)
    return path


def write_wnc(folder: Path, pairs: list[tuple[str, str]]) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    pre, post = folder / "pre.train", folder / "post.train"
    pre.write_text("".join(a + "\n" for a, _ in pairs), encoding="utf-8")
    post.write_text("".join(b + "\n" for _, b in pairs), encoding="utf-8")
    return pre, post


def srllm_pairs(n: int, tag: str = "t") -> list[tuple[str, str]]:
    return [(f"{tag}{i} : those people are all lazy , are n't they ?", f"{tag}{i}: some people work hard.")
            for i in range(n)]


def wnc_pairs(n: int) -> list[tuple[str, str]]:
    return [(f"w{i} the brilliant mayor spoke .", f"w{i} the mayor spoke .") for i in range(n)]


def make_data_dir(root: Path, *, n_srllm: int = 40, n_pd: int = 20, n_wnc: int = 20, n_infer: int = 5) -> Path:
    write_srllm(root / "sr_llm_inhouse" / "train_500.csv", srllm_pairs(n_srllm))
    write_srllm(root / "sr_llm_inhouse" / "infer_50.csv", srllm_pairs(n_infer, tag="inf"))
    (root / "sr_llm_inhouse" / "counterfactual-inhouse.csv").write_bytes(b"\xff\xfe never read \x00")
    write_paradetox(root / "paradetox" / "paradetox.tsv",
                    [[f"p{i} you are a stupid idiot !", f"p{i} you are wrong.", f"P{i} I disagree with you.", ""]
                     for i in range(n_pd)])
    write_wnc(root / "wnc_sample", wnc_pairs(n_wnc))
    return root


FULL = DataMix(srllm=None, paradetox=None, wnc=None)


def split_of(splits) -> dict[tuple[str, bool], str]:
    return {(ex.text, ex.biased): name for name in ("train", "dev", "test") for ex in getattr(splits, name)}


# ----------------------------------------------------------------------------------------------- normalize

@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("About to go , wish me luck !", "About to go, wish me luck!"),
        ("I do n't know . You 're right ; it 's fine : ok ?", "I don't know. You're right; it's fine: ok?"),
        ("I 'm sure we 've , we 'll , we 'd", "I'm sure we've, we'll, we'd"),
        ("ca n't and wo n't", "can't and won't"),
        ("a test ( x ) here .", "a test (x) here."),
        ('he said " hello there " to me .', 'he said "hello there" to me.'),
        ("`` I base my votes on it , '' she said .", '"I base my votes on it," she said.'),
        ("sharyn alfonsi is an on - air correspondent .", "sharyn alfonsi is an on-air correspondent."),
        ("Simple - Russia did it, we were elected - to act.", "Simple - Russia did it, we were elected - to act."),
        ('"This is not about reasonableness."', "This is not about reasonableness."),
        ('"A," she said. "B."', '"A," she said. "B."'),
        ('"A" and "B"', '"A" and "B"'),
        ("their performance doesn't sound great.''", "their performance doesn't sound great."),
        (": : : This has nothing to do with it .", "This has nothing to do with it."),
        (": : : : : :Stop stalking me", "Stop stalking me"),
        ("  many\n\n spaces\there  ", "many spaces here"),
        ("lubomirski (1616 & ndash; 1667) .", "lubomirski (1616 – 1667)."),
        ("the brilliant mayor spoke .", "the brilliant mayor spoke."),  # case is left alone
        ("“Curly” quotes", '"Curly" quotes'),
    ],
)
def test_normalize(raw, expected):
    assert normalize(raw) == expected


@pytest.mark.parametrize("raw", ['" a "', ": : : x", "``x''", '"1"', "( a )", "' s", "- -  a  - -", "& amp; b", ": 1"])
def test_normalize_never_empties_meaningful_text(raw):
    out = normalize(raw)
    assert out and any(c.isalnum() for c in out)


@pytest.mark.parametrize("raw", ["", "   ", ": : :", '""', '"'])
def test_normalize_of_junk_is_empty(raw):
    assert normalize(raw) == ""


def test_normalize_is_idempotent():
    for raw in ["I do n't know , ( really ) .", '`` hi , \'\' he said .', ': : : on - air !']:
        assert normalize(normalize(raw)) == normalize(raw)


# ------------------------------------------------------------------------------------------------- readers

def test_read_srllm_csv(tmp_path):
    path = write_srllm(tmp_path / "s.csv", [
        ("Old people are useless .", '"Older people have a lot to offer."'),
        ("Line one ,\nline two of a quoted field .", "Line one,\nline two, kindly."),
        ("Old people are useless .", "A duplicate biased text."),   # duplicate -> dropped
        ("Nothing here", "   "),                                  # empty rewrite -> dropped
        ("Marked row", "TOREMOVE"),                                # annotator's removal marker
        ("Doubted row", "A rewrite."),                             # 'remove ?' comment -> dropped
    ], comments={5: "remove ?"})
    examples = read_srllm_csv(path)
    assert [(e.text, e.biased, e.rewrite) for e in examples] == [
        ("Old people are useless.", True, "Older people have a lot to offer."),
        ("Older people have a lot to offer.", False, None),
        ("Line one, line two of a quoted field.", True, "Line one, line two, kindly."),
        ("Line one, line two, kindly.", False, None),
    ]
    assert {e.source for e in examples} == {"srllm"}
    assert examples[0].group == examples[1].group != examples[2].group


def test_read_paradetox(tmp_path):
    path = write_paradetox(tmp_path / "p.tsv", [
        ["you are a moron !", "", "You are wrong.", "you are wrong ."],    # empty cell; near-duplicate rewrites
        ["shut up , idiot", "Please stop.", "Please be quiet.", ""],
        ["this is fine .", "This is fine.", "", ""],                        # rewrite equals text -> dropped
        ["", "orphan rewrite", "", ""],                                     # empty toxic -> dropped
    ])
    examples = read_paradetox(path)
    assert [(e.text, e.biased, e.rewrite) for e in examples] == [
        ("you are a moron!", True, "You are wrong."),
        ("You are wrong.", False, None),
        ("shut up, idiot", True, "Please stop."),
        ("Please stop.", False, None),
        ("Please be quiet.", False, None),
    ]
    assert len({e.group for e in examples}) == 2


def test_read_paradetox_limit_is_seeded_and_stable(tmp_path):
    path = write_paradetox(tmp_path / "p.tsv", [[f"bad {i} !", f"good {i}.", "", ""] for i in range(30)])
    first = read_paradetox(path, limit=5, seed=1)
    assert sum(e.biased for e in first) == 5
    assert first == read_paradetox(path, limit=5, seed=1)
    assert first != read_paradetox(path, limit=5, seed=2)


def test_read_wnc(tmp_path):
    pre, post = write_wnc(tmp_path, [("the great leader spoke .", "the leader spoke ."), ("same .", "same .")])
    examples = read_wnc(pre, post)
    assert [(e.text, e.biased, e.rewrite, e.source) for e in examples] == [
        ("the great leader spoke.", True, "the leader spoke.", "wnc"),
        ("the leader spoke.", False, None, "wnc"),
    ]


def test_read_wnc_rejects_misaligned_files(tmp_path):
    pre, post = write_wnc(tmp_path, [("a b .", "a .")])
    post.write_text("a .\nextra .\n", encoding="utf-8")
    with pytest.raises(DataError, match="line-aligned"):
        read_wnc(pre, post)


def test_jsonl_round_trip(tmp_path):
    examples = [Example("t é", True, "r", "srllm", "g"), Example("r", False, None, "srllm", "g")]
    path = write_jsonl(examples, tmp_path / "deep" / "x.jsonl")
    assert read_jsonl(path) == examples


def test_read_jsonl_names_the_bad_line(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps({"text": "a", "biased": True, "rewrite": " ", "source": "s", "group": "g"}) + "\n")
    with pytest.raises(DataError, match=r"x\.jsonl:1: .*empty rewrite"):
        read_jsonl(path)
    # a biased example without a rewrite is a detection-only example: valid, and it round-trips
    path.write_text(json.dumps({"text": "a", "biased": True, "rewrite": None, "source": "s", "group": "g",
                                "functionality": "threat"}) + "\n")
    assert read_jsonl(path) == [Example("a", True, None, "s", "g", "threat")]


# ---------------------------------------------------------------------------------------------- splitting

def test_build_splits_is_deterministic_and_complete(tmp_path):
    root = make_data_dir(tmp_path)
    a, b = build_splits(root, FULL), build_splits(root, FULL)
    assert (a.train, a.dev, a.test) == (b.train, b.dev, b.test)
    assert a.train and a.dev and a.test
    m = a.manifest
    for name in ("train", "dev", "test"):
        assert sum(sum(c.values()) for c in m["counts"][name].values()) == m["totals"][name] == len(getattr(a, name))
    csv_path = root / "sr_llm_inhouse" / "train_500.csv"
    entry = m["files"]["sr_llm_inhouse/train_500.csv"]
    assert entry["sha256"] == hashlib.sha256(csv_path.read_bytes()).hexdigest()
    assert m["seed"] == 0 and m["mix"]["paradetox"] is None
    assert not any("counterfactual" in key for key in m["files"])  # undecodable file there, never opened
    json.dumps(m)  # the manifest is plain JSON


def test_adding_data_does_not_move_existing_items(tmp_path):
    root = make_data_dir(tmp_path / "a")
    before = split_of(build_splits(root, FULL))
    write_srllm(root / "sr_llm_inhouse" / "train_500.csv", srllm_pairs(40) + [("A new , other row .", "A new row.")])
    write_wnc(root / "wnc_sample", wnc_pairs(25))
    after = split_of(build_splits(root, FULL))
    assert len(after) == len(before) + 2 + 10
    assert all(after[key] == split for key, split in before.items())


def test_seed_changes_the_split(tmp_path):
    root = make_data_dir(tmp_path)
    assert split_of(build_splits(root, FULL)) != split_of(build_splits(root, DataMix(paradetox=None, wnc=None, seed=1)))


def test_negated_rewrites_off_makes_antonym_rewrites_detection_only_and_keeps_every_split(tmp_path):
    from dataclasses import replace

    from trainers.mix import negates

    root = make_data_dir(tmp_path)
    write_paradetox(root / "paradetox" / "paradetox.tsv",
                    [[f"p{i} you are a stupid idiot !", f"p{i} you are not smart." if i % 2 else f"p{i} you are wrong.",
                      "", ""] for i in range(20)])
    kept, dropped = build_splits(root, FULL), build_splits(root, replace(FULL, negated_rewrites=False))
    for name in ("train", "dev", "test"):
        assert [(e.text, e.biased) for e in getattr(kept, name)] == [(e.text, e.biased) for e in getattr(dropped, name)]

    def pairs(splits):
        rows = splits.train + splits.dev + splits.test
        return {e.text: e.rewrite for e in rows if e.source == "paradetox" and e.biased}

    rewrites, after = pairs(kept), pairs(dropped)
    negated = sum(negates(t, r) for t, r in rewrites.items() if r)
    assert negated >= 5  # the fixture has antonym rewrites to drop
    assert all(after[t] is None if negates(t, r) else after[t] == r for t, r in rewrites.items() if r)
    assert dropped.manifest["dropped"]["near_copy"]["negation_detection_only"] == negated
    assert not negates("He is not nice, the idiot.", "He is not nice.") and not negates("idiot", "I don't agree.")


def test_infer_rows_only_in_test_and_groups_never_straddle(tmp_path):
    root = make_data_dir(tmp_path)
    splits = build_splits(root, FULL)
    assert {e.source for e in splits.train + splits.dev} <= {"srllm", "paradetox", "wnc"}
    assert sum(e.source == "srllm_infer" for e in splits.test) == 10  # 5 pairs: biased + neutral
    where: dict[str, set[str]] = {}
    for name in ("train", "dev", "test"):
        for ex in getattr(splits, name):
            where.setdefault(ex.group, set()).add(name)
    assert all(len(names) == 1 for names in where.values())


def test_test_texts_are_removed_from_train(tmp_path):
    root = make_data_dir(tmp_path)
    leaked = srllm_pairs(3, tag="inf")  # the infer rows, also pasted into train_500
    write_srllm(root / "sr_llm_inhouse" / "train_500.csv", srllm_pairs(40) + leaked)
    splits = build_splits(root, FULL)
    test_texts = {e.text for e in splits.test}
    assert not test_texts & {e.text for e in splits.train + splits.dev}
    assert splits.manifest["leaks_removed"] >= 1


def test_subsampling_and_no_neutrals(tmp_path):
    root = make_data_dir(tmp_path)
    splits = build_splits(root, DataMix(srllm=10, paradetox=5, wnc=0, neutral_from_rewrites=False))
    pool = splits.train + splits.dev + splits.test
    assert all(e.biased for e in pool)
    assert sum(e.source == "srllm" for e in pool) == 10 and sum(e.source == "paradetox" for e in pool) == 5
    assert "wnc_sample/pre.train" not in splits.manifest["files"]


# ------------------------------------------------------------------------------------------------- errors

def test_missing_data_dir_names_the_flag(tmp_path):
    with pytest.raises(DataError, match=r"nowhere.*--data-dir"):
        build_splits(tmp_path / "nowhere")


def test_missing_file_names_path_and_flag(tmp_path):
    root = make_data_dir(tmp_path)
    (root / "paradetox" / "paradetox.tsv").unlink()
    with pytest.raises(DataError, match=r"paradetox/paradetox\.tsv.*--data-dir.*mix\.paradetox"):
        build_splits(root)
    build_splits(root, DataMix(paradetox=0))  # the fix the message names works


def test_missing_columns_are_named(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("biased_text,label\nsome text,Slightly Biased\n", encoding="utf-8")
    expected = r"bad\.csv lacks required column\(s\) debiased_text; expected .*biased_text, debiased_text"
    with pytest.raises(DataError, match=expected):
        read_srllm_csv(path)
    tsv = tmp_path / "bad.tsv"
    tsv.write_text("text\tneutral1\nx\ty\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"bad\.tsv lacks required column\(s\) toxic"):
        read_paradetox(tsv)


def test_undecodable_file(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("biased_text,debiased_text\nna\xefve text,ok\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"latin\.csv is not valid UTF-8.*re-save"):
        read_srllm_csv(path)


def test_missing_reader_file(tmp_path):
    with pytest.raises(DataError, match=r"not found: .*nope\.tsv"):
        read_paradetox(tmp_path / "nope.tsv")


def test_empty_splits_name_the_split_and_the_fix(tmp_path):
    root = make_data_dir(tmp_path, n_srllm=2, n_pd=0, n_wnc=0, n_infer=1)
    tiny = dict(paradetox=0, wnc=0)
    with pytest.raises(DataError, match=r"the dev split came out empty.*raise mix\.dev_fraction"):
        build_splits(root, DataMix(**tiny, dev_fraction=0.001, test_fraction=0.0))
    with pytest.raises(DataError, match=r"the train split came out empty.*lower mix\.dev_fraction"):
        build_splits(root, DataMix(**tiny, dev_fraction=0.0, test_fraction=0.999))
    splits = build_splits(root, DataMix(**tiny, dev_fraction=0.0, test_fraction=0.0))  # no dev asked: fine
    assert splits.dev == [] and len(splits.train) == 4


# ----------------------------------------------------------------------------------------------- real data

REAL_DATA = Path(__file__).parents[1].parent / "shared" / "data"


@pytest.mark.data
def test_real_data_default_mix():
    if not (REAL_DATA / "sr_llm_inhouse" / "train_500.csv").is_file():
        pytest.skip(f"real data not found at {REAL_DATA} (needs ../shared/data next to the project)")
    splits = build_splits(REAL_DATA)
    m = splits.manifest
    print(json.dumps({k: m[k] for k in ("counts", "totals", "dropped", "leaks_removed")}, indent=1))

    def total(source, label, names=("train", "dev", "test")):
        return sum(m["counts"][n].get(source, {}).get(label, 0) for n in names)

    assert 400 <= total("srllm", "biased") <= 434
    assert total("paradetox", "biased") == 600 and total("wnc", "biased") == 300
    assert total("srllm_infer", "biased", ("test",)) == 53
    assert total("srllm_infer", "biased", ("train", "dev")) == 0
    assert m["totals"]["train"] > 2000 and m["totals"]["dev"] > 50 and m["totals"]["test"] > 200
    seen = [{e.text for e in getattr(splits, n)} for n in ("train", "dev", "test")]
    assert not (seen[0] & seen[1] or seen[0] & seen[2] or seen[1] & seen[2])


# ----------------------------------------------------------------------------------- SR-LLM sentence pairs

def write_srllm_rows(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    """Rows of (biased_text, biased_words as the CSV writes them, debiased_text)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(SRLLM_HEADER)
        for biased, words, debiased in rows:
            writer.writerow([biased, "toxicity", words, "x", "Slightly Biased", "x", debiased, ""])
    return path


def test_srllm_sentence_pairs_align_sentences_and_keep_only_those_with_a_biased_word(tmp_path):
    from trainers.data import srllm_sentence_pairs

    rows = [
        # three sentences, the middle one rewritten: one pair; the first is unchanged, the third has no biased word
        ("The vote is on Monday . Only an idiot would skip it . Bring a friend .", "['idiot']",
         "The vote is on Monday. Please do not skip it. Bring a pal."),
        # two sentences become one: not aligned one to one, nothing taken
        ("You fool . You lost .", "['fool']", "You lost the game."),
        # a two-word biased phrase must be present as words
        ("He is a total moron , sadly . It rained .", "['total moron']", "He is mistaken, sadly. It rained."),
        ("Not on the train side . Idiot .", "['idiot']", "Not on the train side. Please stop."),
        ("Broken words . Jerk .", "not a list [", "Broken words. Please stop."),
    ]
    path = write_srllm_rows(tmp_path / "train_500.csv", rows)
    texts = {normalize(b) for b, _, _ in rows if not b.startswith("Not on")}
    pairs, drops = srllm_sentence_pairs(path, texts)
    assert [(s, r) for _, s, r in pairs] == [("Only an idiot would skip it.", "Please do not skip it."),
                                           ("He is a total moron, sadly.", "He is mistaken, sadly.")]
    assert pairs[0][0] == normalize(rows[0][0])  # the row it came from, for its group
    assert drops["no_biased_word"] == 1 and drops["not_aligned_one_to_one"] == 2
    assert drops["unreadable_biased_words"] == 1 and drops["kept"] == 2
    # the guard's drift limit and the near-copy rule apply to each sentence pair
    assert srllm_sentence_pairs(path, texts, max_drift=0.3)[1]["drift"] >= 1


def test_srllm_sentences_add_train_examples_and_leave_every_split_as_it_was(tmp_path):
    from dataclasses import replace

    root = make_data_dir(tmp_path)
    rows = [(f"plan {i} is set . only an idiot votes no on plan {i} .", "['idiot']",
             f"plan {i} is set. please vote yes on plan {i}.") for i in range(40)]
    write_srllm_rows(root / "sr_llm_inhouse" / "train_500.csv", rows)
    before, after = build_splits(root, FULL), build_splits(root, replace(FULL, srllm_sentences=True))
    for name in ("dev", "test"):
        assert getattr(before, name) == getattr(after, name)
    assert [e for e in after.train if e.source != "srllm_sentence"] == before.train
    added = [e for e in after.train if e.source == "srllm_sentence"]
    on_train = {e.text: e.group for e in before.train if e.source == "srllm" and e.biased}
    assert len(added) == 2 * len(on_train) > 0  # every train-side row: its sentence and its rewrite; no other row
    for ex in added:
        plan = ex.text.split("plan ")[1].split()[0].rstrip(".")
        parent = f"plan {plan} is set. only an idiot votes no on plan {plan}."
        assert on_train[parent] == ex.group
        assert (ex.text, ex.rewrite) == ((f"only an idiot votes no on plan {plan}.", f"please vote yes on plan {plan}.")
                                         if ex.biased else (f"please vote yes on plan {plan}.", None))
    assert after.manifest["dropped"]["srllm_sentences"]["kept"] == len(on_train)
