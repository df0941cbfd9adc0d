"Reranking (xenc.apps.rerank, its BEIR reader in xenc.apps.beir, windows in xenc.predict): the IR metrics against pytrec_eval and ir-measures, BEIR format errors, BM25 on SciFact, mining, windows, mined data into the losses."
import random, warnings
import numpy as np
import pytest
import torch

from xenc.apps.rerank import BM25, evaluate_run, load_beir, mine_hard_negatives, mined_columns, mined_lists, mined_pairs, per_query_metrics

pytrec_eval = pytest.importorskip("pytrec_eval")
ir_measures = pytest.importorskip("ir_measures")


def random_collection(seed, n_queries=40, n_docs=60, ties=True):
    "Graded qrels (0..3, some judged non-relevant) and a run with unjudged documents and (by default) many tied scores."
    rng = random.Random(seed)
    qrels, run = {}, {}
    for q in range(n_queries):
        judged = rng.sample(range(n_docs), rng.randint(1, 12))
        qrels[f"q{q}"] = {f"d{d}": rng.choice([0, 1, 1, 2, 3]) for d in judged}
        qrels[f"q{q}"][f"d{judged[0]}"] = rng.randint(1, 3)                      # at least one relevant
        depth = rng.randint(5, n_docs)
        run[f"q{q}"] = {f"d{d}": float(rng.randint(0, 6)) / 2 if ties else rng.random() for d in rng.sample(range(n_docs), depth)}
    return qrels, run


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_metrics_equal_pytrec_eval(seed):
    qrels, run = random_collection(seed)
    ref = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "recall.100", "map", "ndcg_cut.5", "recall.10", "recip_rank"}).evaluate(run)
    ours = per_query_metrics(run, qrels, k=10, recall_k=100)
    ours5 = per_query_metrics(run, qrels, k=5, recall_k=10)
    uncut = per_query_metrics(run, qrels, k=10**6)                        # trec_eval's recip_rank has no cut-off
    for q in qrels:
        assert ours[q]["ndcg@10"] == pytest.approx(ref[q]["ndcg_cut_10"], abs=1e-6)
        assert ours5[q]["ndcg@5"] == pytest.approx(ref[q]["ndcg_cut_5"], abs=1e-6)
        assert ours[q]["recall@100"] == pytest.approx(ref[q]["recall_100"], abs=1e-6)
        assert ours5[q]["recall@10"] == pytest.approx(ref[q]["recall_10"], abs=1e-6)
        assert ours[q]["map"] == pytest.approx(ref[q]["map"], abs=1e-6)
        assert uncut[q][f"mrr@{10**6}"] == pytest.approx(ref[q]["recip_rank"], abs=1e-6)


def test_one_implementation_of_the_metrics():
    "xenc.apps.rerank scores runs with chapter 04's metrics and tie order; it keeps no copy of its own."
    from xenc import evaluation
    from xenc.apps import rerank
    assert rerank.query_metrics is evaluation.query_metrics and rerank.trec_ranking is evaluation.trec_ranking


@pytest.mark.parametrize("seed", [3, 4])
def test_metrics_equal_ir_measures(seed):
    "All four means, on runs without ties (ir-measures' RR@10 comes from the MS MARCO script, which breaks ties its own way)."
    qrels, run = random_collection(seed, ties=False)
    M = ir_measures
    ref = M.calc_aggregate([M.nDCG @ 10, M.RR @ 10, M.R @ 100, M.AP], qrels, run)
    ours = evaluate_run(run, qrels)
    assert ours["ndcg@10"] == pytest.approx(ref[M.nDCG @ 10], abs=1e-6)
    assert ours["mrr@10"] == pytest.approx(ref[M.RR @ 10], abs=1e-6)
    assert ours["recall@100"] == pytest.approx(ref[M.R @ 100], abs=1e-6)
    assert ours["map"] == pytest.approx(ref[M.AP], abs=1e-6)


def test_a_query_missing_from_the_run_scores_zero_with_a_warning():
    qrels, run = random_collection(5, n_queries=4)
    del run["q0"]
    with pytest.warns(UserWarning, match="1 of 4 judged queries are not in the run"):
        per = per_query_metrics(run, qrels)
    assert per["q0"] == {"ndcg@10": 0, "mrr@10": 0, "recall@100": 0, "map": 0}


@pytest.fixture(scope="module")
def scifact(data_dir):
    folder = data_dir / "scifact"
    if not (folder / "corpus.jsonl").is_file(): pytest.skip(f"no SciFact in {folder}")
    return folder


