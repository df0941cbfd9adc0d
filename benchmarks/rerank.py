"""Reranking SciFact (BEIR): first stages, a reranker trained in xenc and in sentence-transformers, windows, speed.

    python benchmarks/rerank.py first-stages
        SciFact test: BM25 (bm25s; Porter stemming, then none; k1 0.9, b 0.4) and the offline base model as a dense
        bi-encoder, each retrieving 100 per query: nDCG@10, MRR@10, Recall@100, MAP.
    python benchmarks/rerank.py compare [--loss bce] [--epochs 1] [--lr 3e-5] [--max-length 128] [--bf16] [--test] [--truncate-only]
        One reranker recipe trained twice, alone in a child process each: sentence-transformers' CrossEncoderTrainer
        (the reference) and xenc.train, on the same mined data (BM25 hard negatives of SciFact train, 100 train
        queries held out as dev) from the same fresh head (seed 12). Each model then reranks BM25's top --top-k of the
        dev queries (or, with --test, the 300 test queries), truncated and with windows (max). Prints training time,
        the ratio, nDCG@10, and nDCG@10 fused with BM25's score (z-scores, weight chosen on dev).
    python benchmarks/rerank.py dev [--loss lambda] [--batch-size 4] [--epochs 1] [--lr 3e-5] [--max-length 128] [--titles N] [--mine-range 30] [--mine-sampling top]
        One recipe in xenc only, for choosing a recipe on dev: train as in `compare`, then rerank BM25's top --top-k
        of the 100 dev queries at --eval-max-length (truncated); nDCG@10 alone and fused with BM25 (weights 0.25..2),
        and the seconds reranking took. --titles N adds N pseudo-queries drawn from the corpus (a title as a query for
        its abstract, `xenc.apps.rerank.title_queries`; N past the corpus size: all), mined as the claims are.
        --mine-range K takes negatives from BM25's top K (30); --mine-sampling random draws them among those that pass
        the margin guard instead of taking the hardest.
        --teacher hybrid --loss listnet grades each row's documents by a hybrid teacher (z(BM25) + z(the base model as a
        bi-encoder) over the query's BM25 top 100, the positive one above the best negative) and trains on those grades.
        The README's recipe: dev --loss mnrl --batch-size 8 --lr 1e-4 --bf16 --titles 2000 --top-k 100 --eval-max-length 128
    python benchmarks/rerank.py score --model runs/scifact-compare/xenc [--top-k 30] [--test] [--truncate-only] [--onnx-file F]
        A saved reranker on the dev queries (or, with --test, on test): BM25's top --top-k, truncated and with windows (max),
        each alone and fused with BM25 (weights 0.25 to 2); with --onnx-file, through ONNX Runtime (xenc.ship).
    python benchmarks/rerank.py quantize --model runs/scifact-compare/xenc [--calibration 256] [--eval-max-length 128]
        Writes the model's onnx/model.onnx and onnx/model_qint8.onnx (xenc.int8.quantize_onnx), calibrated on train claims
        paired with their BM25 top 4 documents; then `score --onnx-file onnx/model_qint8.onnx` measures what int8 costs.
    python benchmarks/rerank.py rank-speed --model runs/scifact-compare/xenc [--queries 300] [--top-k 100] [--max-length 256]
        Reranking speed: xenc's rank() against sentence-transformers' rank() on the same model and the same BM25
        candidates of the test queries (pairs/s, batch 32, the machine to itself).
"""
import argparse, json, os, random, subprocess, sys, time, warnings
from pathlib import Path
import torch
os.environ.setdefault("HF_HUB_OFFLINE", "1"); os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).parent))
from machine import header, peak_rss_mb, quiet

SEED, N_DEV = 12, 100



def scifact_dir() -> Path:
    from xenc.data import find_data_dir
    d = find_data_dir(Path(__file__).resolve().parents[2] / "shared" / "data")
    if d is None or not (d / "scifact").is_dir(): sys.exit("SciFact not found: set XENC_DATA_DIR to a folder holding scifact/")
    return d / "scifact"

