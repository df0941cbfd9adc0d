"""The fast training paths change no result: the unpadded forward equals the transformers forward (logits and gradients),
training through it gives the same model, the optimizer names are Hugging Face's, and bf16='auto' is settled and said."""
import pytest, torch
from torch import nn
from xenc.data import load_benchmark
from xenc.model import CrossEncoder, offline_base_model, tiny_cross_encoder
import xenc.training.trainer as T
from xenc.training.checks import check_config
from xenc.model import cpu_has_bf16
from xenc.kernels import _CHOSEN
from xenc.training.loop import DEFAULT_OPTIM, make_optimizer

def no_dropout(model):
    for m in model.modules():
        if isinstance(m, nn.Dropout): m.p = 0.0
    return model

@pytest.fixture(scope="module")
def sts():
    return load_benchmark("stsb", "train")

def grads(model, logits):
    model.zero_grad(); logits.sum().backward()
    return torch.cat([p.grad.flatten() for p in model.parameters()])

def test_unpadded_forward_equals_transformers_on_the_base_model(sts):
    "The offline base model in training mode (dropout off), 16 random STS-B pairs: same logits, same gradients."
    torch.manual_seed(0)
    ce = CrossEncoder(offline_base_model(), num_labels=1, device="cpu")
    no_dropout(ce.model).train()
    b = ce.tokenize([(r["sentence1"], r["sentence2"]) for r in sts.shuffle(seed=1).select(range(16))])
    assert (b["attention_mask"] == 0).float().mean() > 0.2            # a batch with real padding to skip
    assert ce.forward_path == "unpadded"
    ref = ce.model(**b).logits; g_ref = grads(ce.model, ref)
    out = ce(b); g = grads(ce.model, out)
    assert torch.allclose(out, ref, atol=1e-5, rtol=0), (out - ref).abs().max()
    assert (g - g_ref).abs().max() / g_ref.abs().max() < 1e-5

def test_training_through_either_forward_gives_the_same_model(sts, tmp_path):
    "6 steps of `train` (dropout off): the unpadded run and the transformers run score held-out pairs alike."
    held = [(r["sentence1"], r["sentence2"]) for r in sts.select(range(200, 232))]
    scores = {}
    for unpadded in (True, False):
        torch.manual_seed(0)
        ce = tiny_cross_encoder(tmp_path / f"m{unpadded}", dropout=0.0)
        ce.unpadded = unpadded
        cfg = T.TrainConfig(output_dir=str(tmp_path / f"o{unpadded}"), per_device_train_batch_size=8, max_steps=6, learning_rate=1e-3,
                            save_strategy="no", disable_tqdm=True)
        T.train(ce, cfg, sts.select(range(48)))
        scores[unpadded] = ce.predict(held)
    assert abs(scores[True] - scores[False]).max() < 1e-4
    assert abs(scores[True] - tiny_cross_encoder(tmp_path / "start", dropout=0.0).predict(held)).max() > 1e-3   # it did train

def test_optimizer_names_are_hugging_faces(tmp_path):
    from transformers import TrainingArguments
    assert T.TrainConfig().optim == DEFAULT_OPTIM == TrainingArguments(output_dir=str(tmp_path), report_to="none").optim.value
    m = tiny_cross_encoder()
    assert make_optimizer(m, T.TrainConfig()).defaults["fused"] is True
    assert make_optimizer(m, T.TrainConfig(optim="adamw_torch")).defaults["foreach"] is True
    check_config(T.TrainConfig(optim="adamw_torch_fused"), m, False)          # on a CPU too
    with pytest.raises(T.TrainConfigError, match="adafactor.*adamw_torch_fused or adamw_torch"):
        check_config(T.TrainConfig(optim="adafactor"), m, False)

