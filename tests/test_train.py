"xenc.train: data parallel with 2 gloo processes equals 1 process; a kill while saving leaves the last checkpoint whole."
import os, subprocess, sys, textwrap
from pathlib import Path
import pytest, torch
from xenc.data import load_benchmark
from xenc.model import CrossEncoder, tiny_cross_encoder
import xenc.training.trainer as T
import xenc.training.runs as R
import xenc.training.checks as C
from xenc.model import cpu_has_bf16

@pytest.fixture(scope="module")
def tiny_no_dropout(tmp_path_factory):
    "A tiny random BERT without dropout, so that runs with different process counts can agree exactly."
    path = tmp_path_factory.mktemp("tiny-nodrop")
    tiny_cross_encoder(path, dropout=0.0)
    return path

SCRIPT = textwrap.dedent("""
    import os, sys, torch
    from xenc.data import load_benchmark
    from xenc.model import CrossEncoder
    from xenc import TrainConfig, train
    model_dir, out, global_batch, accumulation = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1: torch.distributed.init_process_group("gloo")
    torch.set_num_threads(1)
    model = CrossEncoder(model_dir, device="cpu")
    cfg = TrainConfig(output_dir=out, per_device_train_batch_size=global_batch // world, max_steps=6, learning_rate=1e-3,
                      warmup_steps=2, logging_steps=1, save_steps=6, disable_tqdm=True, gradient_accumulation_steps=accumulation)
    seen = []                                  # does the forward go through DistributedDataParallel during training?
    r = train(model, cfg, load_benchmark("stsb", "train").select(range(96)),
              callback=lambda st: seen.append("forward" in model.__dict__))
    assert all(seen) == (world > 1) and "forward" not in model.__dict__, seen
    if int(os.environ.get("RANK", "0")) == 0:
        torch.save({k: v.clone() for k, v in model.state_dict().items()}, os.path.join(out, "final.pt"))
    if world > 1: torch.distributed.destroy_process_group()
""")

@pytest.mark.parametrize("accumulation", [1, 2])
def test_two_gloo_processes_equal_one(tmp_path, tiny_no_dropout, accumulation):
    "DDP over 2 gloo processes (per-device batch 4) takes the same steps as 1 process (batch 8), with and without accumulation."
    script = tmp_path / "ddp.py"; script.write_text(SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    one, two, acc = tmp_path / "one", tmp_path / "two", str(accumulation)
    subprocess.run([sys.executable, str(script), str(tiny_no_dropout), str(one), "8", acc], check=True, env=env, capture_output=True)
    r = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29517",
                        str(script), str(tiny_no_dropout), str(two), "8", acc], env=env, capture_output=True, text=True)
    # rank 0 writes final.pt after the last step, which needs both processes (not the exit status: see the next test)
    assert (two / "final.pt").is_file(), r.stderr[-3000:]
    a, b = torch.load(one / "final.pt"), torch.load(two / "final.pt")
    start = CrossEncoder(tiny_no_dropout, device="cpu").state_dict()
    assert any(not torch.equal(start[k], a[k]) for k in a)          # training moved the weights
    for k in a: assert torch.allclose(a[k], b[k], atol=1e-5, rtol=0), k

STOP_SCRIPT = textwrap.dedent("""
    import os, sys, torch
    from xenc.data import load_benchmark
    from xenc.evaluation import CorrelationEvaluator
    from xenc.model import CrossEncoder
    from xenc import TrainConfig, train
    from xenc.training.loop import TrainingError
    model_dir, out, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(out, exist_ok=True)
    torch.distributed.init_process_group("gloo")
    rank = torch.distributed.get_rank()
    torch.set_num_threads(1)
    model = CrossEncoder(model_dir, device="cpu")
    data = load_benchmark("stsb", "train").select(range(64))
    if mode == "nan" and rank == 1:      # only the second process sees a bad label
        data = data.map(lambda r, i: {"score": float("nan") if i >= 36 else r["score"]}, with_indices=True)
    dev = load_benchmark("stsb", "dev").select(range(16))
    ev = CorrelationEvaluator(list(zip(dev["sentence1"], dev["sentence2"])), dev["score"], name="dev")
    cfg = TrainConfig(output_dir=out, per_device_train_batch_size=4, max_steps=40, learning_rate=1e-2, logging_steps=1,
                      eval_strategy="steps", eval_steps=1, save_strategy="no", early_stopping_patience=1, disable_tqdm=True)
    try:
        r = train(model, cfg, data, evaluators=[ev])
        said = f"rank {rank} stopped_early={r.stopped_early} steps={r.log[-1]['step'] if r.log else 'all'}"
    except TrainingError as e:
        said = f"rank {rank} TrainingError: {e}"
    open(os.path.join(out, f"rank{rank}.txt"), "w").write(said)    # (printed lines of two processes interleave)
    torch.distributed.barrier()                                       # both are done before either tears down
    torch.distributed.destroy_process_group()
""")

