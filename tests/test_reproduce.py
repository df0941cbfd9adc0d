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

def test_a_slice_may_take_a_smaller_batch(tmp_path):
    "`batch_size=` trains a slice in more, smaller steps, and says so among the swaps; without it the card's batch stays."
    from xenc.card.read import seed_card
    from xenc.tools.recipe import build_recipe
    from xenc.training.checks import optimizer_steps
    card = seed_card("003")
    card_batch = build_recipe(card, max_train=512, max_eval=16, output_dir=tmp_path / "a")
    small = build_recipe(card, max_train=512, max_eval=16, batch_size=16, output_dir=tmp_path / "b")
    assert card_batch.config.per_device_train_batch_size == 64 and not any(s.startswith("batch:") for s in card_batch.swaps)
    assert small.config.per_device_train_batch_size == 16 and "batch: 64 -> 16 (given)" in small.swaps
    assert optimizer_steps(small.config, small.data.train) == 4 * optimizer_steps(card_batch.config, card_batch.data.train) == 128


def test_config_from_card_swaps_what_the_machine_lacks():
    "The card's hyperparameters onto TrainConfig, and the precision swaps a CPU, a T4 or an A100 needs (said in the swaps)."
    from unittest.mock import patch
    from fastcore.test import test_eq
    from xenc.card.read import seed_cards
    from xenc.model import cpu_has_bf16
    from xenc.tools.recipe import config_from_card, schedule_from_logs
    cards = {k: parse_card(p.read_text(encoding="utf-8")) for k, p in seed_cards().items()}
    test_eq(schedule_from_logs(cards["003"]), {"logging_steps": 20, "eval_strategy": "steps", "eval_steps": 80})
    cfg, swaps = config_from_card(cards["003"], "cpu", "/tmp/x")
    test_eq((cfg.per_device_train_batch_size, cfg.num_train_epochs, cfg.learning_rate, cfg.warmup_steps, cfg.seed, cfg.eval_steps, cfg.optim),
            (64, 4, 5e-05, 0.1, 42, 80, "adamw_torch_fused"))
    test_eq(swaps, ["precision: bf16 -> fp32 (this CPU has no bf16)"] if not cpu_has_bf16() else [])   # fused AdamW runs here as on a GPU
    cfg, swaps = config_from_card(cards["001"], "cpu", "/tmp/x")
    test_eq((cfg.fp16, cfg.per_device_train_batch_size, "precision: fp16 -> fp32 (fp16 needs a GPU)" in swaps), (False, 16, True))
    cfg, swaps = config_from_card(cards["003"], "cuda", "/tmp/x")
    test_eq((cfg.optim, cfg.bf16, swaps), ("adamw_torch_fused", True, []))       # on a GPU nothing is swapped
    with patch("torch.cuda.is_available", return_value=True), patch("torch.cuda.get_device_capability", return_value=(7, 5)):   # a T4
        cfg, swaps = config_from_card(cards["003"], "cuda", "/tmp/x")
    test_eq((cfg.bf16, cfg.fp16, swaps), (False, True, ["precision: bf16 -> fp16 (this GPU has no native bf16: compute capability 7.5, e.g. a T4)"]))
    with patch("torch.cuda.is_available", return_value=True), patch("torch.cuda.get_device_capability", return_value=(8, 0)):   # an A100
        cfg, swaps = config_from_card(cards["003"], "cuda", "/tmp/x")
    test_eq((cfg.bf16, cfg.fp16, swaps), (True, False, []))
    cfg, swaps = config_from_card(cards["002"], "cpu", "/tmp/x")
    test_eq((cfg.optim, cfg.warmup_steps, cfg.eval_strategy, cfg.eval_steps), ("adamw_torch", 0.1, "steps", 500))   # warmup_ratio 0.1 -> warmup_steps 0.1

def test_offline_stand_ins_follow_the_data_readme(data_dir):
    "RTE for 000 (2 labels as RTE writes them) and 001 (entailment = 1, 249 pairs held out); SNLI for 002, 984 held out."
    from xenc.card.read import seed_cards
    from xenc.data import load_benchmark
    from xenc.tools.recipe import offline_data
    from fastcore.test import test_eq, test_fail
    cards = {k: parse_card(p.read_text(encoding="utf-8")) for k, p in seed_cards().items()}
    d = offline_data(cards["001"], data_dir)
    test_eq((sorted(set(d.train["label"])), len(d.train) + len(d.eval), list(d.evaluate), d.evaluate["ce-val"][1]),
            ([0.0, 1.0], 2490, ["ce-val"], "rte train (held out)"))
    rte_train = load_benchmark("rte", "train", data_dir=data_dir)
    test_eq(sum(d.train["label"]) + sum(d.eval["label"]), rte_train["label"][:].count(0))       # entailment (RTE's 0) is the positive class
    rte = load_benchmark("rte", "validation", data_dir=data_dir)
    test_eq(offline_data(cards["000"], data_dir).evaluate["rte-test"][0]["label"][:], rte["label"][:])    # 2 labels: as RTE writes them
    d = offline_data(cards["002"], data_dir)
    test_eq((len(d.train), len(d.eval), d.evaluate["AllNLI-dev"][1], d.evaluate["AllNLI-test"][1]), (9842 - 984, 984, "snli validation (held out)", "snli test"))
    test_fail(lambda: offline_data(cards["002"], "/nonexistent"), contains="point --data-dir at the folder that holds snli/")
