"Input of the wrong kind, anywhere in the public API: an error that names what was passed and what to pass instead."
import numpy as np, pytest, torch
from xenc import TrainConfig, train
from xenc.card.build import model_card
from xenc.card.read import ModelCard, parse_card
from xenc.card.write import render_card
from xenc.data import load_benchmark
from xenc.evaluation import CorrelationEvaluator, RerankingEvaluator
from xenc.losses import BinaryCrossEntropyLoss
from xenc.batches import check_pairs, check_texts
from xenc.model import CrossEncoder, tiny_cross_encoder
from xenc.training.loop import TrainConfigError

@pytest.fixture(scope="module")
def sts():
    return load_benchmark("stsb", "train").select(range(16))

@pytest.fixture(scope="module")
def model():
    return tiny_cross_encoder(seed=1)

@pytest.mark.parametrize("pairs,message", [
    ({"a": "b"}, "pairs is a dict"), ("a b", "pairs is a single string"), (None, "pairs is None"),
    ([("a", "b", "c")], "with 3 element(s)"), ([("a", 1)], "Pair 0, text 1 is int")])
def test_pairs_of_the_wrong_kind(pairs, message):
    with pytest.raises((TypeError, ValueError)) as e: check_pairs(pairs)
    assert message in str(e.value)

def test_pairs_from_a_dataset_or_an_array(sts):
    with pytest.raises(TypeError, match=r"pairs is a Dataset: .*list\(zip\(data\['sentence1'\]"): check_pairs(sts)
    assert check_pairs(np.array([["a", "b"], ["c", "d"]])) == [["a", "b"], ["c", "d"]]   # rows of strings are pairs

@pytest.mark.parametrize("texts,message", [
    ("one text", "documents is a single str"), ({1: "a"}, r"list\(d.values\(\)\)"), (None, "documents is None"),
    (["a", 3], r"documents\[1\] is int"), (5, "documents is a single int")])
def test_texts_of_the_wrong_kind(model, texts, message):
    with pytest.raises(TypeError, match=message): model.rank("q", texts)
    assert check_texts(("a", "b")) == ["a", "b"]

def test_rank_takes_one_query(model):
    with pytest.raises(TypeError, match="rank\\(\\) takes one query string"): model.rank(["q1", "q2"], ["a", "b"])

def test_evaluators_name_bad_samples_and_labels(sts):
    with pytest.raises(TypeError, match="sample 0's 'negative' is a single str"):
        RerankingEvaluator([{"query": "q", "positive": "p", "negative": "one negative"}])
    with pytest.raises(TypeError, match="sample 1's 'documents' is a dict"):
        RerankingEvaluator([{"query": "q", "positive": "p", "documents": ["p"]}, {"query": "q", "positive": "p", "documents": {"p": 1}}])
    with pytest.raises(TypeError, match="pairs is a Dataset"): CorrelationEvaluator(sts, sts["score"])

@pytest.mark.parametrize("kw,message", [
    (dict(learning_rate="2e-5"), "learning_rate must be float, got str '2e-5': write the number without quotes"),
    (dict(per_device_train_batch_size=16.0), "per_device_train_batch_size must be int, got float 16.0"),
    (dict(fp16="false"), "fp16 must be bool, got str 'false'"),
    (dict(eval_steps="100"), "eval_steps must be int or None"),
    (dict(max_steps=True), "max_steps must be int, got bool"),
    (dict(lr_scheduler_kwargs=[1]), "lr_scheduler_kwargs must be dict or None")])
def test_train_config_names_a_value_of_the_wrong_type(kw, message):
    with pytest.raises(TrainConfigError) as e: TrainConfig(**kw)
    assert message in str(e.value)

def test_train_config_takes_what_a_user_means(tmp_path):
    from pathlib import Path
    c = TrainConfig(output_dir=Path(tmp_path), num_train_epochs=2, learning_rate=np.float64(1e-3), seed=np.int64(3), bf16="auto")
    assert c.num_train_epochs == 2 and c.seed == 3

def test_train_names_arguments_of_the_wrong_kind(model, sts, tmp_path):
    cfg = TrainConfig(output_dir=str(tmp_path), max_steps=1, disable_tqdm=True)
    ev = CorrelationEvaluator([("a", "b"), ("c", "d")], [0.1, 0.9])
    for args, kw, message in [((model, {"max_steps": 1}, sts), {}, r"TrainConfig\(\*\*d\)"),
                              ((model, cfg, sts), {"loss": BinaryCrossEntropyLoss}, r"BinaryCrossEntropyLoss\(model\)"),
                              ((model, cfg, sts), {"loss": BinaryCrossEntropyLoss(tiny_cross_encoder())}, "built on another model"),
                              ((model, cfg, sts), {"evaluators": ev}, r"evaluators=\[evaluator\]"),
                              ((model.model, cfg, sts), {}, "train an xenc CrossEncoder")]:
        with pytest.raises(TrainConfigError, match=message): train(*args, **kw)
    assert not any(tmp_path.iterdir())                     # refused before anything was written