def test_fused_and_foreach_adamw_take_the_same_steps(sts, tmp_path):
    weights = {}
    for optim in ("adamw_torch_fused", "adamw_torch"):
        ce = tiny_cross_encoder(tmp_path / optim, dropout=0.0)
        cfg = T.TrainConfig(output_dir=str(tmp_path / f"o-{optim}"), per_device_train_batch_size=8, max_steps=5, learning_rate=1e-3,
                            weight_decay=0.01, save_strategy="no", disable_tqdm=True, optim=optim)
        T.train(ce, cfg, sts.select(range(40)))
        weights[optim] = ce.model.state_dict()
    for k, v in weights["adamw_torch"].items():
        assert torch.allclose(v, weights["adamw_torch_fused"][k], atol=1e-6, rtol=0), k

def test_bf16_auto_is_settled_recorded_and_said(sts, tmp_path, capsys):
    ce = tiny_cross_encoder(tmp_path / "m")
    cfg = T.TrainConfig(output_dir=str(tmp_path / "o"), per_device_train_batch_size=8, max_steps=2, save_strategy="no", bf16="auto")
    r = T.train(ce, cfg, sts.select(range(16)))
    native = cpu_has_bf16()
    assert r.config.bf16 is native                                           # what the card's hyperparameters show
    first = capsys.readouterr().out.splitlines()[0]
    # the kernel measured fastest for this case (the first batch: 28 tokens, dropout on) is the one named
    heads = ce.model.config.num_attention_heads
    d = ce.model.config.hidden_size // heads
    chosen = _CHOSEN[("cpu", "bfloat16" if native else "float32", heads, d, 32, 32, True, True)]
    assert first == (f"xenc.train: 2 steps of 8 pairs on cpu, "
                     + ("bf16 autocast (bf16='auto': this CPU computes in bf16)" if native else "fp32 (bf16='auto': this CPU has no native bf16)")
                     + f", {DEFAULT_OPTIM}, forward: unpadded, attention: {chosen} at 28 tokens "
                     "(measured; other lengths as they come)"), first

def test_an_unknown_architecture_trains_through_its_own_forward(sts, tmp_path, capsys):
    from transformers import AutoTokenizer, DistilBertConfig, DistilBertForSequenceClassification
    tok = AutoTokenizer.from_pretrained(offline_base_model())
    torch.manual_seed(0)
    DistilBertForSequenceClassification(DistilBertConfig(vocab_size=tok.vocab_size, n_layers=1, dim=32, hidden_dim=64, n_heads=2,
                                                         num_labels=1)).save_pretrained(tmp_path / "db")
    tok.save_pretrained(tmp_path / "db")
    ce = CrossEncoder(tmp_path / "db", device="cpu")
    assert ce.forward_path == "transformers (DistilBertForSequenceClassification has no unpadded forward)"
    b = ce.tokenize([("a", "b c"), ("d e f", "g")])
    with torch.no_grad(): assert torch.equal(ce(b), ce.model(**b).logits)
    T.train(ce, T.TrainConfig(output_dir=str(tmp_path / "o"), per_device_train_batch_size=4, max_steps=2, save_strategy="no"), sts.select(range(8)))
    assert "forward: transformers (DistilBertForSequenceClassification has no unpadded forward)" in capsys.readouterr().out

def test_prediction_takes_the_same_fast_path_on_the_rectangle(sts):
    "predict runs the one fast path (packed=False on its length-sorted batches): the transformers logits, and the packed ones."
    from xenc.unpadded import unpadded_logits
    torch.manual_seed(0)
    ce = CrossEncoder(offline_base_model(), num_labels=1, device="cpu")
    b = ce.tokenize([(r["sentence1"], r["sentence2"]) for r in sts.select(range(16))])
    with torch.inference_mode():
        ref = ce.model(**b).logits
        for packed in (False, True): assert torch.allclose(unpadded_logits(ce.model, **b, packed=packed), ref, atol=1e-5, rtol=0)
        assert torch.allclose(ce._logits(b), ref, atol=1e-5, rtol=0)

def test_without_a_registered_fast_path_forward_is_the_models_own(monkeypatch):
    ce = tiny_cross_encoder()
    monkeypatch.setattr(CrossEncoder, "fast_path", None)
    assert ce.forward_path == "transformers (no fast path)"
    b = ce.tokenize([("a", "b c"), ("d e f", "g")])
    with torch.no_grad(): assert torch.equal(ce(b), ce.model(**b).logits)