def splits():
    "(train, dev, test) Beir splits: dev is 100 train queries drawn with a fixed seed, never trained on."
    from xenc.apps.rerank import load_beir, split_queries
    return (*split_queries(load_beir(scifact_dir(), "train"), N_DEV), load_beir(scifact_dir(), "test"))

def row(name, m): print(f"| {name} | {m['ndcg@10']:.4f} | {m['mrr@10']:.4f} | {m['recall@100']:.4f} | {m['map']:.4f} |", flush=True)

def first_stages(args):
    from xenc.apps.rerank import BM25, DenseRetriever, evaluate_run
    _, _, test = splits()
    print("| first stage (SciFact test, 300 queries) | nDCG@10 | MRR@10 | Recall@100 | MAP |\n|---|---|---|---|---|")
    for name, stem in [("BM25 (bm25s, Porter stemming)", "porter"), ("BM25 (bm25s, no stemming)", None)]:
        row(name, evaluate_run(BM25(test.corpus, stemmer=stem).search(test.queries, 100), test.qrels))
    t = time.perf_counter(); dense = DenseRetriever(test.corpus)
    row(f"dense: all-MiniLM-L6-v2 bi-encoder ({time.perf_counter() - t:.0f} s to embed the corpus)", evaluate_run(dense.search(test.queries, 100), test.qrels))

def title_rows(corpus, n, neg, seed=SEED, teacher=False, **mining):
    "Pseudo-queries from the corpus itself (`title_queries`): a title as a query for its body, BM25 negatives among the bodies."
    from xenc.apps.rerank import BM25, Beir, title_queries
    pseudo = title_queries(Beir(corpus, {}, {}), n, seed)
    bm25 = BM25(pseudo.corpus)
    rows = mined(bm25, pseudo, neg, **mining)
    return hybrid_labels(rows, bm25, pseudo.corpus) if teacher else rows

def mined(bm25, beir, neg, range_max=30, sampling="top"):
    "BM25 negatives from the top range_max that pass the margin guard: the hardest `neg`, or (sampling random) `neg` drawn among them."
    import random
    from xenc.apps.rerank import mine_hard_negatives
    if sampling == "top": return mine_hard_negatives(bm25, beir, num_negatives=neg, range_max=range_max)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore"); rows = mine_hard_negatives(bm25, beir, num_negatives=range_max, range_max=range_max)
    rng = random.Random(SEED)
    for r in rows:
        keep = rng.sample(range(len(r["negative_ids"])), min(neg, len(r["negative_ids"])))
        r["negative_ids"], r["negatives"] = [r["negative_ids"][i] for i in keep], [r["negatives"][i] for i in keep]
    return rows

def hybrid_labels(rows, bm25, corpus, depth=100):
    """A hybrid teacher's grades for each row's [positive, *negatives]: z(BM25) + z(dense), both z-scored over BM25's top
    `depth` for the query (the dense first stage is the offline base model as a bi-encoder); the judged positive is raised
    to one above the best negative. Stored in each row as "labels"."""
    import numpy as np
    from xenc.apps.rerank import DenseRetriever
    dense = DenseRetriever(corpus)
    cos = (dense.embeddings @ dense._embed([r["query"] for r in rows]).T).T.numpy()   # every query at once
    for r, sd in zip(rows, cos):
        sb = bm25.scores(r["query"])
        top = np.argpartition(-sb, depth - 1)[:depth]
        z = lambda s: (s - s[top].mean()) / (s[top].std() + 1e-9)    # z-scored over BM25's top `depth`
        t = z(sb) + z(sd)
        y = [float(t[bm25.row[d]]) for d in [r["positive_id"], *r["negative_ids"]]]
        r["labels"] = [max(y[0], max(y[1:], default=y[0]) + 1), *y[1:]]
    return rows

