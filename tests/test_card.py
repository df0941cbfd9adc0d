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


# Chapter 05d's finer checks, on a tiny model (the chapter trains and describes the real one).

def test_dataset_stats_by_hand(tokenizer):
    from datasets import Dataset
    from xenc.card.build import dataset_stats
    from xenc.data import load_pairs
    toy = Dataset.from_dict({"premise": ["a", "bb", "cccccc"], "hypothesis": ["xyz", "xyz", "xyz"], "label": [0, 0, 1]})
    assert dataset_stats(toy.select([0])).details["label"] == {"0": "100.00%"}
    assert dataset_stats(toy, n=2).details["premise"]["max"] == "2 characters"
    assert dataset_stats(load_pairs([("a", "b", 0.25), ("c", "d", 0.5)])).details["label"] == {"min": 0.25, "mean": 0.38, "max": 0.5}
    # with a tokenizer, lengths are what the tokenizer gives (with [CLS] and [SEP])
    assert dataset_stats(toy, tokenizer=tokenizer).details["hypothesis"]["min"] == f"{len(tokenizer('xyz')['input_ids'])} tokens"


def test_dataset_stats_have_the_seed_cards_shape(data_dir):
    "Every line has the shape of seed card 002's (whose numbers are another dataset's): numbers and words in cells as patterns."
    import re
    from xenc.card.build import dataset_stats
    seed_lines = """* Size: 100,000 training samples
* Columns: <code>premise</code>, <code>hypothesis</code>, and <code>label</code>
* Approximate statistics based on the first 1000 samples:
  | type    | string                                                                                          | string                                                                                          | int                                                                |
  | details | <ul><li>min: 23 characters</li><li>mean: 69.54 characters</li><li>max: 227 characters</li></ul> | <ul><li>min: 11 characters</li><li>mean: 38.26 characters</li><li>max: 131 characters</li></ul> | <ul><li>min: 0.0</li><li>mean: 0.16</li><li>max: 1.0</li></ul> |
* Samples:""".splitlines()
    def shape(line):
        line = re.sub(r"\d[\d,]*(\.\d+)?", "9", re.sub(r"\s+", " ", line))
        return re.sub(r"<code>\w+</code>", "<code>C</code>", line).replace("float", "T").replace("int", "T")
    md = dataset_stats(load_benchmark("stsb", "train", data_dir=data_dir), n=1000).to_markdown()
    ours = [l for l in md.splitlines() if l.startswith("*") or "| type" in l or "| details" in l]
    assert [shape(l) for l in ours] == [shape(l) for l in seed_lines]


@pytest.fixture(scope="module")
def xenc_run(tmp_path_factory, data_dir):
    "A short xenc run of the tiny model on STS-B, and its card."
    from xenc import TrainConfig, train
    from xenc.card.build import model_card, usage_output
    from xenc.evaluation import CorrelationEvaluator
    from xenc.losses import BinaryCrossEntropyLoss
    from xenc.model import tiny_cross_encoder
    work = tmp_path_factory.mktemp("xenc-card")
    model = tiny_cross_encoder(work / "tiny")
    sts = load_benchmark("stsb", "train", data_dir=data_dir).select(range(96))
    dev = load_benchmark("stsb", "validation", data_dir=data_dir).select(range(64))
    test = load_benchmark("stsb", "test", data_dir=data_dir).select(range(64))
    def ev(d, name): return CorrelationEvaluator(list(zip(d["sentence1"][:], d["sentence2"][:])), d["score"][:], name=name, write_csv=False)
    loss = BinaryCrossEntropyLoss(model)
    cfg = TrainConfig(output_dir=str(work / "run"), per_device_train_batch_size=16, num_train_epochs=2, learning_rate=1e-3, logging_steps=3,
                      eval_strategy="steps", eval_steps=6, save_strategy="steps", save_steps=6, load_best_model_at_end=True, disable_tqdm=True)
    result = train(model, cfg, sts, loss=loss, eval_dataset=dev, evaluators=[ev(dev, "stsb-validation")])
    card = model_card(model, base_model="sentence-transformers/all-MiniLM-L6-v2", train_dataset=sts, train_name="stsb",
                      train_hub_id="sentence-transformers/stsb", eval_dataset=dev, loss=loss, config=cfg, result=result,
                      evaluators=[ev(dev, "stsb-validation"), ev(test, "stsb-test")], language=["en"], model_id="xenc/tiny-stsb")
    card.usage_output = usage_output(model, card)
    return model, result, card, work


def test_model_card_of_an_xenc_run(xenc_run):
    model, result, card, _ = xenc_run
    assert (card.num_labels, card.loss, card.dataset_sizes, card.train_datasets[0].columns) == (1, "BinaryCrossEntropyLoss", [96], ["sentence1", "sentence2", "score"])
    assert card.hyperparameters["per_device_train_batch_size"] == 16
    assert card.best_step == int(result.best_checkpoint.rsplit("-", 1)[1])
    assert [r["dataset"] for r in card.results] == ["stsb-validation", "stsb-test"]


