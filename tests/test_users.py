"What a new user meets: a short run that says what it did, every Hugging Face schedule, wrong containers named."
import contextlib, io
import pytest, torch
from torch.optim.optimizer import register_optimizer_step_pre_hook
from datasets import DatasetDict
from transformers import SchedulerType, get_scheduler
from xenc.data import load_benchmark
from xenc.model import CrossEncoder
from xenc import TrainConfig, train
from xenc.training.loop import TrainConfigError

@pytest.fixture(scope="module")
def sts():
    return load_benchmark("stsb", "train").select(range(64))

def test_short_run_logs_saves_and_says_so(tmp_path, tiny_model_dir, sts):
    "5 steps with the default config (logging and saving every 500): the log has the loss, the last step is saved, the run says so."
    out, said = tmp_path / "run", io.StringIO()
    with contextlib.redirect_stdout(said), contextlib.redirect_stderr(io.StringIO()):
        r = train(CrossEncoder(tiny_model_dir, device="cpu"), TrainConfig(output_dir=str(out), max_steps=5), sts)
    assert [row["step"] for row in r.log] == [5] and r.log[0]["loss"] > 0
    assert r.training_loss == pytest.approx(r.log[0]["loss"], rel=1e-6)     # one row: the mean of all five steps
    assert (out / "checkpoint-5" / "model.safetensors").is_file()
    lines = said.getvalue().strip().splitlines()
    assert lines[0].startswith("xenc.train: 5 steps of 8 pairs") and lines[-1].startswith("xenc.train: done, 5 steps in")
    assert f"training loss {r.training_loss:.4f}" in lines[-1] and str(out / "checkpoint-5") in lines[-1]

def test_callback_is_called_after_every_step(tmp_path, tiny_model_dir, sts):
    steps = []
    train(CrossEncoder(tiny_model_dir, device="cpu"), TrainConfig(output_dir=str(tmp_path), max_steps=3, save_strategy="no", disable_tqdm=True),
          sts, callback=lambda st: steps.append(st.step))
    assert steps == [1, 2, 3]

@pytest.mark.parametrize("data, says", [(lambda s: DatasetDict(train=s, test=s), "DatasetDict with the splits ['train', 'test']"),
                                        (lambda s: list(zip(s["sentence1"], s["sentence2"])), "is a list, not a datasets.Dataset"),
                                        (lambda s: s.to_pandas(), "is a DataFrame, not a datasets.Dataset")])
def test_wrong_containers_are_named(tmp_path, tiny_model_dir, sts, data, says):
    with pytest.raises(TrainConfigError, match="load_pairs|pass one split") as e:
        train(CrossEncoder(tiny_model_dir, device="cpu"), TrainConfig(output_dir=str(tmp_path), max_steps=1), data(sts))
    assert says in str(e.value) and not (tmp_path / "xenc_run.json").exists()

KWARGS = {"cosine_with_restarts": {"num_cycles": 2}, "polynomial": {"power": 2.0, "lr_end": 1e-6}, "cosine_with_min_lr": {"min_lr_rate": 0.1},
          "cosine_warmup_with_min_lr": {"min_lr_rate": 0.1}, "warmup_stable_decay": {"num_decay_steps": 4}, "inverse_sqrt": {}}

@pytest.mark.parametrize("name", [s.value for s in SchedulerType if s.value not in ("reduce_lr_on_plateau", "greedy")])
def test_every_hugging_face_schedule_matches_step_by_step(tmp_path, tiny_model_dir, sts, name):
    "The learning rate of each of xenc's optimizer steps equals Hugging Face's schedule of that name (warm-up as a ratio, as cards write it)."
    lr, total, seen = 1e-3, 12, []
    hook = register_optimizer_step_pre_hook(lambda opt, *a: seen.append(opt.param_groups[0]["lr"]))
    try: train(CrossEncoder(tiny_model_dir, device="cpu"), TrainConfig(output_dir=str(tmp_path), max_steps=total, learning_rate=lr, warmup_steps=0.25,
               lr_scheduler_type=name, lr_scheduler_kwargs=KWARGS.get(name), save_strategy="no", disable_tqdm=True), sts)
    finally: hook.remove()
    ref_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    ref = get_scheduler(name, ref_opt, num_warmup_steps=3, num_training_steps=total, scheduler_specific_kwargs=KWARGS.get(name))
    expected = []
    for _ in range(total): expected.append(ref_opt.param_groups[0]["lr"]); ref_opt.step(); ref.step()
    assert seen == pytest.approx(expected, rel=1e-9, abs=1e-15)

