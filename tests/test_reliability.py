"""The faults a careful user meets, one test each (the table in nbs/reliability.ipynb names them): a run owns its folder,
settings that cannot work stop before the first step, loading says what it did, errors name the file and the fix,
and `predict` streams."""
import contextlib, io, json, os, re, signal, subprocess, sys
from pathlib import Path

import pytest
import torch
from datasets import Dataset

from xenc.card.read import seeds_dir
from xenc.data import PairDataError, load_benchmark, load_pairs
from xenc.evaluation import ClassificationEvaluator
from xenc.training.loop import TrainConfig, TrainConfigError, TrainingError
from xenc.model import CrossEncoder
from xenc import train
from xenc.training.runs import latest_checkpoint

ROOT = Path(__file__).resolve().parents[1]
SEEDS = Path(os.environ.get("XENC_SEEDS_DIR") or seeds_dir())   # the seed cards, shipped with xenc


@pytest.fixture(scope="module")
def sts():
    return load_benchmark("stsb", "train").select(range(64))


def cfg(out, **kw):
    base = dict(output_dir=str(out), per_device_train_batch_size=8, learning_rate=1e-3, save_steps=1, logging_steps=1, disable_tqdm=True)
    return TrainConfig(**{**base, **kw})


@contextlib.contextmanager
def deadline(seconds):
    "Turn a hang into a failure."
    def boom(*_): raise TimeoutError(f"still running after {seconds} s: a hang")
    old = signal.signal(signal.SIGALRM, boom); signal.alarm(seconds)
    try: yield
    finally: signal.alarm(0); signal.signal(signal.SIGALRM, old)


def steps(d): return sorted(int(p.name.split("-")[1]) for p in Path(d).glob("checkpoint-*"))


# 1. a run never takes another run's checkpoints, never prunes them, never resumes them
def test_a_run_prunes_and_resumes_only_its_own_checkpoints(tiny_model_dir, sts, tmp_path):
    train(CrossEncoder(tiny_model_dir), cfg(tmp_path, max_steps=8, save_steps=4), sts)               # run A: checkpoints 4, 8
    with pytest.raises(TrainConfigError, match="holds another run"):                                # run B, other settings: refused
        train(CrossEncoder(tiny_model_dir), cfg(tmp_path, max_steps=3, learning_rate=5e-4, save_total_limit=1), sts)
    b = cfg(tmp_path, max_steps=3, learning_rate=5e-4, save_total_limit=1, overwrite_output_dir=True)
    train(CrossEncoder(tiny_model_dir), b, sts)
    assert steps(tmp_path) == [3, 4, 8]                      # B kept its newest; A's checkpoints untouched
    from xenc.training.runs import read_run
    assert latest_checkpoint(tmp_path, read_run(tmp_path)["run"]).name == "checkpoint-3"
    with pytest.raises(TrainingError, match=r"learning_rate: 0\.0005 -> 0\.001"):                # A's settings cannot resume B's run
        train(CrossEncoder(tiny_model_dir), cfg(tmp_path, max_steps=8, save_steps=4), sts, resume_from_checkpoint=True)
    r = train(CrossEncoder(tiny_model_dir), b, sts, resume_from_checkpoint=True)               # B resumes B: nothing left to do
    assert r.log == [] or r.log[-1]["step"] == 3


def test_resume_with_a_changed_batch_size_is_refused(tiny_model_dir, sts, tmp_path):
    train(CrossEncoder(tiny_model_dir), cfg(tmp_path, max_steps=2), sts)
    with pytest.raises(TrainingError, match="per_device_train_batch_size: 8 -> 16"):
        train(CrossEncoder(tiny_model_dir), cfg(tmp_path, max_steps=4, per_device_train_batch_size=16), sts, resume_from_checkpoint=True)


def _xenc(*args):
    return subprocess.run([sys.executable, "-c", "import sys; from xenc.tools.reproduce import main; sys.exit(main())", *map(str, args)],
                          capture_output=True, text=True, timeout=600, env={**os.environ, "HF_HUB_OFFLINE": "1"})


