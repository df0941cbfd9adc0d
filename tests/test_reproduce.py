"`xenc reproduce` as a user runs it: the installed console script on a seed card, offline, shortened to fit CI; and its bad-input messages."
import os, shutil, subprocess, sys
from pathlib import Path

import pytest

from xenc.card.read import parse_card, seeds_dir

SEEDS = Path(os.environ.get("XENC_SEEDS_DIR") or seeds_dir())   # the seed cards, shipped with xenc
CARD_003 = SEEDS / "003_b26cdff40d2cc7f3.txt"


def xenc(*args, env=None):
    exe = shutil.which("xenc", path=str(Path(sys.executable).parent)) or shutil.which("xenc")
    assert exe, "the console script `xenc` is not installed: pip install -e . declares it in setup.py"
    return subprocess.run([exe, *map(str, args)], capture_output=True, text=True, timeout=600, env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def seeds():
    if not CARD_003.is_file(): pytest.skip("the seed cards (../shared/seeds or $XENC_SEEDS_DIR) are not here")
    return SEEDS


def test_reproduce_seed_003_offline_within_budget(seeds, data_dir, tmp_path):
    out = tmp_path / "seed-003"
    r = xenc("reproduce", CARD_003, "--offline", "--data-dir", data_dir, "--max-minutes", "1", "--out", out)
    assert r.returncode == 0, r.stderr[-2000:]
    text = r.stdout
    # the table: every published metric with the reproduced value and the difference
    lines = [l for l in text.splitlines() if l.startswith("| stsb-")]
    assert [l.split("|")[1:3] for l in lines] == [[" stsb-validation ", " pearson "], [" stsb-validation ", " spearman (primary) "],
                                                   [" stsb-test ", " pearson "], [" stsb-test ", " spearman (primary) "]]
    published, reproduced, diff = (float(x) for x in lines[3].split("|")[3:6])
    assert published == 0.8404 and abs(reproduced - published - diff) < 2e-4
    assert "hardware:" in text and "time: training" in text
    assert "swapped: base model: distilbert/distilroberta-base -> sentence-transformers/all-MiniLM-L6-v2" in text
    assert "swapped: time:" in text                               # it said it shortened the run to fit
    wall = float(text.split("wall ")[1].split(" min")[0])
    assert wall <= 1.5, text
    # the written model and card
    card = parse_card((out / "README.md").read_text(encoding="utf-8"))
    assert (card.base_model, card.num_labels, card.loss, card.dataset_sizes) == ("sentence-transformers/all-MiniLM-L6-v2", 1, "BinaryCrossEntropyLoss", [5749])
    assert abs(card.metrics["stsb-test_spearman"] - reproduced) < 1e-4
    assert (out / "model.safetensors").is_file()
    import importlib.util                                          # codecarbon (dev extra) measured the run for the card
    if importlib.util.find_spec("codecarbon"): assert card.emissions["source"] == "codecarbon" and card.emissions["energy_consumed"] > 0


def test_bad_input_says_what_is_missing(seeds, data_dir, tmp_path):
    r = xenc("reproduce", tmp_path / "missing.md", "--offline")
    assert r.returncode == 2 and "is not a file" in r.stderr
    notes = tmp_path / "notes.md"; notes.write_text("# Shopping\n- eggs\n", encoding="utf-8")
    r = xenc("reproduce", notes, "--offline")
    assert r.returncode == 2 and "is not a cross-encoder model card" in r.stderr
    text = CARD_003.read_text(encoding="utf-8")
    cut = tmp_path / "no-hp.md"; cut.write_text(text[:text.index("### Training Hyperparameters")], encoding="utf-8")
    r = xenc("reproduce", cut, "--offline")
    assert r.returncode == 2 and "lacks hyperparameters" in r.stderr
    r = xenc("reproduce", SEEDS / "002_2aadd08d5f7def4e.txt", "--offline", "--data-dir", tmp_path)
    assert r.returncode == 2 and "--data-dir" in r.stderr and "snli" in r.stderr
    r = xenc("reproduce", SEEDS / "000_40dc24d71403e2cb.txt", env={"HF_HUB_OFFLINE": "1"})     # online, but the data is unnamed
    assert r.returncode == 2 and "cannot be fetched from the hub" in r.stderr and "--offline" in r.stderr


def test_a_killed_reproduction_resumes(seeds, data_dir, tmp_path):
    "Kill `xenc reproduce` once a checkpoint is on disk; the same command again continues from it and finishes."
    import time
    out = tmp_path / "killed"
    args = ["reproduce", CARD_003, "--offline", "--data-dir", data_dir, "--max-train", "256", "--max-eval", "64", "--out", out]
    exe = shutil.which("xenc", path=str(Path(sys.executable).parent)) or shutil.which("xenc")
    p = subprocess.Popen([exe, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while time.time() < deadline and p.poll() is None and not list((out / "checkpoints").glob("checkpoint-*/training_state.pt")):
        time.sleep(0.2)
    assert p.poll() is None, "the run ended before a checkpoint could be interrupted"
    p.kill(); p.wait()
    assert not (out / "README.md").exists()
    r = xenc(*args)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "resuming from" in r.stdout and "checkpoint-" in r.stdout
    assert parse_card((out / "README.md").read_text(encoding="utf-8")).metrics.keys() == {
        "stsb-validation_pearson", "stsb-validation_spearman", "stsb-test_pearson", "stsb-test_spearman"}