def mined_data(loss, neg, train, titles=0, range_max=30, sampling="top", teacher=False):
    from datasets import Dataset
    from xenc.apps.rerank import BM25, mined_columns, mined_lists, mined_pairs
    mining = dict(range_max=range_max, sampling=sampling)
    bm25 = BM25(train.corpus)
    rows = mined(bm25, train, neg, **mining)
    if teacher: rows = hybrid_labels(rows, bm25, train.corpus)
    if titles: rows += title_rows(train.corpus, titles, neg, teacher=teacher, **mining)
    if teacher:
        return Dataset.from_dict({"query": [r["query"] for r in rows], "docs": [[r["positive"], *r["negatives"]] for r in rows],
                                  "labels": [r["labels"] for r in rows]})
    return {"bce": mined_pairs, "lambda": mined_lists, "listnet": mined_lists}.get(loss, lambda r: mined_columns(r, neg))(rows)

def train_child(args):
    "Train one contender alone in this process; save the model; print seconds and peak RSS."
    train, _, _ = splits()
    with warnings.catch_warnings(): warnings.simplefilter("ignore"); data = mined_data(args.loss, args.negatives, train, args.titles, args.mine_range, args.mine_sampling, args.teacher == "hybrid")
    from xenc.model import offline_base_model
    torch.manual_seed(SEED)
    if args.which == "sentence-transformers":
        from sentence_transformers.cross_encoder import CrossEncoder, CrossEncoderTrainer, CrossEncoderTrainingArguments
        from sentence_transformers.cross_encoder import losses as L
        model = CrossEncoder(str(offline_base_model()), num_labels=1, max_length=args.max_length, device="cpu")
        loss = {"bce": L.BinaryCrossEntropyLoss, "mnrl": L.MultipleNegativesRankingLoss, "lambda": L.LambdaLoss, "listnet": L.ListNetLoss}[args.loss](model)
        targs = CrossEncoderTrainingArguments(output_dir=args.out + "-tmp", per_device_train_batch_size=args.batch_size, num_train_epochs=args.epochs,
                                              learning_rate=args.lr, warmup_ratio=0.1, seed=SEED, logging_steps=50, save_strategy="no",
                                              report_to="none", disable_tqdm=True, use_cpu=True, bf16=args.bf16)
        t = time.perf_counter(); CrossEncoderTrainer(model=model, args=targs, train_dataset=data, loss=loss).train(); secs = time.perf_counter() - t
        model.save_pretrained(args.out)
    else:
        from xenc import CrossEncoder, TrainConfig, train
        from xenc.listwise import LambdaLoss, ListNetLoss
        from xenc.losses import BinaryCrossEntropyLoss, MultipleNegativesRankingLoss
        model = CrossEncoder(offline_base_model(), num_labels=1, max_length=args.max_length)
        loss = {"bce": BinaryCrossEntropyLoss, "mnrl": MultipleNegativesRankingLoss, "lambda": LambdaLoss, "listnet": ListNetLoss}[args.loss](model)
        cfg = TrainConfig(output_dir=args.out + "-tmp", per_device_train_batch_size=args.batch_size, num_train_epochs=args.epochs, learning_rate=args.lr,
                          warmup_ratio=0.1, seed=SEED, logging_steps=50, save_strategy="no", disable_tqdm=True, batch_sampler=args.sampler, bf16=args.bf16)
        t = time.perf_counter(); train(model, cfg, data, loss=loss); secs = time.perf_counter() - t
        model.save_pretrained(args.out)
    print(json.dumps({"seconds": secs, "rows": len(data), "hwm_mb": peak_rss_mb()}))