# 1 and 2. xenc reproduce into a folder that holds another card's run, or a user's files
@pytest.mark.skipif(not (SEEDS / "003_b26cdff40d2cc7f3.txt").is_file(), reason="the seed cards are not here")
def test_reproduce_refuses_another_run_and_a_users_files(data_dir, tmp_path):
    card = SEEDS / "003_b26cdff40d2cc7f3.txt"
    user = tmp_path / "mine"; user.mkdir(); (user / "README.md").write_text("my notes"); (user / "config.json").write_text("{}")
    r = _xenc("reproduce", card, "--offline", "--data-dir", data_dir, "--out", user, "--max-train", "16", "--max-eval", "16")
    assert r.returncode == 2 and "holds no xenc reproduction" in r.stderr and "--overwrite" in r.stderr, r.stderr[-1500:]
    assert (user / "README.md").read_text() == "my notes" and (user / "config.json").read_text() == "{}"
    other = tmp_path / "other"; (other / "checkpoints" / "checkpoint-4").mkdir(parents=True)
    (other / "checkpoints" / "xenc_run.json").write_text(json.dumps({"run": "abc", "fingerprint": {"config": {"learning_rate": 1.0}}}))
    r = _xenc("reproduce", card, "--offline", "--data-dir", data_dir, "--out", other, "--max-train", "16", "--max-eval", "16")
    assert r.returncode == 2 and "holds another run" in r.stderr and "--overwrite" in r.stderr, r.stderr[-1500:]
    assert not (other / "README.md").exists()
    r = _xenc("reproduce", card, "--help")
    text = " ".join(r.stdout.split())
    assert "--resume, --no-resume" in text and "(default: --resume)" in text


# 3. best model and early stopping see a classification evaluator's metric from the start
def test_best_model_with_a_classification_evaluator(tiny_model_dir, sts, tmp_path):
    pairs = list(zip(sts["sentence1"][:32], sts["sentence2"][:32]))
    ev = ClassificationEvaluator(pairs, [int(s > 0.5) for s in sts["score"][:32]], name="dev")
    assert ev.primary_metric == "dev_average_precision"                 # known before any call
    r = train(CrossEncoder(tiny_model_dir), cfg(tmp_path, max_steps=4, eval_strategy="steps", eval_steps=2, load_best_model_at_end=True),
              sts, evaluators=[ev])
    assert r.best_checkpoint is not None and r.best_metric == max(row["dev_average_precision"] for row in r.log if "dev_average_precision" in row)
    with pytest.raises(TrainConfigError, match="is not a metric that an evaluation logs"):
        train(CrossEncoder(tiny_model_dir), cfg(tmp_path / "b", max_steps=4, eval_strategy="steps", eval_steps=2, early_stopping_patience=1,
                                                 metric_for_best_model="dev_accuracy"), sts, evaluators=[ev])


# 4. settings that would train quietly wrong stop before the first step
def test_wrong_settings_stop_before_the_first_step(tiny_model_dir, sts, tmp_path):
    raw = sts.map(lambda r: {"score": r["score"] * 5})
    with pytest.raises(TrainConfigError, match="divide by 5"): train(CrossEncoder(tiny_model_dir), cfg(tmp_path / "a", max_steps=2), raw)
    with pytest.raises(TrainConfigError, match="max_grad_norm"): train(CrossEncoder(tiny_model_dir), cfg(tmp_path / "b", max_steps=2, max_grad_norm=-1.0), sts)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


# 5. no hangs
def test_too_little_data_is_an_error_not_a_hang(tiny_model_dir, sts, tmp_path):
    empty = Dataset.from_dict({"sentence1": [], "sentence2": [], "score": []})
    with deadline(120):
        with pytest.raises(TrainConfigError, match="empty"): train(CrossEncoder(tiny_model_dir), cfg(tmp_path / "a", max_steps=2), empty)
        with pytest.raises(TrainConfigError, match="no optimizer step"):
            train(CrossEncoder(tiny_model_dir), cfg(tmp_path / "b", num_train_epochs=1, gradient_accumulation_steps=16), sts)
        from xenc.tools.reproduce import main
        err = io.StringIO()
        with contextlib.redirect_stderr(err), pytest.raises(SystemExit) as e: main(["reproduce", "card.md", "--max-train", "0"])
        assert e.value.code == 2 and "must be above 0" in err.getvalue()


# 6. loading says what it did
def test_loading_says_what_it_did(tiny_model_dir, tmp_path):
    import shutil
    from safetensors.torch import load_file, save_file
    d = tmp_path / "m"; shutil.copytree(tiny_model_dir, d)
    w = load_file(d / "model.safetensors")
    save_file({k: v for k, v in w.items() if not k.startswith("classifier")}, d / "model.safetensors", metadata={"format": "pt"})
    with pytest.warns(UserWarning, match="lack classifier"): m = CrossEncoder(d)
    assert m.new_head
    with pytest.warns(UserWarning, match="clamped to 512"): assert CrossEncoder(tiny_model_dir, max_length=1000).max_length == 512
    with pytest.raises(ValueError, match="positive number"): CrossEncoder(tiny_model_dir, max_length=0)
    for f in ("tokenizer.json", "vocab.txt"): (d / f).unlink(missing_ok=True)
    with pytest.raises(OSError, match="holds no tokenizer files"): CrossEncoder(d)
    bad = tmp_path / "bad"; shutil.copytree(tiny_model_dir, bad)
    (bad / "model.safetensors").write_bytes((bad / "model.safetensors").read_bytes()[:100])
    with pytest.raises(OSError, match="damaged or incomplete"): CrossEncoder(bad)