def test_bm25_reproduces_beir_on_scifact(scifact):
    "BEIR's BM25 (Elasticsearch, English analyzer, k1 0.9, b 0.4) scores nDCG@10 0.665 on SciFact test; ours within 0.01, and pytrec_eval agrees."
    test = load_beir(scifact, "test")
    run = BM25(test.corpus).search(test.queries, k=100)
    m = evaluate_run(run, test.qrels)
    assert abs(m["ndcg@10"] - 0.665) <= 0.01, m
    ref = pytrec_eval.RelevanceEvaluator(test.qrels, {"ndcg_cut.10"}).evaluate(run)
    assert m["ndcg@10"] == pytest.approx(np.mean([v["ndcg_cut_10"] for v in ref.values()]), abs=1e-6)


def test_mined_data_feed_the_losses(scifact, tiny_model_dir):
    "BCE on mined pairs, MNRL on mined columns, LambdaLoss on mined lists: columns found by name, each a finite, differentiable step."
    from xenc.batches import make_batch
    from xenc.data import detect_columns
    from xenc.listwise import LambdaLoss
    from xenc.losses import BinaryCrossEntropyLoss, MultipleNegativesRankingLoss
    from xenc.model import CrossEncoder
    from xenc.apps.rerank import beir_slice
    train = load_beir(scifact, "train")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = mine_hard_negatives(BM25(train.corpus), beir_slice(train, 8), num_negatives=3)
    model = CrossEncoder(tiny_model_dir, num_labels=1, max_length=64)
    for ds, loss in [(mined_pairs(rows), BinaryCrossEntropyLoss(model)), (mined_columns(rows, 3), MultipleNegativesRankingLoss(model)),
                     (mined_lists(rows), LambdaLoss(model))]:
        cols = detect_columns(ds.column_names)                                    # found by name, as train() finds them
        inputs, labels = make_batch(ds, range(min(4, len(ds))), cols, 1)
        value = loss(inputs, labels)
        value.backward()
        assert torch.isfinite(value), type(loss).__name__


def test_windows_score_long_documents_whole(tiny_model_dir):
    "windows='max'/'mean'/'first' equal the max/mean/first of the windows' own logits; nothing is truncated; short pairs are unchanged."
    from xenc.model import CrossEncoder
    from xenc.predict import window_pairs
    model = CrossEncoder(tiny_model_dir, num_labels=1, max_length=48)
    doc = " ".join(f"sentence {i} about topic{i % 5} and its evidence" for i in range(40))
    pairs = [("a short query", "a short document"), ("what is the evidence for topic3", doc)]
    wp, owner = window_pairs(model.tokenizer, pairs, 48, overlap=12)
    assert owner[0] == 0 and owner.count(1) > 5
    assert max(len(model.tokenizer(a, b)["input_ids"]) for a, b in wp) <= 48
    z = torch.as_tensor(model.predict(wp, activation_fn=torch.nn.Identity()))
    with warnings.catch_warnings():
        warnings.simplefilter("error")                                          # no truncation warning
        got = {how: model.predict(pairs, activation_fn=torch.nn.Identity(), windows=how, window_overlap=12) for how in ("first", "max", "mean")}
    w = z[1:]
    assert got["first"][1] == pytest.approx(float(w[0]), abs=1e-5)
    assert got["max"][1] == pytest.approx(float(w.max()), abs=1e-5)
    assert got["mean"][1] == pytest.approx(float(w.mean()), abs=1e-5)
    for how in got: assert got[how][0] == pytest.approx(float(model.predict(pairs[:1], activation_fn=torch.nn.Identity())[0]), abs=1e-5)
    hits = model.rank(pairs[1][0], [pairs[0][1], doc], windows="max", window_overlap=12, activation_fn=torch.nn.Identity())
    assert {h["corpus_id"]: h["score"] for h in hits}[1] == pytest.approx(float(w.max()), abs=1e-5)

def test_load_beir_reads_the_hub_layout_when_the_folder_is_absent(tmp_path, monkeypatch, capsys):
    "Without local files and with the hub allowed: BeIR/<name> (configs corpus, queries) and BeIR/<name>-qrels (one split each)."
    import datasets, xenc.apps.beir as D, xenc.apps.rerank as R
    calls = []
    def fake_load_dataset(path, name=None, split=None):
        calls.append((path, name, split))
        if path == "BeIR/mini" and name == "corpus" and split == "corpus":
            return [{"_id": "d1", "title": "T", "text": "one"}, {"_id": 2, "title": "", "text": "two"}]
        if path == "BeIR/mini" and name == "queries" and split == "queries": return [{"_id": "q1", "text": "first"}]
        if path == "BeIR/mini-qrels" and split == "dev": return [{"query-id": "q1", "corpus-id": 2, "score": 1}]
        raise AssertionError(f"unexpected load_dataset({path!r}, {name!r}, split={split!r})")
    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    monkeypatch.setattr(D, "hub_allowed", lambda: True)   # load_beir lives in xenc.apps.beir
    beir = load_beir(tmp_path / "mini", "dev")
    assert beir.qrels == {"q1": {"2": 1}} and beir.doc_text("d1") == "T one" and beir.queries == {"q1": "first"}
    assert {c[0] for c in calls} == {"BeIR/mini", "BeIR/mini-qrels"}
    assert "loading BeIR/mini and BeIR/mini-qrels (dev) from the Hugging Face hub" in capsys.readouterr().err
    monkeypatch.setattr(D, "hub_allowed", lambda: False)
    with pytest.raises(R.BeirError, match="allow the hub to load BeIR/mini"): load_beir(tmp_path / "mini", "dev")