def test_log_table_and_training_time(xenc_run):
    from xenc.card.build import log_table, training_time
    result = xenc_run[1]
    table = log_table(result).splitlines()
    assert table[0] == "| Epoch | Step | Training Loss | Validation Loss | stsb-validation_spearman |"
    assert table[2].split(" | ")[3] == "-"                 # step 3 has no validation loss
    assert sum(l.startswith("| **") for l in table) == 1     # the best checkpoint, in bold
    assert training_time(result).splitlines()[0].startswith("- **Training**: ")


def test_xenc_run_card_round_trips_and_saves(xenc_run):
    "Rendered and parsed back, the card gives the same fields (the log and the times rounded as the card prints them)."
    from xenc.model import CrossEncoder
    model, _, card, work = xenc_run
    back = parse_card(render_card(card))
    for f in ("base_model", "num_labels", "max_seq_length", "architecture", "language", "datasets", "dataset_sizes", "losses", "results",
              "non_default_hyperparameters", "hyperparameters", "training_logs", "best_step", "framework_versions", "citations",
              "usage_pairs", "usage_output", "model_id", "hardware"):
        assert getattr(back, f) == getattr(card, f), f
    assert asdict(back.train_datasets[0]) == asdict(card.train_datasets[0])
    assert back.training_time["total"] == pytest.approx(card.training_time["total"], abs=3.1 if card.training_time["total"] >= 60 else 0.051)
    save_with_card(model, work / "model", card)
    assert parse_card((work / "model" / "README.md").read_text(encoding="utf-8")).metrics == card.metrics
    pairs = card.usage_pairs
    assert CrossEncoder(work / "model", device="cpu").predict(pairs) == pytest.approx(model.predict(pairs), abs=1e-6)


def test_a_model_saved_without_a_card_gets_one(tmp_path):
    "save_with_card and a plain save_pretrained write the model's own card; the user's README.md is kept; no card when asked."
    from xenc.model import tiny_cross_encoder
    bare = tiny_cross_encoder(tmp_path / "bare", num_labels=3)
    save_with_card(bare, tmp_path / "bare-out")
    text = (tmp_path / "bare-out" / "README.md").read_text(encoding="utf-8")
    b = parse_card(text)
    # a folder is named by its name, not its path
    assert (b.num_labels, b.pipeline_tag, b.base_model, b.results, b.training_logs) == (3, "text-classification", "bare", [], None)
    assert (bare.save_pretrained(tmp_path / "plain") / "README.md").read_text(encoding="utf-8") == text
    assert not (bare.save_pretrained(tmp_path / "none", create_model_card=False) / "README.md").exists()
    (tmp_path / "plain" / "README.md").write_text("my notes")
    with pytest.warns(UserWarning, match="kept the README.md already in"): bare.save_pretrained(tmp_path / "plain")
    assert (tmp_path / "plain" / "README.md").read_text() == "my notes"
    bare.save_pretrained(tmp_path / "plain", card="# new")          # a card passed replaces it
    assert (tmp_path / "plain" / "README.md").read_text() == "# new"


def test_huggingface_hub_reads_the_cards_front_matter(xenc_run):
    "The hub's own parser: model-index into eval results with the card's values, and the model's plain card."
    from huggingface_hub import ModelCard as HubCard
    from xenc.card.build import default_card
    model, _, card, _ = xenc_run
    data = HubCard(render_card(card)).data
    assert (data.library_name, data.pipeline_tag, data.base_model) == ("sentence-transformers", "text-ranking", card.base_model)
    got = {(r.dataset_type, r.metric_type): r.metric_value for r in data.eval_results}
    want = {(r["dataset"], k): v for r in card.results for k, v in r["metrics"].items()}
    assert got.keys() == want.keys() and all(got[k] == pytest.approx(want[k], abs=1e-4) for k in want), (got, want)
    plain = HubCard(default_card(model, model_id="someone/tiny-stsb"))
    assert plain.data.pipeline_tag == "text-ranking" and "CrossEncoder('someone/tiny-stsb')" in plain.text


def test_compare_results_against_seed_cards(xenc_run):
    from xenc.card.read import seed_card
    card = xenc_run[2]
    published = {k: parse_card(seed_card(k).read_text(encoding="utf-8")) for k in ("001", "003")}
    rows = compare_results(published["003"], card)
    assert [r["metric"] for r in rows] == ["pearson", "spearman (primary)", "pearson", "spearman (primary)"]
    assert rows[3]["difference"] == pytest.approx(card.metrics["stsb-test_spearman"] - 0.8403655772346184, abs=1e-12)
    assert compare_results(published["001"], card)[0]["reproduced"] is None     # no such dataset in the reproduction


