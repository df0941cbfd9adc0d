"""xenc.data refuses bad input with a message that names the problem and the fix; the readers keep every text
as written. The checks of chapter 00 (nbs/00_data.ipynb) that the chapter itself does not show."""
import warnings
from pathlib import Path

import pandas as pd
import pytest
from datasets import Dataset, DatasetDict

from xenc.data import (PairColumns, PairDataError, detect_columns, load_benchmark, load_pairs,
                       packaged_data_dir, validate_pairs)

COLS = PairColumns(("sentence1", "sentence2"), "label")

def two_rows(s2="b", label=0):
    return Dataset.from_dict({"sentence1": ["a", "a2"], "sentence2": ["x", s2], "label": [0, label]})

def test_detect_columns_by_name_and_override():
    assert detect_columns(["idx", "sentence1", "sentence2", "score"]) == PairColumns(("sentence1", "sentence2"), "score")
    assert detect_columns(["premise", "hypothesis", "label"]).texts == ("premise", "hypothesis")
    assert detect_columns(["query", "positive", "negative_1", "negative_2"]) == \
        PairColumns(("query", "positive", "negative_1", "negative_2"), None)
    assert detect_columns(["q", "d", "rel"], text_columns=["q", "d"], label_column="rel") == PairColumns(("q", "d"), "rel")
    assert detect_columns(["sentence_0", "sentence_1", "label"], label_column=False).label is None

@pytest.mark.parametrize("kwargs,names,message", [
    ({}, ["a", "b"], "pass text_columns="),
    ({"text_columns": ["a", "c"]}, ["a", "b"], "Text columns ['c'] not found"),
    ({"label_column": "gold"}, ["premise", "hypothesis"], "Label column ['gold'] not found"),
])
def test_detect_columns_errors(kwargs, names, message):
    with pytest.raises(PairDataError) as e: detect_columns(names, **kwargs)
    assert message in str(e.value)

@pytest.mark.parametrize("ds,kwargs,message", [
    (two_rows(s2=""), {}, "row 1, column 'sentence2': text is empty"),
    (Dataset.from_dict({"sentence1": ["a"], "sentence2": [None], "label": [0]}), {}, "text is NoneType (None), not a string"),
    (two_rows(label=float("nan")), {}, "row 1, column 'label': label is nan"),
    (two_rows(label=float("inf")), {"num_labels": 1}, "label is inf"),
    (two_rows(label=3), {"num_labels": 3}, "label 3 is out of range for num_labels=3 (expected 0..2)"),
    (two_rows(label=0.5), {"num_labels": 3}, "label 0.5 is a float, but num_labels=3 asks for class indices"),
    (two_rows().select([]), {}, "The dataset is empty"),
    (two_rows(s2=""), {}, "pass drop_invalid=True"),
])
def test_validate_pairs_errors(ds, kwargs, message):
    with pytest.raises(PairDataError) as e: validate_pairs(ds, COLS, **kwargs)
    assert message in str(e.value)

def test_validate_pairs_drops_only_when_asked_and_counts():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        kept = validate_pairs(two_rows(s2=" "), COLS, drop_invalid=True)
    assert kept["sentence1"] == ["a"]
    assert "Dropped 1 of 2 rows" in str(w[0].message)
    assert len(validate_pairs(two_rows(label=2), COLS, num_labels=3)) == 2   # valid data passes untouched

def test_load_pairs_from_python_pandas_and_datasets():
    ds = load_pairs([("A man is eating.", "Someone eats food.", 0.9), ("A plane takes off.", "A cat sleeps.", 0.0)])
    assert ds.column_names == ["sentence_0", "sentence_1", "label"]
    assert ds[1] == {"sentence_0": "A plane takes off.", "sentence_1": "A cat sleeps.", "label": 0.0}
    assert load_pairs([("a", "b"), ("c", "d")], labels=[1, 0])["label"] == [1, 0]
    df = pd.DataFrame({"idx": [7], "premise": ["p"], "hypothesis": ["h"], "label": [2]})
    assert load_pairs(df).column_names == ["premise", "hypothesis", "label"]
    assert load_pairs(DatasetDict(train=ds))[0] == ds[0]

@pytest.mark.parametrize("source,kwargs,message", [
    ([("a", "b")], {"labels": [1, 0]}, "1 pairs but 2 labels"),
    ([("a", "b"), ("c",)], {}, "Row 1 is ('c',)"),
    ([], {}, "The dataset is empty"),
    (DatasetDict(train=Dataset.from_dict({"a": ["x"], "b": ["y"]})), {"split": "test"}, "Split 'test' not found"),
    ("no/such/file.tsv", {}, "No such file"),
])
def test_load_pairs_errors(source, kwargs, message):
    with pytest.raises(PairDataError) as e: load_pairs(source, **kwargs)
    assert message in str(e.value)

