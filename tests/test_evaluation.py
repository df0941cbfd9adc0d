"Every xenc evaluator metric equals sentence_transformers.cross_encoder.evaluation's on the same model and data (1e-6)."
import numpy as np, pytest, torch
from xenc import evaluation as X
from xenc.data import load_benchmark
from xenc.model import CrossEncoder, offline_base_model
from xenc.predict import fit_linear_head

@pytest.fixture(scope="module")
def one_label(module_dir):
    "The base model with a head fitted on 200 STS-B train pairs, in xenc and in sentence-transformers."
    from sentence_transformers import CrossEncoder as ST
    tr = load_benchmark("stsb", "train").select(range(200))
    m = fit_linear_head(CrossEncoder(offline_base_model(), device="cpu"), list(zip(tr["sentence1"][:], tr["sentence2"][:])), tr["score"][:])
    path = m.save_pretrained(module_dir / "fitted")
    return CrossEncoder(path, device="cpu"), ST(str(path), device="cpu")

@pytest.fixture(scope="module")
def three_labels(module_dir):
    from sentence_transformers import CrossEncoder as ST
    torch.manual_seed(3)
    path = CrossEncoder(offline_base_model(), num_labels=3, device="cpu").save_pretrained(module_dir / "three")
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

# The chapter's guard rails, toy checks and tie rules (moved out of nbs/04_evaluation.ipynb)
import math, warnings
from fastcore.test import test_fail as fails

class Fixed:
    "A stand-in model that returns given scores."
    def __init__(self, s, num_labels=1): self.s, self.num_labels = np.float32(s), num_labels
    def predict(self, pairs, **kw): return self.s

def test_thresholds_equal_sentence_transformers():
    "The threshold sweep equals sentence-transformers' own, ties included."
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from sentence_transformers.sentence_transformer.evaluation import BinaryClassificationEvaluator as B
    rng = np.random.default_rng(0)
    for t in range(300):
        n = int(rng.integers(2, 30))
        s = (rng.integers(0, 6, n) / 5).astype(np.float32) if t % 2 else rng.random(n).astype(np.float32)
        y = rng.integers(0, 2, n)
        y[0], y[1] = 0, 1
        assert np.allclose(X.best_accuracy_threshold(s, y), B.find_best_acc_and_threshold(s, y, True)), (s, y)
        assert np.allclose(X.best_f1_threshold(s, y), B.find_best_f1_and_threshold(s, y, True)), (s, y)

def test_classification_toys():
    s5, y5 = [0.9, 0.8, 0.7, 0.6, 0.2], [1, 0, 1, 1, 0]
    ev = X.ClassificationEvaluator([("a", "b")] * 5, y5, name="toy")
    m = ev(Fixed(s5))
    keys = ("accuracy", "accuracy_threshold", "f1", "f1_threshold", "precision", "recall", "average_precision")
    assert [m[f"toy_{k}"] for k in keys] == pytest.approx([0.8, 0.4, 6 / 7, 0.4, 0.75, 1.0, (1 + 2 / 3 + 3 / 4) / 3])
    assert ev.primary_metric == "toy_average_precision"
    m3 = X.ClassificationEvaluator([("a", "b")] * 4, [0, 1, 2, 2])(Fixed([[3, 1, 0], [0, 2, 1], [0, 0, 1], [1, 0, 0]], num_labels=3))
    assert list(m3) == ["f1_macro", "f1_micro", "f1_weighted", "accuracy"]
    assert (m3["accuracy"], m3["f1_micro"]) == pytest.approx((0.75, 0.75))

def test_bad_input_is_named():
    "Bad input: each error names what is wrong."
    CE, CL, RE = X.CorrelationEvaluator, X.ClassificationEvaluator, X.RerankingEvaluator
    fails(lambda: CE([("a", "b")] * 3, [0.1, 0.2]), contains="3 sentence pairs but 2 scores")
    fails(lambda: CL([("a", "b")] * 2, [1, 1])(Fixed([0.2, 0.3])), contains="All labels are 1")
    fails(lambda: CL([("a", "b")] * 2, [0.5, 1.0]), contains="Class labels must be integers")
    assert CL([("a", "b")] * 4, [0, 1, 2, 2]).primary_metric == "f1_macro"   # known before the first call
    two = CL([("a", "b")] * 2, [0, 1], name="x")
    two.bind(Fixed([[0.2, 0.8], [0.6, 0.4]], num_labels=2))                  # a 2-label model on 0/1 labels
    assert two.primary_metric == "x_f1_macro"
    fails(lambda: CL([("a", "b")] * 2, [0, 1], num_labels=1).bind(Fixed([[0.2, 0.8]], num_labels=2)),
              contains="num_labels=1")
    fails(lambda: CE([("a", "b")] * 2, [0.5, 0.5]), contains="All gold scores are equal")
    fails(lambda: CE([("a", "b")] * 2, [0.1, 0.5])(Fixed([0.3, np.nan])),
              contains="NaN or infinite scores for 1 of 2 pairs (first: pair 1")
    fails(lambda: RE([{"query": "q", "positive": "p"}]), contains="exactly one of 'negative' and 'documents'")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        m = CE([("a", "b")] * 2, [0.1, 0.5])(Fixed([0.3, 0.3]))
    assert math.isnan(m["spearman"]) and "same score" in str(w[0].message)

def test_ties_as_trec_eval():
    "A positive tied with a negative ranks 2nd (trec_eval); scikit-learn scores the tie as a block."
    from sklearn.metrics import ndcg_score
    assert X.ranking_metrics([1, 0], [0.5, 0.5], k=10) == pytest.approx((1 / 2, 1 / math.log2(3), 1 / 2))
    assert ndcg_score([[1, 0]], [[0.5, 0.5]]) == pytest.approx((1 + 1 / math.log2(3)) / 2)
    assert X.trec_ranking({"a": 1.0, "b": 1.0, "c": 2.0}) == ["c", "b", "a"]

def test_csv_log(tmp_path):
    "Each call with an output_path appends one row (epoch, steps, metrics)."
    ev = X.CorrelationEvaluator([("a", "b")] * 4, [0.1, 0.4, 0.5, 0.9], name="sts-dev")
    for step in (10, 20): ev(Fixed([0.2, 0.1, 0.6, 0.7]), output_path=tmp_path, epoch=0, steps=step)
    rows = (tmp_path / "CrossEncoderCorrelationEvaluator_sts-dev_results.csv").read_text().splitlines()
    assert ev.primary_metric == "sts-dev_spearman" and rows[0] == "epoch,steps,pearson,spearman"
    assert [r.split(",")[:2] for r in rows[1:]] == [["0", "10"], ["0", "20"]]