def test_reads_every_seed_card():
    "Every seed card, field by field (the chapter shows 003 and 004); a card that is not one; odd front matter."
    from fastcore.test import test_eq, test_fail
    from xenc.card.read import seed_cards
    cards = {k: parse_card(p.read_text(encoding="utf-8")) for k, p in seed_cards().items()}
    c = cards["003"]
    test_eq((c.base_model, c.loss, c.num_labels, c.max_seq_length), ("distilbert/distilroberta-base", "BinaryCrossEntropyLoss", 1, 512))
    test_eq((c.train_datasets[0].size, c.train_datasets[0].columns, c.train_datasets[0].hub_id), (5749, ["sentence1", "sentence2", "score"], "sentence-transformers/stsb"))
    test_eq(c.metrics["stsb-test_spearman"], 0.8403655772346184)
    test_eq((c.hyperparameter("num_train_epochs"), c.hyperparameter("per_device_train_batch_size"), c.hyperparameter("learning_rate")), (4, 64, 5e-05))
    test_eq((c.hyperparameter("warmup_steps"), c.hyperparameter("bf16"), c.hyperparameter("lr_scheduler_kwargs")), (0.1, True, None))
    test_eq(c.loss_params, {"activation_fn": "torch.nn.modules.linear.Identity", "pos_weight": None})
    test_eq(c.results[0]["primary"], "spearman")
    test_eq(c.training_logs[4], {"Epoch": 0.8889, "Step": 80, "Training Loss": 0.568, "Validation Loss": 0.5461, "stsb-validation_spearman": 0.8552, "stsb-test_spearman": None})
    test_eq(c.framework_versions["Transformers"], "5.9.0")
    test_eq(c.training_time, {"training": 192.0, "evaluation": 15.8, "total": 210.0})
    assert "collapsed" in c.notes[0]
    c = cards["000"]
    test_eq((c.base_model, c.loss, c.num_labels, c.dataset_sizes, c.results), ("cross-encoder/nli-deberta-v3-base", "CrossEntropyLoss", 2, [8967], []))
    test_eq(c.train_datasets[0].details["label"], {"0": "~79.30%", "1": "~20.70%"})
    test_eq((c.hyperparameter("per_device_train_batch_size"), c.hyperparameter("num_train_epochs"), c.hyperparameter("eval_strategy")), (32, 4, "no"))
    test_eq(c.base_model_revision, "6c749ce3425cd33b46d187e45b92bbf96ee12ec7")
    c = cards["001"]
    test_eq((c.loss, c.num_labels, c.max_seq_length, c.hyperparameter("fp16"), c.hyperparameter("per_device_train_batch_size")), ("BinaryCrossEntropyLoss", 1, 256, True, 16))
    test_eq((c.results[0]["dataset"], c.results[0]["primary"], c.metrics["ce-val_average_precision"]), ("ce-val", "average_precision", 0.5805485796313634))
    test_eq(c.train_datasets[0].samples[1], {"sentence_0": "[S]unspot activity on the surface of our star has dropped to a new low.",
                                             "sentence_1": "It has a regular activity cycle of starspots.", "label": 1.0})
    c = cards["002"]
    test_eq((c.num_labels, c.max_seq_length, c.dataset_sizes, c.metrics["AllNLI-test_f1_macro"]), (3, 514, [100000], 0.7750916004999927))
    test_eq((c.hyperparameter("warmup_ratio"), c.hyperparameter("eval_strategy"), c.emissions["hardware_used"]), (0.1, "steps", "1 x NVIDIA GeForce RTX 3090"))
    test_eq(c.hardware["GPU Model"], "1 x NVIDIA GeForce RTX 3090")
    c = cards["004"]
    test_eq((c.base_model, c.dataset_sizes, c.hyperparameter("per_device_train_batch_size")), ("cross-encoder/ms-marco-MiniLM-L6-v2", [2000, 97230], 8))
    test_eq(c.train_datasets[0].samples[0]["sentence_1"], "我是纠结的\ufffd\ufffd座")     # 双 and 子 lost a byte each: said, not guessed
    test_eq(len(c.training_logs), 48)
    empty = parse_card("just some text")
    test_eq((empty.base_model, empty.loss, empty.hyperparameters, empty.training_logs, empty.results), (None, None, None, None, []))
    test_fail(lambda: parse_card(b"---"), contains="read the file first")
    odd = parse_card("---\ntags: 5\nmodel-index: oops\nlanguage: [en]\nbase_model: x/y\n---\n# A card\n")
    test_eq((odd.title, odd.language, odd.base_model, odd.tags, odd.results), ("A card", ["en"], "x/y", None, []))
    test_eq([n.split(" is ")[0] for n in odd.notes if n.startswith("front matter")], ["front matter 'tags'", "front matter 'model-index'"])
    test_eq(parse_card("---\n- a\n- b\n- c\n---\n# T\n").notes[0], "the YAML front matter is a list, not a mapping of keys: ignored")

def test_table_cells_and_values():
    "An empty cell keeps its column; the values a card writes read back as Python values."
    from xenc.card.read import parse_tables, _value
    assert parse_tables("| | a | b | |:--|:--|:--| | type | | string | text")[0]["rows"] == [["type", "", "string"]]
    assert [_value(v) for v in ("5e-05", "True", "None", "-", "linear", "{'a': 1}", "[]")] == [5e-05, True, None, None, "linear", {"a": 1}, []]