@pytest.mark.parametrize("mode", ["early_stop", "nan"])
def test_two_processes_stop_together(tmp_path, tiny_no_dropout, mode):
    "Early stopping (decided by process 0) and a NaN loss (seen by process 1 only) end both processes, none left waiting."
    script = tmp_path / "stop.py"; script.write_text(STOP_SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    r = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29518",
                        str(script), str(tiny_no_dropout), str(tmp_path / "out"), mode], env=env, capture_output=True, text=True, timeout=300)
    # (not the exit status: gloo's teardown sometimes aborts a process after it finished, about 1 run in 8 here)
    said = [tmp_path / "out" / f"rank{i}.txt" for i in (0, 1)]
    assert all(p.is_file() for p in said), r.stderr[-3000:]
    lines = [p.read_text() for p in said]
    if mode == "early_stop":
        assert "rank 0 stopped_early=True" in lines[0], lines
        assert lines[1].startswith("rank 1 stopped_early=True"), lines
    else:
        assert "rank 0 TrainingError: The loss is not finite on another process at step" in lines[0], lines
        assert "rank 1 TrainingError: The loss is nan at step" in lines[1], lines

def test_kill_while_saving_keeps_last_checkpoint(tmp_path, tiny_model_dir, monkeypatch):
    "torch.save dies half-way through checkpoint-4: checkpoint-2 stays the latest, loadable, and resuming from it works."
    ds = load_benchmark("stsb", "train").select(range(64))
    cfg = T.TrainConfig(output_dir=str(tmp_path), per_device_train_batch_size=8, max_steps=6, save_steps=2, disable_tqdm=True)
    real_save, calls = torch.save, {"n": 0}
    def dying_save(obj, f, *a, **k):
        calls["n"] += 1
        if calls["n"] == 2:                                           # the second checkpoint: write half a file, then die
            Path(f).write_bytes(b"\x80\x02partial"); raise KeyboardInterrupt("killed")
        return real_save(obj, f, *a, **k)
    monkeypatch.setattr(torch, "save", dying_save)
    with pytest.raises(KeyboardInterrupt):
        T.train(CrossEncoder(tiny_model_dir, device="cpu"), cfg, ds)
    monkeypatch.setattr(torch, "save", real_save)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["checkpoint-2", "xenc_run.json"], names          # no half-written checkpoint-4, no temporary folder left
    ck = R.latest_checkpoint(tmp_path)
    assert CrossEncoder(ck, device="cpu").num_labels == 1 and R.load_training_state(ck)["state"]["step"] == 2
    T.train(CrossEncoder(tiny_model_dir, device="cpu"), cfg, ds, resume_from_checkpoint=True)
    assert R.latest_checkpoint(tmp_path).name == "checkpoint-6"

def test_resume_without_checkpoint_says_so(tmp_path, tiny_model_dir):
    cfg = T.TrainConfig(output_dir=str(tmp_path), max_steps=2, disable_tqdm=True)
    with pytest.raises(T.TrainingError, match="holds no complete checkpoint"):
        T.train(CrossEncoder(tiny_model_dir, device="cpu"), cfg, load_benchmark("stsb", "train").select(range(16)), resume_from_checkpoint=True)

def test_track_emissions_puts_them_on_the_card(tmp_path, tiny_model_dir):
    "codecarbon's offline tracker measures the run; the card shows it and reads it back."
    pytest.importorskip("codecarbon", reason="codecarbon is in the dev extra; pip install codecarbon")
    from xenc.card.read import parse_card
    from xenc.card.build import model_card
    from xenc.card.write import render_card
    model = CrossEncoder(tiny_model_dir, device="cpu")
    data = load_benchmark("stsb", "train").select(range(48))
    cfg = T.TrainConfig(output_dir=str(tmp_path / "run"), per_device_train_batch_size=8, max_steps=6, logging_steps=2,
                        save_strategy="no", disable_tqdm=True)
    r = T.train(model, cfg, data, track_emissions=True)
    e = r.emissions
    assert e["source"] == "codecarbon" and e["training_type"] == "fine-tuning"
    assert e["energy_consumed"] > 0 and e["emissions"] > 0 and e["hours_used"] >= 0
    card = model_card(model, base_model="tiny", train_dataset=data, config=cfg, result=r, measure_hardware=False)
    text = render_card(card)
    assert "### Environmental Impact" in text and "co2_eq_emissions:" in text
    back = parse_card(text).emissions
    assert back["source"] == "codecarbon" and abs(back["emissions"] - e["emissions"]) <= 1e-6 * max(1, e["emissions"])