def test_load_beir_names_the_line_of_a_broken_file(tmp_path):
    "A qrels line without three fields, a score that is not a number, a repeated document id: each stops with the file and line."
    from xenc.apps.rerank import BeirError
    (tmp_path / "qrels").mkdir()
    (tmp_path / "corpus.jsonl").write_text('{"_id": "d1", "title": "T", "text": "one"}\n')
    (tmp_path / "queries.jsonl").write_text('{"_id": "q1", "text": "first"}\n')
    for qrels, corpus, message in [("query-id\tcorpus-id\tscore\nq1\td1\n", None, "line 2: 2 tab-separated fields"),
                                   ("q1\td1\tyes\n", None, "the score 'yes' is not a number"),
                                   ("q1\td1\t1\n", '{"_id": "d1"}\n{"_id": "d1"}\n', "line 2: the id 'd1' appears twice")]:
        (tmp_path / "qrels" / "test.tsv").write_text(qrels)
        if corpus: (tmp_path / "corpus.jsonl").write_text(corpus)
        with pytest.raises(BeirError, match=message): load_beir(tmp_path)


def test_mining_counts_short_lists_and_columns_drop_them(scifact):
    "Asking for more negatives than the top range_max holds: a warning counts the short lists; mined_columns drops them, counted."
    from xenc.apps.rerank import beir_slice
    train = load_beir(scifact, "train")
    with pytest.warns(UserWarning, match="got fewer than 20 negatives from the top 10"):
        tight = mine_hard_negatives(BM25(train.corpus), beir_slice(train, 60), num_negatives=20, range_max=10)
    assert max(len(x["negatives"]) for x in tight) <= 10
    with pytest.warns(UserWarning, match="rows have fewer than 10 negatives: dropped") as w:
        cols = mined_columns(tight, 10)
    assert cols.column_names[-1] == "negative_10"
    assert len(cols) + int(str(w[0].message).split()[0]) == len(tight)


def test_rerank_with_windows_keeps_the_candidates(tiny_model_dir):
    "rerank(..., windows='max') reorders the same documents, and the tail below top_k keeps the first stage's order."
    from xenc.apps.rerank import Beir, rerank, trec_ranking
    from xenc.model import CrossEncoder
    model = CrossEncoder(tiny_model_dir, num_labels=1, max_length=32)
    corpus = {f"d{i}": {"title": f"paper {i}", "text": " ".join(f"finding {j} of study {i}" for j in range(3 + 4 * i))} for i in range(6)}
    beir = Beir(corpus, {"q": "which study found it"}, {"q": {"d2": 1}})
    run = {"q": {f"d{i}": float(6 - i) for i in range(6)}}
    with warnings.catch_warnings():
        warnings.simplefilter("error")                                          # windows truncate nothing
        out = rerank(model, beir, run, top_k=4, windows="max", window_overlap=8)
    assert set(out["q"]) == set(run["q"])
    assert trec_ranking(out["q"])[4:] == ["d4", "d5"]
    with pytest.warns(UserWarning, match="are truncated"): plain = rerank(model, beir, run, top_k=4)
    assert out["q"]["d0"] == pytest.approx(plain["q"]["d0"], abs=1e-5)       # d0 fits in one window


def test_a_query_without_relevant_documents_scores_zero_as_in_trec_eval():
    "A query judged with grade-0 documents only: every measure is 0 (pytrec_eval's), not a division by zero."
    qrels = {"q1": {"a": 0, "b": 0}, "q2": {"a": 1, "b": 0}}
    run = {"q1": {"a": 1.0, "b": 0.5}, "q2": {"b": 1.0, "a": 0.5}}
    ref = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "recall.100", "map", "recip_rank"}).evaluate(run)
    ours = per_query_metrics(run, qrels)
    for q in qrels:
        assert [ours[q][m] for m in ("ndcg@10", "recall@100", "map", "mrr@10")] == pytest.approx(
            [ref[q][m] for m in ("ndcg_cut_10", "recall_100", "map", "recip_rank")], abs=1e-6)
    assert ours["q1"] == {"ndcg@10": 0.0, "mrr@10": 0.0, "recall@100": 0.0, "map": 0.0}
