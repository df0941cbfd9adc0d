"xenc.lora: adapters start at the base model, the fast forward sees them, merged and saved models score as trained, runs resume."
import shutil

import numpy as np, pytest, torch
from xenc import TrainConfig, train
from xenc.data import load_benchmark
from xenc.lora import full_parameters, has_lora, head_parameters, load_adapter
from xenc.model import CrossEncoder, tiny_cross_encoder

pytest.importorskip("peft")

@pytest.fixture(scope="module")
def sts():
    return load_benchmark("stsb", "train").select(range(48))

@pytest.fixture(scope="module")
def pairs(sts):
    return list(zip(sts["sentence1"][:16], sts["sentence2"][:16]))

def kicked(m, seed=0):
    "Nonzero adapters and a changed head, as training would leave them."
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for n, p in m.model.named_parameters():
            if "lora_B" in n or n in full_parameters(m): p.add_(0.05 * torch.randn(p.shape, generator=g))
    return m

def test_adapters_start_at_the_base_model_and_train_with_the_head(tiny_model_dir, pairs):
    m = CrossEncoder(tiny_model_dir, device="cpu")
    before = m.predict(pairs)
    m.add_lora(r=4)
    np.testing.assert_allclose(m.predict(pairs), before, atol=1e-6, rtol=0)
    trainable = {n for n, p in m.model.named_parameters() if p.requires_grad}
    lora = {n for n, _ in m.model.named_parameters() if "lora_" in n}
    assert trainable == lora | set(full_parameters(m))
    assert {"bert.pooler.dense.weight", "classifier.weight", "bert.embeddings.LayerNorm.weight",
            "bert.encoder.layer.1.output.LayerNorm.bias", "bert.encoder.layer.0.attention.self.query.base_layer.bias"} <= trainable
    assert not any(n.endswith("base_layer.weight") or "word_embeddings" in n for n in trainable)
    assert sum("lora_A" in n for n in trainable) == 2 * 6              # 2 layers, 6 linear layers each
    with pytest.raises(ValueError, match="merge_lora"): m.add_lora()
    head_only = CrossEncoder(tiny_model_dir, device="cpu").add_lora(r=4, norms=False)
    trainable = {n for n, p in head_only.model.named_parameters() if p.requires_grad}
    assert trainable == {n for n in trainable if "lora_" in n} | set(head_parameters(head_only))

def test_packed_and_rectangle_forwards_see_the_adapters(tiny_model_dir, pairs):
    "The packed forward fuses q, k, v only for plain layers: with adapters it must equal transformers' own forward."
    m = kicked(CrossEncoder(tiny_model_dir, device="cpu").add_lora(r=4)).eval()
    batch = m.tokenize(pairs)
    with torch.no_grad():
        ref = m.model(**batch).logits
        for packed in (True, False):
            torch.testing.assert_close(m.forward(batch, packed=packed), ref, atol=1e-5, rtol=0)

def test_merged_saved_and_reloaded_models_score_as_trained(tiny_model_dir, pairs, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForSequenceClassification
    m = kicked(CrossEncoder(tiny_model_dir, device="cpu").add_lora(r=4))
    scores = m.predict(pairs)
    folder = m.save_pretrained(tmp_path / "m")
    assert "model.safetensors" in {p.name for p in folder.iterdir()}
    assert sorted(p.name for p in (folder / "adapter").iterdir()) == ["adapter_config.json", "adapter_model.safetensors"]
    assert has_lora(m)                                                 # saving merged a copy, not the model
    np.testing.assert_allclose(CrossEncoder(folder, device="cpu").predict(pairs), scores, atol=1e-5, rtol=0)
    back = load_adapter(folder, base_model=str(tiny_model_dir), device="cpu")
    np.testing.assert_allclose(back.predict(pairs), scores, atol=1e-5, rtol=0)
    peft_model = PeftModel.from_pretrained(AutoModelForSequenceClassification.from_pretrained(tiny_model_dir), folder / "adapter").eval()
    with torch.no_grad():
        torch.testing.assert_close(peft_model(**m.tokenize(pairs)).logits, m.eval().model(**m.tokenize(pairs)).logits, atol=1e-5, rtol=0)
    merged = m.merge_lora()
    assert not has_lora(merged) and all(p.requires_grad for p in merged.model.parameters())
    np.testing.assert_allclose(merged.predict(pairs), scores, atol=1e-5, rtol=0)
    other = tiny_cross_encoder(tmp_path / "three", num_labels=3).add_lora(r=4)
    from safetensors.torch import load_file, save_file
    from xenc.lora import load_adapter_weights
    with pytest.raises(ValueError, match="do not fit this model"): load_adapter_weights(other, folder / "adapter")
    f = folder / "adapter" / "adapter_model.safetensors"
    save_file({k: v for k, v in load_file(f).items() if "classifier" not in k}, f)   # a file without the head
    with pytest.raises(ValueError, match="classifier.weight"): load_adapter_weights(back, folder / "adapter")

def test_merging_gives_back_what_was_trainable_before_the_adapters(tiny_model_dir):
    m = CrossEncoder(tiny_model_dir, device="cpu")
    m.model.bert.embeddings.requires_grad_(False)                      # a user's own choice
    frozen = {n for n, p in m.model.named_parameters() if not p.requires_grad}
    assert frozen and len(frozen) < len(list(m.model.parameters()))
    m.add_lora(r=4)
    assert {n for n, p in m.model.named_parameters() if p.requires_grad and "lora_" not in n} == set(full_parameters(m))
    m.merge_lora()
    assert {n for n, p in m.model.named_parameters() if not p.requires_grad} == frozen

def test_a_lora_run_trains_only_what_add_lora_trains_and_resumes(tiny_model_dir, sts, tmp_path):
    def lora(): return CrossEncoder(tiny_model_dir, device="cpu").add_lora(r=4, dropout=0.0)
    cfg = TrainConfig(output_dir=str(tmp_path), per_device_train_batch_size=8, max_steps=6, save_steps=2, learning_rate=1e-2,
                      logging_steps=1, disable_tqdm=True, seed=3)
    a = lora()
    frozen = {n: p.detach().clone() for n, p in a.model.named_parameters() if not p.requires_grad}
    train(a, cfg, sts)
    assert all(torch.equal(p, frozen[n]) for n, p in a.model.named_parameters() if n in frozen)
    assert (tmp_path / "checkpoint-4" / "adapter" / "adapter_model.safetensors").is_file()
    shutil.rmtree(tmp_path / "checkpoint-6")
    b = lora()
    train(b, cfg, sts, resume_from_checkpoint=True)                    # steps 5 and 6 again, from checkpoint-4
    for (n, p), (_, q) in zip(a.model.named_parameters(), b.model.named_parameters()):
        torch.testing.assert_close(q, p, atol=1e-5, rtol=0, msg=n)