def test_cards_take_one_name_where_a_list_belongs(model):
    assert model_card(model, language="en", measure_hardware=False).language == ["en"]
    with pytest.raises(TypeError, match="language is a single int"): model_card(model, language=5, measure_hardware=False)
    with pytest.raises(TypeError, match="evaluators is one evaluator"):
        model_card(model, evaluators=CorrelationEvaluator([("a", "b"), ("c", "d")], [0.1, 0.9]), measure_hardware=False)
    card = parse_card("---\ndatasets: sentence-transformers/stsb\nlanguage: en\n---\n# A card\n")
    assert (card.datasets, card.language) == (["sentence-transformers/stsb"], ["en"])
    with pytest.raises(TypeError, match="not a ModelCard"): render_card("# my card")
    assert "datasets:\n- sentence-transformers/stsb" in render_card(card)

def test_push_to_hub_refuses_a_card_object_before_creating_anything(model, monkeypatch):
    import huggingface_hub
    made = []
    class Hub:
        def __init__(self, token=None): pass
        def create_repo(self, *a, **k): made.append(a)
    monkeypatch.setattr(huggingface_hub, "HfApi", Hub)
    with pytest.raises(TypeError, match=r"render_card\(card\)"): model.push_to_hub("me/x", card=ModelCard())
    assert made == []

def test_fit_linear_head_needs_one_score_in_0_1_per_pair():
    from xenc.model import offline_base_model
    from xenc.predict import fit_linear_head
    m = CrossEncoder(offline_base_model(), device="cpu")
    with pytest.raises(ValueError, match="2 pairs need as many scores in 0..1; got 1"): fit_linear_head(m, [("a", "b"), ("c", "d")], [0.5])
    with pytest.raises(ValueError, match="divide by 5"): fit_linear_head(m, [("a", "b"), ("c", "d")], [4.0, 2.5])

@pytest.mark.parametrize("kw,error,message", [
    ({"num_labels": "2"}, TypeError, "num_labels must be a whole number without quotes, got str '2'"),
    ({"num_labels": 0}, ValueError, "num_labels must be a whole number above 0"),
    ({"max_length": "512"}, TypeError, "max_length must be a whole number without quotes"),
    ({"activation_fn": "sigmoid"}, TypeError, r"activation_fn must be a module such as torch.nn.Sigmoid\(\)")])
def test_cross_encoder_options_of_the_wrong_type(tiny_model_dir, kw, error, message):
    with pytest.raises(error, match=message): CrossEncoder(tiny_model_dir, device="cpu", **kw)

def test_a_batch_size_in_quotes(model):
    with pytest.raises(TypeError, match="batch_size must be a whole number without quotes"): model.predict([("a", "b")], batch_size="32")
    with pytest.raises(ValueError, match="batch_size must be a whole number above 0"): model.rank("q", ["a"], batch_size=0)

def test_one_name_for_the_text_columns_and_one_text_to_embed(sts):
    from xenc.apps.distill import bi_encoder_embeddings
    from xenc.data import PairDataError, load_pairs
    with pytest.raises(PairDataError, match=r"text_columns is one name, 'sentence1': pass the pair's two"):
        load_pairs(sts, text_columns="sentence1")
    with pytest.raises(TypeError, match="texts is a single str"): bi_encoder_embeddings("one text")

def test_a_loss_called_with_a_string_or_pairs_and_marginmse_with_a_list(model):
    from xenc.losses import LossInputError, MarginMSELoss
    bce = BinaryCrossEntropyLoss(model)
    with pytest.raises(LossInputError, match="got a string where a column belongs"): bce(["ab", "cd"], [0.0])
    with pytest.raises(LossInputError, match=r"got 3: .*list\(zip\(\*pairs\)\)"): bce([("a", "b")] * 3, [0.0] * 3)
    columns = (["q1", "q2"], ["p1", "p2"], ["n1", "n2"])
    margin = MarginMSELoss(model)
    assert torch.allclose(margin(columns, [0.5, 0.25]), margin(columns, torch.tensor([0.5, 0.25])))

def test_a_pointwise_loss_refuses_data_without_labels(model, sts, tmp_path):
    cfg = TrainConfig(output_dir=str(tmp_path), max_steps=1, disable_tqdm=True)
    unlabelled = sts.remove_columns("score")
    with pytest.raises(TrainConfigError, match="BinaryCrossEntropyLoss learns from labels, but the training data has none"):
        train(model, cfg, unlabelled)
    assert not any(tmp_path.iterdir())

def test_a_model_index_of_the_wrong_shape_is_read_with_a_note():
    text = ("---\nmodel-index:\n- name: m\n  results:\n  - task: text-ranking\n    dataset: stsb\n"
            "    metrics:\n    - 0.9\n    - type: spearman\n      value: 0.8\n---\n# A card\n")
    card = parse_card(text)
    assert card.results[0]["metrics"] == {"spearman": 0.8} and card.results[0]["task"] is None
    assert any("wrong shape (task, dataset, metrics)" in n for n in card.notes)

def test_counts_from_numpy_are_whole_numbers(model):
    from xenc.batches import check_count
    assert check_count(np.int64(32), "batch_size") == 32
    assert len(model.predict([("a", "b")], batch_size=np.int64(8))) == 1
    with pytest.raises(TypeError, match="got bool True"): check_count(True, "batch_size")

@pytest.mark.parametrize("metrics", ["0.9", "true", "[]", "{type: spearman}"])
def test_a_model_index_metrics_value_of_any_shape_is_read(metrics):
    card = parse_card(f"---\nmodel-index:\n- name: m\n  results:\n  - metrics: {metrics}\n---\n# A card\n")
    assert card.results[0]["metrics"] == {}
    assert any("wrong shape (metrics)" in n for n in card.notes) == (metrics != "[]")