def test_track_emissions_without_codecarbon_says_so(tmp_path, tiny_model_dir, monkeypatch):
    monkeypatch.setattr(T, "emissions_tracker", lambda *a, **k: None)     # as when codecarbon is not installed
    model = CrossEncoder(tiny_model_dir, device="cpu")
    cfg = T.TrainConfig(output_dir=str(tmp_path / "run"), max_steps=2, save_strategy="no", disable_tqdm=True)
    with pytest.raises(T.TrainConfigError, match="track_emissions=True needs codecarbon: pip install codecarbon"):
        T.train(model, cfg, load_benchmark("stsb", "train").select(range(16)), track_emissions=True)

@pytest.mark.filterwarnings("error:Detected call of:UserWarning")   # torch's warning when the schedule steps past a skipped step
@pytest.mark.parametrize("precision", ["fp16", "bf16"])
def test_mixed_precision_resume_equals_uninterrupted(tmp_path, tiny_model_dir, monkeypatch, precision):
    """A GPU's fp16 path (autocast, gradient scaler, the scaler's state in the checkpoint), run on the CPU's fp16 autocast:
    killed after its checkpoint and resumed, it ends with the weights of the uninterrupted run. bf16 likewise."""
    if precision == "bf16" and not cpu_has_bf16(): pytest.skip("this CPU has no native bf16")
    monkeypatch.setattr(C, "check_config", lambda *a, **k: None)   # (users get fp16 refused on a CPU, where it is slow)
    class Jumpy(torch.amp.GradScaler):      # a scale that overflows at first and then grows every 2 steps: its state matters
        def __init__(self, device, enabled=True): super().__init__(device, init_scale=2.0 ** 24, growth_interval=2, enabled=enabled)
    monkeypatch.setattr(torch.amp, "GradScaler", Jumpy)
    ds = load_benchmark("stsb", "train").select(range(128))
    def run(out, kill_at=None, resume=False):
        model = CrossEncoder(tiny_model_dir, device="cpu")
        cfg = T.TrainConfig(output_dir=str(out), per_device_train_batch_size=8, max_steps=12, learning_rate=1e-3, warmup_steps=2,
                            logging_steps=2, save_steps=6, disable_tqdm=True, **{precision: True})
        def killer(st):
            if st.step == kill_at: raise KeyboardInterrupt
        try: T.train(model, cfg, ds, callback=killer, resume_from_checkpoint=resume)
        except KeyboardInterrupt: return None
        return model.state_dict()
    full = run(tmp_path / "full")
    assert run(tmp_path / "killed", kill_at=9) is None
    scaler = torch.load(tmp_path / "killed" / "checkpoint-6" / "training_state.pt", weights_only=False)["scaler"]
    if precision == "fp16": assert scaler["scale"] != 2.0 ** 24, scaler   # overflows and growth moved it
    else: assert scaler is None
    resumed = run(tmp_path / "killed", resume=True)
    start = CrossEncoder(tiny_model_dir, device="cpu").state_dict()
    assert any(not torch.equal(start[k], full[k]) for k in full)
    for k in full: assert torch.allclose(full[k], resumed[k], atol=1e-6, rtol=0), k