def test_files_keep_every_text_as_written(tmp_path):
    (tmp_path / "digits.csv").write_text("sentence1,sentence2,label\n123,0042,1\nabc,def,0\n")
    assert load_pairs(tmp_path / "digits.csv")[0] == {"sentence1": "123", "sentence2": "0042", "label": 1}
    (tmp_path / "pairs.tsv").write_text('premise\thypothesis\tlabel\nA "quoted" man\tNA\t1\nx\ty\t0\n')
    assert load_pairs(tmp_path / "pairs.tsv")["hypothesis"] == ["NA", "y"]
    assert load_pairs(tmp_path / "pairs.tsv")["premise"][0] == 'A "quoted" man'
    (tmp_path / "pairs.jsonl").write_text('{"query": "q", "positive": "p", "score": 1.0}\n')
    assert load_pairs(tmp_path / "pairs.jsonl", num_labels=1)[0] == {"query": "q", "positive": "p", "score": 1.0}

@pytest.mark.parametrize("name,content,message", [
    ("short.tsv", "sentence1\tsentence2\tlabel\na\tb\t1\nc\t0\ne\tf\t0\n", "line 3 (2 fields)"),
    ("latin.csv", "sentence1,sentence2,label\ncaf\xe9,b,1\n".encode("latin-1"), "latin.csv is not UTF-8"),
    ("broken.jsonl", '{"sentence1": "a", "sentence2": "b", "label": 1}\n{"sentence1": "c",\n',
     "broken.jsonl could not be read as JSONL"),
    ("bad.csv", "sentence1,sentence2,score\na,b,0.5\nc,,0.1\n", "row 1, column 'sentence2': text is empty"),
])
def test_file_errors_name_the_file_and_line(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    with pytest.raises(PairDataError) as e: load_pairs(path)
    assert message in str(e.value)

def test_an_unreachable_hub_says_to_pass_local_data(monkeypatch):
    "Whether or not this machine reaches the hub: load_dataset fails here as it does offline."
    import datasets
    def offline(*args, **kwargs): raise ConnectionError("no network")
    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(PairDataError) as e: load_pairs("sentence-transformers/stsb")
    assert "pass local data instead" in str(e.value)

def test_stsb_ships_and_loads():
    stsb_train = load_benchmark("stsb", "train")
    assert [len(load_benchmark("stsb", s)) for s in ("train", "validation", "test")] == [5749, 1500, 1379]
    assert stsb_train[0] == {"sentence1": "A plane is taking off.", "sentence2": "An air plane is taking off.", "score": 1.0}
    assert stsb_train[1]["score"] == pytest.approx(3.8 / 5)
    assert min(stsb_train["score"]) >= 0 and max(stsb_train["score"]) <= 1
    assert sorted(p.name for p in (packaged_data_dir() / "stsb").iterdir()) == \
        ["LICENSE.txt", "readme.txt", "sts-dev.csv", "sts-test.csv", "sts-train.csv"]

def test_offline_benchmarks(data_dir):
    snli_val, rte_train = load_benchmark("snli", "validation", data_dir), load_benchmark("rte", "train", data_dir)
    assert (len(snli_val), len(load_benchmark("snli", "test", data_dir))) == (9842, 9824)
    assert snli_val.column_names == ["premise", "hypothesis", "label"]
    assert sorted(set(snli_val["label"])) == [0, 1, 2]
    assert (len(rte_train), len(load_benchmark("rte", "validation", data_dir))) == (2490, 277)
    assert rte_train[0]["label"] == 1   # "No Weapons of Mass Destruction Found in Iraq Yet." does not entail the opposite
    assert len(load_benchmark("lcqmc", "dev", data_dir)) == 8802

@pytest.mark.parametrize("args,message", [
    (("rte", "test"), "no labelled test split"),
    (("snli", "train"), "train on 'validation'"),
    (("mnli", "train"), "Unknown benchmark 'mnli'"),
    (("rte", "train", "/nonexistent"), "allow the hub to load nyu-mll/glue (rte)"),
])
def test_load_benchmark_errors_offline(monkeypatch, args, message):
    "With the hub off, a split that is not in the files is refused with the folder to fill or the split to use."
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(PairDataError) as e: load_benchmark(*args)
    assert message in str(e.value)
