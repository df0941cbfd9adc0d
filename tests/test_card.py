"xenc.card.read against cards sentence-transformers writes: a fresh one from a short CrossEncoderTrainer run, read whole, collapsed and double-decoded."
from dataclasses import asdict
import warnings

import pytest
import yaml

from xenc.card.read import parse_card
from xenc.card.build import compare_results, save_with_card
from xenc.card.write import render_card
from xenc.data import load_benchmark


@pytest.fixture(scope="module")
def st_run(tmp_path_factory, tiny_model_dir, data_dir):
    "Train the tiny model for 8 steps with sentence-transformers and save it: its README.md is a card ST wrote just now."
    from sentence_transformers.cross_encoder import CrossEncoder, CrossEncoderTrainer, CrossEncoderTrainingArguments
    from sentence_transformers.cross_encoder.evaluation import CrossEncoderCorrelationEvaluator
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss
    out = tmp_path_factory.mktemp("st-card")
    train = load_benchmark("stsb", "train", data_dir=data_dir).select(range(64))
    dev = load_benchmark("stsb", "validation", data_dir=data_dir).select(range(32))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = CrossEncoder(str(tiny_model_dir), num_labels=1)
        ev = CrossEncoderCorrelationEvaluator(list(zip(dev["sentence1"], dev["sentence2"])), dev["score"], name="sts-dev")
        args = CrossEncoderTrainingArguments(output_dir=str(out / "run"), per_device_train_batch_size=16, num_train_epochs=2,
                                             logging_steps=2, eval_strategy="steps", eval_steps=4, save_strategy="no", learning_rate=1e-3,
                                             warmup_steps=0.1, report_to="none", disable_tqdm=True, seed=7)
        trainer = CrossEncoderTrainer(model=model, args=args, train_dataset=train, eval_dataset=dev,
                                      loss=BinaryCrossEntropyLoss(model), evaluator=ev)
        trainer.train()
        final = ev(model)
        model.save_pretrained(str(out / "model"))
    return (out / "model" / "README.md").read_text(encoding="utf-8"), final, trainer.state.log_history


def test_reads_a_fresh_sentence_transformers_card(st_run):
    text, final, history = st_run
    c = parse_card(text)
    assert (c.num_labels, c.max_seq_length, c.loss, c.dataset_sizes, c.pipeline_tag) == (1, 512, "BinaryCrossEntropyLoss", [64], "text-ranking")
    assert c.train_datasets[0].columns == ["sentence1", "sentence2", "score"]
    assert c.train_datasets[0].size == 64 and c.eval_datasets[0].size == 32
    assert c.loss_params == {"activation_fn": "torch.nn.modules.linear.Identity", "pos_weight": None}
    hp = {k: c.hyperparameter(k) for k in ("per_device_train_batch_size", "num_train_epochs", "learning_rate", "warmup_steps", "seed", "bf16")}
    # sentence-transformers 6 with transformers 5 writes the warmup ratio as a float `warmup_steps`
    assert hp == {"per_device_train_batch_size": 16, "num_train_epochs": 2, "learning_rate": 1e-3, "warmup_steps": 0.1, "seed": 7, "bf16": False}
    assert c.non_default_hyperparameters == {"per_device_train_batch_size": 16, "num_train_epochs": 2, "learning_rate": 1e-3, "warmup_steps": 0.1, "seed": 7, "disable_tqdm": True}
    assert c.metrics == final                        # unrounded, as the evaluator returned them
    assert c.results[0]["primary"] == "spearman"
    losses = [round(h["loss"], 4) for h in history if "loss" in h]
    assert [r["Training Loss"] for r in c.training_logs if r.get("Training Loss") is not None] == pytest.approx(losses, abs=1e-4)


def test_reads_it_collapsed_and_double_decoded(st_run):
    "The two damages of the seed cards, done here to a card whose true content is known."
    text = st_run[0]
    whole = asdict(parse_card(text))
    flat = asdict(parse_card(" ".join(text.split())))
    for d in ("train_datasets", "eval_datasets"):             # collapsing strips nothing here, but ST's HTML lists become text
        for a, b in zip(whole[d], flat[d]): a["details"] = b["details"] = None
    assert {k: v for k, v in flat.items() if k not in ("notes", "citations")} == {k: v for k, v in whole.items() if k not in ("notes", "citations")}
    assert "collapsed" in flat["notes"][0]
    mangled = text.replace("A man", "Ein Mann für 🤗").encode("utf-8").decode("cp1252", errors="ignore")
    assert "ðŸ¤—" in mangled
    back = parse_card(mangled)
    assert back.usage_pairs[0][0].startswith("Ein Mann für 🤗")
    assert back.metrics == st_run[1]


def test_xenc_card_round_trips_and_the_hub_reads_it(st_run, tmp_path, tiny_model_dir):
    from huggingface_hub import ModelCard as HubCard
    from xenc.model import CrossEncoder
    c = parse_card(st_run[0])
    c.base_model = "sentence-transformers/all-MiniLM-L6-v2"
    text = render_card(c)
    back = parse_card(text)
    assert {k: v for k, v in asdict(back).items() if k != "notes"} == {k: v for k, v in asdict(c).items() if k != "notes"}
    meta = yaml.safe_load(text.split("---\n")[1])
    assert meta["base_model"] == "sentence-transformers/all-MiniLM-L6-v2" and "dataset_size:64" in meta["tags"]
    hub = HubCard(text).data
    assert [(r.dataset_type, r.metric_type, r.metric_value) for r in hub.eval_results] == \
           [("sts-dev", k.split("_", 1)[1], v) for k, v in st_run[1].items()]
    # save_with_card writes the card, and sentence-transformers still loads the folder
    from sentence_transformers.cross_encoder import CrossEncoder as STCrossEncoder
    m = CrossEncoder(tiny_model_dir, device="cpu")
    save_with_card(m, tmp_path / "m", c)
    assert parse_card((tmp_path / "m" / "README.md").read_text(encoding="utf-8")).metrics == c.metrics
    pairs = [["a cat", "a dog"], ["one", "two"]]
    assert STCrossEncoder(str(tmp_path / "m")).predict(pairs) == pytest.approx(m.predict(pairs), abs=1e-6)
    rows = compare_results(c, back)
    assert [r["difference"] for r in rows] == [0.0, 0.0]


def test_the_wheel_ships_the_card_template(tmp_path):
    "render_card reads xenc/card/templates/model_card.md.jinja as package data: a non-editable install must carry it."
    import subprocess, sys, zipfile
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(root)],
                   check=True, capture_output=True, timeout=600)
    names = zipfile.ZipFile(next(tmp_path.glob("xenc-*.whl"))).namelist()
    assert "xenc/card/templates/model_card.md.jinja" in names