# 7. errors name the file, the row and the fix
def test_file_errors_name_the_file_and_the_line(tmp_path):
    (tmp_path / "d.csv").write_text("sentence1,sentence2,label\n123,4.5,1\nabc,def,0\n")
    assert load_pairs(tmp_path / "d.csv")[0] == {"sentence1": "123", "sentence2": "4.5", "label": 1}
    (tmp_path / "s.tsv").write_text("sentence1\tsentence2\tlabel\na\tb\t1\nc\t0\ne\tf\t0\n")
    with pytest.raises(PairDataError, match=r"s\.tsv: 1 row\(s\) have fewer fields .* line 3 \(2 fields\)"): load_pairs(tmp_path / "s.tsv")
    (tmp_path / "l.csv").write_bytes("sentence1,sentence2,label\ncaf\xe9,b,1\n".encode("latin-1"))
    with pytest.raises(PairDataError, match=r"l\.csv is not UTF-8"): load_pairs(tmp_path / "l.csv")
    (tmp_path / "j.json").write_text("{not json")
    with pytest.raises(PairDataError, match=r"j\.json could not be read as JSON"): load_pairs(tmp_path / "j.json")


def test_card_front_matter_of_the_wrong_type_is_read_around():
    from xenc.card.read import parse_card
    c = parse_card("---\ntags: 5\nmodel-index: {a: 1}\nco2_eq_emissions: 3\n---\n# Card\n")
    assert c.title == "Card" and c.tags is None and c.results == [] and c.emissions is None
    assert sum(n.startswith("front matter") for n in c.notes) == 3


def test_cli_errors_exit_2_with_a_message(tmp_path):
    if not (SEEDS / "003_b26cdff40d2cc7f3.txt").is_file(): pytest.skip("the seed cards are not here")
    r = _xenc("reproduce", SEEDS / "003_b26cdff40d2cc7f3.txt", "--offline", "--base-model", tmp_path / "nothing", "--out", tmp_path / "o")
    assert r.returncode == 2 and "Traceback" not in r.stderr and "nothing" in r.stderr, r.stderr[-1500:]


def test_a_full_disk_is_named_and_loses_nothing(tiny_model_dir, sts, tmp_path, monkeypatch):
    train(CrossEncoder(tiny_model_dir), cfg(tmp_path, max_steps=2), sts)
    real = torch.save
    def full(obj, f, *a, **k):
        raise RuntimeError("[enforce fail at inline_container.cc:664] . unexpected pos 64 vs 0: PytorchStreamWriter failed writing file data/0: file write failed")
    monkeypatch.setattr(torch, "save", full)
    with pytest.raises(TrainingError, match=r"the disk is full .*checkpoint-2\) is intact"):
        train(CrossEncoder(tiny_model_dir), cfg(tmp_path, max_steps=4), sts, resume_from_checkpoint=True)
    monkeypatch.setattr(torch, "save", real)
    assert steps(tmp_path) == [1, 2] and not list(tmp_path.glob(".checkpoint-*"))


def test_temporaries_of_a_killed_write_are_cleaned_at_the_next_start(tiny_model_dir, sts, tmp_path):
    train(CrossEncoder(tiny_model_dir), cfg(tmp_path, max_steps=2), sts)
    (tmp_path / ".checkpoint-3-abcd").mkdir(); (tmp_path / ".checkpoint-3-abcd" / "model.safetensors").write_bytes(b"half")
    os.replace(tmp_path / "checkpoint-2", tmp_path / ".old-checkpoint-2-999")      # killed in the middle of a swap
    train(CrossEncoder(tiny_model_dir), cfg(tmp_path, max_steps=3), sts, resume_from_checkpoint=True)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [] and steps(tmp_path) == [1, 2, 3]


# 8. predict streams: memory follows the batch and the sort window, not the number of pairs
def test_predict_memory_does_not_grow_with_the_pairs():
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "predict_memory.py"), "100000"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-1500:]
    before, after = map(float, re.search(r"before predict (\d+) MiB, after (\d+) MiB", r.stdout).groups())
    assert after - before < 150, r.stdout            # tokenizing all 100k pairs at once added 261 MiB (measured before streaming)