def test_plateau_follows_the_metric(tmp_path, tiny_model_dir, sts):
    "reduce_lr_on_plateau steps with each evaluation's metric, not every step; a metric that never improves halves the rate each time."
    class Flat:
        primary_metric = "flat_score"
        def __call__(self, model, **kw): return {"flat_score": 0.5}
    seen = []
    hook = register_optimizer_step_pre_hook(lambda opt, *a: seen.append(opt.param_groups[0]["lr"]))
    try: train(CrossEncoder(tiny_model_dir, device="cpu"), TrainConfig(output_dir=str(tmp_path), max_steps=8, learning_rate=1e-3, eval_strategy="steps",
               eval_steps=2, lr_scheduler_type="reduce_lr_on_plateau", lr_scheduler_kwargs={"patience": 0, "factor": 0.5}, save_strategy="no",
               disable_tqdm=True), sts, evaluators=[Flat()])
    finally: hook.remove()
    assert seen == pytest.approx([1e-3] * 4 + [5e-4] * 2 + [2.5e-4] * 2)

def test_unknown_schedule_and_bad_arguments_fail_first(tmp_path, tiny_model_dir, sts):
    m = CrossEncoder(tiny_model_dir, device="cpu")
    with pytest.raises(TrainConfigError, match="not a Hugging Face schedule: use one of linear, cosine"):
        train(m, TrainConfig(output_dir=str(tmp_path), lr_scheduler_type="one_cycle"), sts)
    with pytest.raises(TrainConfigError, match="cosine_with_min_lr.*min_lr"):
        train(m, TrainConfig(output_dir=str(tmp_path), lr_scheduler_type="cosine_with_min_lr"), sts)
    assert not any(tmp_path.iterdir())

def test_cards_name_models_not_folders(tmp_path, tiny_model_dir, sts):
    "Trained from the offline base model, the card and every checkpoint name its hub id; an unknown folder is named by its name."
    from xenc.card.build import model_card
    from xenc.card.write import render_card
    from xenc.model import offline_base_model
    m = CrossEncoder(offline_base_model(), num_labels=1, device="cpu")
    r = train(m, TrainConfig(output_dir=str(tmp_path / "run"), max_steps=2, per_device_train_batch_size=4, disable_tqdm=True), sts)
    hub = "sentence-transformers/all-MiniLM-L6-v2"
    for model in (m, CrossEncoder(tmp_path / "run" / "checkpoint-2", device="cpu")):
        card = render_card(model_card(model, config=r.config, result=r, measure_hardware=False))
        assert model.base_model == hub and f"CrossEncoder based on {hub}" in card and f"[{hub}](https://huggingface.co/{hub})" in card
        assert f"base_model: {hub}" in card and str(offline_base_model().parent) not in card and str(tmp_path) not in card
    assert CrossEncoder(tiny_model_dir, device="cpu").base_model == tiny_model_dir.name