def score(folder, split, top_k, max_length, windows=(None, "max"), onnx_file=None):
    "nDCG@10 of a saved model reranking BM25's top k: truncated, windows (max), and each fused with BM25 (weights 0.25 to 2)."
    from xenc import CrossEncoder
    from xenc.apps.rerank import BM25, evaluate_run, fuse_runs, rerank
    run = BM25(split.corpus).search(split.queries, 100)
    model = CrossEncoder(folder, **({"backend": "onnx", "model_kwargs": {"file_name": onnx_file}} if onnx_file else {}))
    model.max_length = max_length   # sentence-transformers saves its training max_length as the tokenizer's limit; BERT reads 512 positions
    out = {"bm25": evaluate_run(run, split.qrels)["ndcg@10"]}
    for name, win in [("truncate" if w is None else "windows", w) for w in windows]:
        t = time.perf_counter()
        with warnings.catch_warnings(): warnings.simplefilter("ignore"); ce = rerank(model, split, run, top_k=top_k, windows=win, show_progress_bar=False)
        out[f"{name} s"] = time.perf_counter() - t
        out[name] = evaluate_run(ce, split.qrels)["ndcg@10"]
        out.update({f"{name}+bm25 w={w}": evaluate_run(fuse_runs(run, ce, top_k, w), split.qrels)["ndcg@10"] for w in (0.25, 0.5, 1, 2)})
    return out

