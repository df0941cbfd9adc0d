"xenc.data against sentence-transformers on the same inputs, and the package as installed."
import subprocess, sys
import pytest, torch
from xenc.batches import PairCollator
from xenc.card.build import dataset_stats
from xenc.data import PairColumns, load_benchmark, packaged_data_dir

PAIRS = [("A man is playing a flute.", "A man plays music on a long wooden flute in the park on a sunny day."),
         ("hi", "there"), ("Who wrote Hamlet?", "Shakespeare wrote Hamlet around 1600, and it is his longest play.")]

# sentence-transformers 6.2 says "first 100 samples" but reads chunks of 8 until it passes 100: rows 0..103
ST_ROWS = 104

@pytest.fixture(scope="module")
def st_model(tiny_model_dir):
    from sentence_transformers import CrossEncoder
    return CrossEncoder(str(tiny_model_dir), max_length=16, device="cpu")

def test_collator_matches_sentence_transformers(st_model, tokenizer):
    "Same token ids, segment ids and mask as sentence-transformers' CrossEncoder, truncation included."
    ours = PairCollator(tokenizer, PairColumns(("a", "b"), "label"), max_length=16)([{"a": a, "b": b, "label": 1.0} for a, b in PAIRS])
    ref = st_model.preprocess(PAIRS)
    for k in ("input_ids", "token_type_ids", "attention_mask"): assert torch.equal(ours[k], ref[k]), k
    assert ours["input_ids"].shape[1] == 16   # the long pairs were truncated

@pytest.mark.parametrize("column", ["sentence1", "sentence2", "score"])
def test_stats_match_sentence_transformers(st_model, tokenizer, column):
    "Token-length and label statistics equal the model card code of sentence-transformers."
    ds = load_benchmark("stsb", "train")
    ref = st_model.model_card_data._compute_column_stats(ds, column)
    ours = dataset_stats(ds, n=ST_ROWS, tokenizer=tokenizer)
    assert ours.types[column] == ref["dtype"]
    assert {k: str(v) for k, v in ours.details[column].items()} == {k: str(v) for k, v in ref["data"].items()}

def test_int_label_stats_match_sentence_transformers(st_model, data_dir):
    ds = load_benchmark("snli", "validation", data_dir)
    ref = st_model.model_card_data._compute_column_stats(ds, "label")
    assert dataset_stats(ds, n=ST_ROWS).details["label"] == {str(k): v for k, v in ref["data"].items()}

def test_stsb_ships_with_its_licence():
    files = {p.name for p in (packaged_data_dir() / "stsb").iterdir()}
    assert {"LICENSE.txt", "sts-train.csv", "sts-dev.csv", "sts-test.csv"} <= files
    assert "CC BY-SA 4.0" in (packaged_data_dir() / "stsb" / "LICENSE.txt").read_text() or \
           "Share Alike 4.0" in (packaged_data_dir() / "stsb" / "LICENSE.txt").read_text()

def test_xenc_never_imports_sentence_transformers():
    code = "import sys, xenc, xenc.data; print('sentence_transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"