def test_version_and_swaps_printed_once(tmp_path, tiny_model_dir, capsys):
    "`xenc --version`; `xenc reproduce` lists each swap once (with the recipe, before the run), not again in the report."
    from xenc.card.read import seed_card
    from xenc.tools.reproduce import main
    import xenc
    with pytest.raises(SystemExit) as e: main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.strip() == f"xenc {xenc.__version__}"
    rc = main(["reproduce", str(seed_card("003")), "--offline", "--base-model", str(tiny_model_dir), "--max-train", "32", "--max-eval", "16",
               "--out", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert rc == 0 and out.count(f"base model: distilbert/distilroberta-base -> {tiny_model_dir} (given)") == 1
    assert "swapped:" in out.split("| dataset | metric |")[0] and "swapped:" not in out.split("| dataset | metric |")[1]

def test_readme_quickstart_runs_as_written(tmp_path):
    "The README's quickstart, its code blocks as a pip user would paste them, in a fresh process and a folder with nothing beside it."
    import re, subprocess, sys
    from pathlib import Path
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    quick = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    code = "\n".join(re.findall(r"```python\n(.*?)```", quick, flags=re.S))
    assert "from xenc import" in code and "xenc." not in code.replace("from xenc import", "")    # one import line, no module paths
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    lines = r.stdout.strip().splitlines()
    assert lines[0].startswith("dev Spearman") and lines[1].startswith("similar pair")
    assert lines[2] == "best match: A man is eating a meal."           # it moved up from second
    before, after = map(float, re.findall(r"-?\d\.\d\d", lines[0]))
    assert after > before + 0.3                                  # it learned

def test_seed_cards_ship_byte_for_byte(data_dir):
    "The packaged seed cards are the project's seed cards, unchanged."
    from xenc.card.read import seed_cards
    shared = data_dir.parent / "seeds"
    if not shared.is_dir(): pytest.skip("no ../shared/seeds here")
    assert {k: p.read_bytes() for k, p in seed_cards().items()} == {k: p.read_bytes() for k, p in seed_cards(shared).items()}

def test_plots_need_no_display(tmp_path):
    "The evaluators' plots (seaborn) draw and save with no display and no backend set."
    import subprocess, sys, os
    code = """
import numpy as np
from xenc.evaluation import ClassificationEvaluator, CorrelationEvaluator
ev = ClassificationEvaluator([("a", "b")] * 6, [0, 1, 2, 0, 1, 2]); ev.last_scores, ev.labels = np.eye(3)[[0, 1, 1, 0, 2, 2]], np.array([0, 1, 2, 0, 1, 2])
ev.plot().savefig("cm.png")
c = CorrelationEvaluator([("a", "b")] * 5, [0.1, 0.2, 0.3, 0.4, 0.5]); c.last_scores = np.array([0.2, 0.1, 0.4, 0.3, 0.6])
c.plot().figure.savefig("corr.png")
import matplotlib, sys; print(matplotlib.get_backend().lower(), "seaborn" in sys.modules)
"""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "MPLBACKEND", "WAYLAND_DISPLAY")}
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split() == ["agg", "True"] and (tmp_path / "cm.png").stat().st_size > 0 and (tmp_path / "corr.png").stat().st_size > 0

@pytest.mark.parametrize("name, split, hub, config, hub_split, rows, want", [
    ("rte", "train", "nyu-mll/glue", "rte", "train",
     {"sentence1": ["a", "b", "c"], "sentence2": ["x", "y", "z"], "label": [0, -1, 1], "idx": [0, 1, 2]}, [0, 1]),
    ("lcqmc", "dev", "C-MTEB/LCQMC", None, "validation", {"sentence1": ["a", "b"], "sentence2": ["x", "y"], "score": [1, 0]}, [1, 0]),
    ("snli", "train", "stanfordnlp/snli", None, "train", {"premise": ["a", "b"], "hypothesis": ["x", "y"], "label": [2, -1]}, [2]),
    ("stsb", "dev", "sentence-transformers/stsb", None, "validation", {"sentence1": ["a"], "sentence2": ["x"], "score": [0.5]}, [0.5])])
def test_benchmarks_load_from_the_hub_without_local_files(tmp_path, monkeypatch, capsys, name, split, hub, config, hub_split, rows, want):
    "No local files and the hub allowed: the same benchmark from its hub dataset, columns as xenc names them, unlabelled rows (-1) dropped."
    import datasets
    from datasets import Dataset
    from xenc import data as D
    asked = []
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: asked.append((a, k)) or Dataset.from_dict(rows))
    for v in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "XENC_DATA_DIR"): monkeypatch.delenv(v, raising=False)
    if name == "stsb": monkeypatch.setattr(D, "packaged_data_dir", lambda: tmp_path / "gone")      # as if the package lacked it
    ds = D.load_benchmark(name, split, data_dir=tmp_path)
    assert asked == [((hub, config), {"split": hub_split})]
    assert ds[ds.column_names[2]][:] == want and ds.column_names[:2] == list(D.BENCHMARKS[name][3][:2])
    assert f"from the Hugging Face hub: {hub}" in capsys.readouterr().err

def test_offline_benchmark_errors_name_the_folder_and_the_hub_dataset(tmp_path, monkeypatch):
    from xenc.data import PairDataError, load_benchmark
    monkeypatch.setenv("HF_HUB_OFFLINE", "1"); monkeypatch.delenv("XENC_DATA_DIR", raising=False)
    with pytest.raises(PairDataError, match=r"Fill .*rte/ with train.tsv .* or allow the hub to load nyu-mll/glue \(rte\)"):
        load_benchmark("rte", "train", data_dir=tmp_path)
    with pytest.raises(PairDataError, match=r"lcqmc dev: DATA_DIR/lcqmc/dev.txt is not there.*C-MTEB/LCQMC"):
        load_benchmark("lcqmc", "dev")
    assert len(load_benchmark("stsb", "test")) == 1379                  # STS-B ships with xenc: no folder, no hub