def train_in_child(args, which, out):
    "Train `which` (sentence-transformers or xenc) with this run's recipe, alone in a child process; its JSON result."
    flags = ["--which", which, "--out", out, "--loss", args.loss, "--epochs", str(args.epochs), "--lr", str(args.lr), "--max-length", str(args.max_length),
             "--batch-size", str(args.batch_size), "--negatives", str(args.negatives), "--sampler", args.sampler, "--titles", str(args.titles),
             "--mine-range", str(args.mine_range), "--mine-sampling", args.mine_sampling, "--teacher", args.teacher] + ["--bf16"] * args.bf16
    r = subprocess.run([sys.executable, __file__, "train-child", *flags], capture_output=True, text=True)
    if r.returncode: sys.exit(f"{which} failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])

def compare(args):
    train, dev, test = splits()
    res = {}
    for which in ("sentence-transformers", "xenc"):
        out = str(Path(args.save) / which)
        res[which] = train_in_child(args, which, out)
        res[which].update(score(out, test if args.test else dev, args.top_k, args.eval_max_length,
                                windows=(None,) if args.truncate_only else (None, "max")))
        print(f"# {which}: {json.dumps(res[which])}", flush=True)
    ref, x = res["sentence-transformers"], res["xenc"]
    keys = [k for k in x if k not in ("seconds", "rows", "hwm_mb") and not k.endswith(" s")]   # nDCG@10 columns
    print(f"| trainer | train s | speed ratio | " + " | ".join(keys) + " |")
    for name, r in res.items():
        print(f"| {name} | {r['seconds']:.0f} | {ref['seconds'] / r['seconds']:.2f}x | " + " | ".join(f"{r[k]:.4f}" for k in keys) + " |")

def dev_run(args):
    "One recipe in xenc, trained in a child process, scored on the dev queries (truncated)."
    out = str(Path(args.save) / f"xenc-{args.loss}")
    res = {**train_in_child(args, "xenc", out), **score(out, splits()[1], args.top_k, args.eval_max_length, windows=(None,))}
    print(json.dumps(res))

def score_saved(args):
    "A saved reranker on dev (or test with --test): BM25's top --top-k, truncated and with windows (max), each alone and fused."
    _, dev, test = splits()
    print(json.dumps(score(args.model, test if args.test else dev, args.top_k, args.eval_max_length, windows=(None,) if args.truncate_only else (None, "max"),
                           onnx_file=args.onnx_file)))

def quantize_saved(args):
    "Write a saved reranker's ONNX file and its int8 file, calibrated on train claims with BM25's top documents (never dev or test)."
    from xenc import CrossEncoder
    from xenc.apps.rerank import BM25
    from xenc.int8 import quantize_onnx
    train, _, _ = splits()
    model = CrossEncoder(args.model)
    model.max_length = args.eval_max_length
    run = BM25(train.corpus).search(train.queries, 4)
    rng = random.Random(SEED)
    cal = rng.sample([(train.queries[q], train.doc_text(d)) for q, docs in run.items() for d in docs], args.calibration)
    t = time.perf_counter(); model.export_onnx(args.model); t1 = time.perf_counter()
    quantize_onnx(model, args.model, cal)
    print(json.dumps({"export s": t1 - t, "quantize s": time.perf_counter() - t1, "calibration pairs": len(cal)}))

def rank_speed(args):
    from xenc import CrossEncoder
    from xenc.apps.rerank import BM25, trec_ranking
    from sentence_transformers.cross_encoder import CrossEncoder as Ref
    _, _, test = splits()
    run = BM25(test.corpus).search(test.queries, args.top_k)
    jobs = [(test.queries[q], [test.doc_text(d) for d in trec_ranking(run[q])]) for q in list(test.queries)[:args.queries]]
    n = sum(len(d) for _, d in jobs)
    x, got = CrossEncoder(args.model), {}
    x.max_length = args.max_length      # past the saved tokenizer limit, as in score()
    for name, m in [("sentence-transformers", Ref(args.model, device="cpu", max_length=args.max_length)), ("xenc", x)]:
        t = time.perf_counter()
        got[name] = [sorted((r["corpus_id"], float(r["score"])) for r in m.rank(q, docs, batch_size=32, show_progress_bar=False)) for q, docs in jobs]
        s = time.perf_counter() - t
        print(f"| {name} | {n} pairs | {s:.0f} s | {n / s:.1f} pairs/s |", flush=True)
    diff = max(abs(a[1] - b[1]) for ra, rb in zip(*got.values()) for a, b in zip(ra, rb))
    print(f"# largest score difference between the two: {diff:.1e}")

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("first-stages")
    for name in ("compare", "train-child", "dev"):
        s = sub.add_parser(name)
        s.add_argument("--loss", default="bce", choices=["bce", "mnrl", "lambda", "listnet"]); s.add_argument("--epochs", type=float, default=1.0)
        s.add_argument("--lr", type=float, default=3e-5); s.add_argument("--max-length", type=int, default=128)
        s.add_argument("--batch-size", type=int, default=16); s.add_argument("--negatives", type=int, default=7)
        s.add_argument("--sampler", default="batch_sampler"); s.add_argument("--top-k", type=int, default=20)
        s.add_argument("--eval-max-length", type=int, default=256)
        s.add_argument("--test", action="store_true"); s.add_argument("--save", default="runs/scifact-compare")
        s.add_argument("--which"); s.add_argument("--out"); s.add_argument("--bf16", action="store_true")
        s.add_argument("--titles", type=int, default=0); s.add_argument("--mine-range", type=int, default=30)
        s.add_argument("--mine-sampling", default="top", choices=["top", "random"])
        s.add_argument("--teacher", default="none", choices=["none", "hybrid"])
        s.add_argument("--truncate-only", action="store_true")
    s = sub.add_parser("score"); s.add_argument("--model", required=True); s.add_argument("--top-k", type=int, default=30)
    s.add_argument("--eval-max-length", type=int, default=256); s.add_argument("--test", action="store_true")
    s.add_argument("--truncate-only", action="store_true"); s.add_argument("--onnx-file", help="score with ONNX Runtime: onnx/model.onnx or onnx/model_qint8.onnx")
    s = sub.add_parser("quantize"); s.add_argument("--model", required=True); s.add_argument("--calibration", type=int, default=256)
    s.add_argument("--eval-max-length", type=int, default=128)
    s = sub.add_parser("rank-speed"); s.add_argument("--model", required=True); s.add_argument("--queries", type=int, default=300)
    s.add_argument("--top-k", type=int, default=100); s.add_argument("--max-length", type=int, default=256)
    a = p.parse_args()
    if a.cmd != "train-child": header(" ".join(sys.argv[1:]))      # every command's table starts with its machine and command
    quiet()
    {"first-stages": first_stages, "compare": compare, "dev": dev_run, "train-child": train_child, "rank-speed": rank_speed, "score": score_saved,
     "quantize": quantize_saved}[a.cmd](a)

if __name__ == "__main__":
    main()
