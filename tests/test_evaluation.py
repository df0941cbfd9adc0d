"Every xenc evaluator metric equals sentence_transformers.cross_encoder.evaluation's on the same model and data (1e-6)."
import numpy as np, pytest, torch
from xenc import evaluation as X
from xenc.data import load_benchmark
from xenc.model import CrossEncoder, offline_base_model
from xenc.predict import fit_linear_head

@pytest.fixture(scope="module")
def one_label(tmp_path_factory):
    "The base model with a head fitted on 200 STS-B train pairs, in xenc and in sentence-transformers."
    from sentence_transformers import CrossEncoder as ST
    tr = load_benchmark("stsb", "train").select(range(200))
    m = fit_linear_head(CrossEncoder(offline_base_model(), device="cpu"), list(zip(tr["sentence1"][:], tr["sentence2"][:])), tr["score"][:])
    path = m.save_pretrained(tmp_path_factory.mktemp("fitted"))
    return CrossEncoder(path, device="cpu"), ST(str(path), device="cpu")

@pytest.fixture(scope="module")
def three_labels(tmp_path_factory):
    from sentence_transformers import CrossEncoder as ST
    torch.manual_seed(3)
    path = CrossEncoder(offline_base_model(), num_labels=3, device="cpu").save_pretrained(tmp_path_factory.mktemp("three"))
    return CrossEncoder(path, device="cpu"), ST(str(path), device="cpu")

def same(ours: dict, ref: dict, keys=None):
    keys = keys or ref.keys()
    for k in keys: assert abs(ours[k] - ref[k]) <= 1e-6, (k, ours[k], ref[k])
    return True

def test_correlation(one_label):
    from sentence_transformers.cross_encoder.evaluation import CrossEncoderCorrelationEvaluator as S
    d = load_benchmark("stsb", "dev").select(range(300))
    pairs, gold = list(zip(d["sentence1"][:], d["sentence2"][:])), d["score"][:]
    ours, ref = X.CorrelationEvaluator(pairs, gold, name="sts-dev"), S([list(p) for p in pairs], gold, name="sts-dev")
    assert same(ours(one_label[0]), ref(one_label[1])) and ours.primary_metric == ref.primary_metric

def test_binary_classification(one_label, data_dir):
    from sentence_transformers.cross_encoder.evaluation import CrossEncoderClassificationEvaluator as S
    d = load_benchmark("rte", "validation", data_dir)
    pairs, labels = list(zip(d["sentence1"][:], d["sentence2"][:])), [1 - l for l in d["label"][:]]
    ours, ref = X.ClassificationEvaluator(pairs, labels, name="rte"), S([list(p) for p in pairs], labels, name="rte")
    a, b = ours(one_label[0]), ref(one_label[1])
    assert len(b) == 7 and same(a, b) and ours.primary_metric == ref.primary_metric

def test_multiclass_classification(three_labels, data_dir):
    from sentence_transformers.cross_encoder.evaluation import CrossEncoderClassificationEvaluator as S
    d = load_benchmark("snli", "validation", data_dir).select(range(300))
    pairs, labels = list(zip(d["premise"][:], d["hypothesis"][:])), d["label"][:]
    ours, ref = X.ClassificationEvaluator(pairs, labels, name="nli"), S([list(p) for p in pairs], labels, name="nli")
    a, b = ours(three_labels[0]), ref(three_labels[1])
    assert same(a, b) and ours.primary_metric == ref.primary_metric
    pred = three_labels[0].predict(pairs).argmax(1)
    assert abs(a["nli_accuracy"] - np.mean(pred == np.array(labels))) < 1e-12

def _samples(kind):
    d = load_benchmark("stsb", "test")
    rows, others, rng = [r for r in d if r["score"] >= 0.8][:30], d["sentence2"][:], np.random.default_rng(1)
    out = []
    for i, r in enumerate(rows):
        cands = [others[j] for j in rng.choice(len(others), 8, replace=False) if others[j] != r["sentence2"]]
        if kind == "negative": out.append({"query": r["sentence1"], "positive": [r["sentence2"]], "negative": cands})
        else:
            docs = cands + ([r["sentence2"]] if i % 3 else [])     # every third query: the retriever missed the positive
            rng.shuffle(docs)
            out.append({"query": r["sentence1"], "positive": [r["sentence2"]], "documents": docs})
    out.append({"query": "no positive here", "positive": [], "negative": ["x", "y"]} if kind == "negative"
               else {"query": "no positive here", "positive": ["absent"], "documents": ["x", "y"]})
    return out

@pytest.mark.parametrize("kind,kw", [("negative", {}), ("negative", {"at_k": 3}), ("documents", {}),
                                     ("documents", {"always_rerank_positives": False, "at_k": 5})])
def test_reranking(one_label, kind, kw):
    from sentence_transformers.cross_encoder.evaluation import CrossEncoderRerankingEvaluator as S
    samples = _samples(kind)
    ours, ref = X.RerankingEvaluator(samples, name="rr", **kw), S(samples, name="rr", **kw)
    a, b = ours(one_label[0]), ref(one_label[1])
    assert set(a) == set(b) and same(a, b) and ours.primary_metric == ref.primary_metric

def test_ranking_metrics_equal_pytrec_eval_on_ties():
    "Ties go as in trec_eval (doc id descending; here the position, later first): equal to pytrec_eval, ties included."
    pytrec_eval = pytest.importorskip("pytrec_eval")
    rng = np.random.default_rng(0)
    for _ in range(40):
        rel, s = (rng.random(10) < 0.3).astype(int), rng.integers(0, 3, 10) / 2      # 10 documents, many ties
        rel[rng.integers(10)] = 1
        ids = [str(i) for i in range(10)]                                          # "0".."9": string order is position order
        qrels, run = {"q": dict(zip(ids, map(int, rel)))}, {"q": dict(zip(ids, map(float, s)))}
        ref = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank", "ndcg_cut.10", "map"}).evaluate(run)["q"]
        ours = X.ranking_metrics(rel, s, 10)
        assert ours == pytest.approx((ref["recip_rank"], ref["ndcg_cut_10"], ref["map"]), abs=1e-6), (rel, s)