@pytest.mark.parametrize("bs,accum,world", [(8, 4, 1), (16, 3, 1), (8, 1, 2), (3, 2, 2)])
def test_one_step_count(tmp_path, tiny_model_dir, bs, accum, world):
    """The steps a run plans, and takes, are those `optimizer_steps` counts, which a recipe's budget uses too
    (100 pairs, batch 8, accumulation 4: 13 batches, so 3 steps an epoch, not ceil(100 / 8 / 4) = 4)."""
    from xenc.data import detect_columns
    ds = load_benchmark("stsb", "train").select(range(100))
    cfg = T.TrainConfig(output_dir=str(tmp_path), per_device_train_batch_size=bs, gradient_accumulation_steps=accum,
                        num_train_epochs=2, save_strategy="no", disable_tqdm=True)
    model = CrossEncoder(tiny_model_dir, device="cpu")
    run = T.Run(model, cfg, None, ds, detect_columns(ds.column_names), None, None, world=world)
    T.plan(run)
    per_epoch = (100 // (bs * world) + (100 % (bs * world) > 0)) // accum
    assert run.total == C.optimizer_steps(cfg, len(ds), world) == 2 * per_epoch
    if world == 1:
        steps = []
        T.train(model, cfg, ds, callback=lambda st: steps.append(st.step))
        assert steps == list(range(1, run.total + 1))

# Moved from nbs/03b_runs.ipynb ("A run and its folder"): its longer checks.
def _tiny(seed=0): return tiny_cross_encoder(seed=seed, device="cpu")

def test_fingerprint_ignores_when_and_names_what_differs():
    "Saving, logging and length settings are not a run's identity; data, model, loss and updating settings are."
    from xenc.data import detect_columns
    from xenc.losses import BinaryCrossEntropyLoss as BCE, MSELoss
    sts = load_benchmark("stsb", "train").select(range(64))
    cols = detect_columns(sts.column_names)
    m = _tiny()
    fp = R.run_fingerprint(T.TrainConfig(), m, BCE(m), sts, cols)
    assert fp == R.run_fingerprint(T.TrainConfig(save_steps=7, max_steps=3), _tiny(), BCE(_tiny()), sts, cols)
    assert R.differences(fp, R.run_fingerprint(T.TrainConfig(learning_rate=1e-3), m, MSELoss(m), sts, cols)) == [
        "config.learning_rate: 5e-05 -> 0.001", "loss: 'BinaryCrossEntropyLoss' -> 'MSELoss'"]
    fewer = R.run_fingerprint(T.TrainConfig(), m, BCE(m), sts.select(range(1, 64)), cols)
    assert R.differences(fp, fewer)[0] == "data.rows: 64 -> 63"
    other = R.run_fingerprint(T.TrainConfig(), _tiny(seed=1), BCE(m), sts, cols)
    assert R.differences(fp, other)[0].split(":")[0] == "model.embeddings"

def test_early_stopping_keeps_the_runs_two_newest_checkpoints(tmp_path):
    "A metric that never improves stops the run after two evaluations; save_total_limit=2 keeps two checkpoints."
    class Flat:
        primary_metric = "flat_score"
        def __call__(self, model, **kw): return {"flat_score": 0.5}
    sts = load_benchmark("stsb", "train").select(range(64))
    cfg = T.TrainConfig(output_dir=str(tmp_path), per_device_train_batch_size=8, max_steps=20,
                        eval_strategy="steps", eval_steps=2, save_steps=2, save_total_limit=2,
                        early_stopping_patience=2, disable_tqdm=True)
    r = T.train(_tiny(), cfg, sts, evaluators=[Flat()])
    assert (r.stopped_early, r.log[-1]["step"]) == (True, 6)
    assert sorted(p.name for p in tmp_path.glob("checkpoint-*")) == ["checkpoint-4", "checkpoint-6"]

def test_killed_run_resumes_as_if_never_interrupted(tmp_path):
    "Killed after step 12 (last checkpoint 8) and resumed: the same weights and log as an uninterrupted run."
    sts256 = load_benchmark("stsb", "train").select(range(256))
    def tiny_run(outdir, kill_at=None, resume=False):
        model = _tiny()
        c = T.TrainConfig(output_dir=str(outdir), per_device_train_batch_size=8, max_steps=16,
                          learning_rate=1e-3, warmup_steps=4, logging_steps=2, save_steps=8, disable_tqdm=True)
        def killer(st):
            if st.step == kill_at: raise KeyboardInterrupt
        try: return model, T.train(model, c, sts256, callback=killer, resume_from_checkpoint=resume)
        except KeyboardInterrupt: return None
    (full, r_full), killed = tiny_run(tmp_path / "full"), tmp_path / "killed"
    assert tiny_run(killed, kill_at=12) is None
    assert R.latest_checkpoint(killed).name == "checkpoint-8"
    resumed, r_res = tiny_run(killed, resume=True)
    for a, b in zip(full.state_dict().values(), resumed.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-6, rtol=0)
    assert [r["step"] for r in r_res.log] == [r["step"] for r in r_full.log]
    assert torch.allclose(torch.tensor([r["loss"] for r in r_res.log]),
                          torch.tensor([r["loss"] for r in r_full.log]), atol=1e-6, rtol=0)

def test_claim_output_dir_names_the_setting_that_differs(tmp_path):
    "A folder holding a run with another batch size is refused, naming the setting."
    from xenc.data import detect_columns
    from xenc.losses import BinaryCrossEntropyLoss as BCE
    sts = load_benchmark("stsb", "train").select(range(64))
    cols, m = detect_columns(sts.column_names), _tiny()
    R.claim_output_dir(tmp_path, R.run_fingerprint(T.TrainConfig(), m, BCE(m), sts, cols))
    fp2 = R.run_fingerprint(T.TrainConfig(per_device_train_batch_size=16), m, BCE(m), sts, cols)
    with pytest.raises(T.TrainConfigError, match="per_device_train_batch_size: 8 -> 16"):
        R.claim_output_dir(tmp_path, fp2)
