"""Training speed and quality: xenc.train against sentence-transformers' CrossEncoderTrainer.

    python benchmarks/train.py speed [--data stsb|long] [--steps 120 360] [--rounds 2] [--pairs 1920] [--batch-size 16]
        Training speed, interleaved in one run: sentence-transformers' CrossEncoderTrainer (the reference) in fp32 and, where
        the CPU has native bf16, in bf16; xenc in fp32 (random batches, and length-grouped ones) and in bf16. Each trains the
        offline base model (all-MiniLM-L6-v2, the same fresh 1-label head) with BCE, lr 5e-5, seed 42, for each --steps, alone
        in a child process; the rounds rotate the order; and xenc bf16 with torch's own dropout and attention (F.dropout,
        scaled_dot_product_attention) in place of xenc.kernels', to show what they change. --data stsb: the first --pairs STS-B train pairs (scores / 5, short
        pairs, about half of a random batch padding); --data long: SciFact train queries with their cited abstracts, every
        pair cut at 128 tokens (needs XENC_DATA_DIR). Prints samples/s (the fastest round of each), the ratio to the
        reference in the same precision, the share of the matmul peak in that precision (measured here) reached on real-token
        FLOPs (forward + backward = 3 x the forward's), peak RSS; then one step split by the profiler into matrix products,
        attention, dropout, elementwise, optimizer and the rest.
    python benchmarks/train.py side [--epochs 4] [--only CONTENDER ...]
        The seed card 003 recipe (below) side by side in one run: sentence-transformers' CrossEncoderTrainer and xenc, in
        fp32 and (where the CPU has native bf16) in bf16, each alone in a child process; time, samples/s, ratio to the
        reference's fp32 and to its bf16, dev and test Spearman.
    python benchmarks/train.py recipe [--epochs 4] [--batch-size 64] [--sampler length_grouped]
        The seed card 003 recipe in xenc: BCE on score/5, batch 64, 4 epochs, warmup 0.1, lr 5e-5,
        seed 42, STS-B dev Spearman every 80 steps; STS-B test Spearman once at the end.
    python benchmarks/train.py recipe --both-orders --bf16 --lr 1.5e-4 --batch-size 32 --no-test --save runs/candidate
        A candidate recipe, chosen on dev only: train on both orders of each pair (xenc.apps.distill.with_swapped_pairs),
        report dev Spearman plain and order-averaged, keep the model; then, once, for the chosen one:
    python benchmarks/train.py recipe --bf16 --lr 1.5e-4 --batch-size 32 --distill 0.3 --calibrate --silver 10000 --no-test --save runs/teacher
        The recipe chosen on dev (issue 8): the base model used as a bi-encoder is a teacher. Each gold score moves 30%
        of the way to the teacher's (isotonic-calibrated) cosine (xenc.apps.distill.with_teacher_scores), and 10,000 re-pairings of
        the training sentences, half near neighbours, are added with the teacher's score (xenc.apps.distill.silver_pairs).
    python benchmarks/train.py quality [--recipes 000 002] [--max-train 2490 4096] [--batch-size 16] [--seeds 1 2 3]
        bf16 against fp32 on the classification stand-ins: the seed card 000 recipe on RTE (2 labels) and the seed card 002
        recipe on SNLI (its validation split to train), each on the first --max-train pairs with batch --batch-size, in fp32
        and in bf16, each alone in a child process; every dev (and test) metric of each run, and bf16 - fp32. With --seeds,
        each recipe runs with each of those seeds in place of its card's (the head, the order, the dropout), and the table
        ends with each metric's mean and standard deviation over the seeds.
    python benchmarks/train.py test runs/candidate [--symmetric]
        STS-B test Pearson and Spearman of a saved model (order-averaged scores with --symmetric).
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time, warnings
import torch
from pathlib import Path
os.environ.setdefault("HF_HUB_OFFLINE", "1"); os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
from machine import header, matmul_gflops, model_gflop, peak_rss_mb, quiet

def run_children(contenders, *flags):
    "Run `child --which C *flags` for each contender, one after the other, each alone in its process; their JSON results."
    res = {}
    for c in contenders:
        r = subprocess.run([sys.executable, __file__, "child", "--which", c, *flags], capture_output=True, text=True)
        if r.returncode: sys.exit(f"{c} failed:\n{r.stderr[-3000:]}")
        res[c] = json.loads(r.stdout.strip().splitlines()[-1]); print(f"# {c}: {res[c]}", flush=True)
    return res

def stsb(split):
    from xenc.data import load_benchmark
    return load_benchmark("stsb", split)

def run_reference(steps, bs, out, data, bf16=False, max_length=None):
    from sentence_transformers.cross_encoder import CrossEncoder, CrossEncoderTrainer, CrossEncoderTrainingArguments
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss
    from xenc.model import offline_base_model
    torch.manual_seed(42)                  # the fresh head: the same draw in both libraries
    model = CrossEncoder(str(offline_base_model()), num_labels=1, device="cpu", max_length=max_length)
    args = CrossEncoderTrainingArguments(output_dir=out, per_device_train_batch_size=bs, max_steps=steps, learning_rate=5e-5, seed=42,
                                         logging_steps=50, save_strategy="no", report_to="none", disable_tqdm=True, use_cpu=True,
                                         bf16=bf16)
    trainer = CrossEncoderTrainer(model=model, args=args, train_dataset=data, loss=BinaryCrossEntropyLoss(model))
    t = time.perf_counter()
    trainer.train()
    return time.perf_counter() - t

def torch_kernels():
    "Put torch's own dropout and attention back into xenc's unpadded forward (what it ran before xenc.kernels), in this process."
    import torch.nn.functional as F
    import xenc.unpadded as U
    from xenc.kernels import fused_attention
    U.dropout = lambda h, p, training=True: F.dropout(h, p, training)
    U.dropout_add = lambda h, x, p, training=True: x + F.dropout(h, p, training)
    U.attention = fused_attention

def run_xenc(steps, bs, out, data, sampler, bf16, max_length=None, kernels="xenc"):
    from xenc.model import CrossEncoder, offline_base_model
    from xenc import TrainConfig, train
    if kernels == "torch": torch_kernels()
    torch.manual_seed(42)
    model = CrossEncoder(offline_base_model(), num_labels=1, device="cpu", max_length=max_length)
    cfg = TrainConfig(output_dir=out, per_device_train_batch_size=bs, max_steps=steps, learning_rate=5e-5, seed=42, logging_steps=50,
                      save_strategy="no", batch_sampler=sampler, bf16=bf16, disable_tqdm=True)
    t = time.perf_counter()
    train(model, cfg, data)
    return time.perf_counter() - t

# contender -> (library, batch sampler, bf16); the bf16 rows only where the CPU has native bf16
SPEED = {"sentence-transformers": ("reference", None, False), "sentence-transformers bf16": ("reference", None, True),
         "xenc fp32": ("xenc", "batch_sampler", False), "xenc length_grouped": ("xenc", "length_grouped", False),
         "xenc bf16": ("xenc", "batch_sampler", True), "xenc bf16, torch's dropout and attention": ("xenc torch", "batch_sampler", True)}
LONG = 128    # tokens of every pair of the long data: a SciFact query and its cited abstract, cut at 128

def speed_data(which, pairs):
    "The first `pairs` STS-B train pairs (scores / 5), or SciFact train queries with their cited abstracts (label 1), each 128 tokens."
    if which == "stsb": return stsb("train").select(range(pairs)), None
    from datasets import Dataset
    from rerank import scifact_dir
    from xenc.apps.rerank import load_beir
    b = load_beir(scifact_dir(), "train")
    rows = [(b.queries[q], f"{b.corpus[d]['title']} {b.corpus[d]['text']}") for q, ds in b.qrels.items() for d in ds]
    rows = (rows * (pairs // len(rows) + 1))[:pairs]
    return Dataset.from_dict({"sentence1": [a for a, _ in rows], "sentence2": [d for _, d in rows], "score": [1.0] * len(rows)}), LONG

def run_contender(which, steps, bs, out, data, max_length):
    lib, sampler, bf16 = SPEED[which]
    if lib == "reference": return run_reference(steps, bs, out, data, bf16, max_length)
    return run_xenc(steps, bs, out, data, sampler, bf16, max_length, "torch" if lib == "xenc torch" else "xenc")

# the profiler's operators, by what they do (self CPU time; anything else aten:: is elementwise)
CATEGORIES = {"matmul": ("aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm", "aten::_mkl_linear", "aten::mkldnn_rnn"),
              "attention": ("aten::_softmax", "aten::_softmax_backward_data", "aten::masked_fill_", "aten::masked_fill",
                            "aten::_scaled_dot_product_flash_attention_for_cpu",
                            "aten::_scaled_dot_product_flash_attention_for_cpu_backward"),
              "dropout": ("aten::bernoulli_", "aten::random_", "aten::ge", "aten::native_dropout", "aten::native_dropout_backward"),
              "optimizer": ("aten::_fused_adamw_", "aten::_foreach_", "aten::_amp_foreach", "aten::linalg_vector_norm")}

def breakdown(which, bs, data, max_length, steps=8):
    "ms per step by category: `steps` training steps under torch.profiler (after 2 unprofiled ones), self CPU time of each operator."
    from torch.profiler import ProfilerActivity, profile
    with tempfile.TemporaryDirectory() as out:
        run_contender(which, 2, bs, out, data, max_length)
        with profile(activities=[ProfilerActivity.CPU]) as p:
            wall = run_contender(which, steps, bs, out, data, max_length)
    ms = dict.fromkeys([*CATEGORIES, "elementwise"], 0.0)
    for e in p.key_averages():
        if not e.key.startswith("aten::"): continue
        cat = next((c for c, ops in CATEGORIES.items() if any(e.key.startswith(o) for o in ops)), "elementwise")
        ms[cat] += e.self_cpu_time_total / 1000 / steps
    ms["other (Python, data, profiler)"] = max(0.0, 1000 * wall / steps - sum(ms.values()))
    return ms

def child(which, steps, bs, pairs, data_name, profiled):
    quiet()
    data, max_length = speed_data(data_name, pairs)
    with tempfile.TemporaryDirectory() as out:
        secs = run_contender(which, steps, bs, out, data, max_length)
    res = {"seconds": secs, "hwm_mb": peak_rss_mb()}
    if profiled: res["breakdown"] = breakdown(which, bs, data, max_length)
    print(json.dumps(res))


def real_gflop(data, max_length=None):
    "Training FLOPs of one pass over `data`'s pairs on their real tokens: 3 x the full forward's."
    from xenc.model import offline_base_model
    return 3 * model_gflop(list(zip(data["sentence1"][:], data["sentence2"][:])), offline_base_model(), max_length)

def speed(args):
    header(f"speed --data {args.data} --steps {' '.join(map(str, args.steps))} --rounds {args.rounds} --pairs {args.pairs} "
           f"--batch-size {args.batch_size}")
    from xenc.model import cpu_has_bf16
    contenders = [c for c, (_, _, bf16) in SPEED.items() if cpu_has_bf16() or not bf16]
    if args.data == "long": contenders.remove("xenc length_grouped")           # (every pair has the same length)
    peak = {False: matmul_gflops(), True: matmul_gflops(torch.bfloat16, n=40 if cpu_has_bf16() else 2)}
    data, max_length = speed_data(args.data, args.pairs)
    epoch_gflop, res = real_gflop(data, max_length), {}
    for r in range(args.rounds):                                       # interleaved: each round runs every contender once, rotated
        for steps in args.steps:
            order = contenders[r % len(contenders):] + contenders[:r % len(contenders)]
            flags = ["--steps", str(steps), "--batch-size", str(args.batch_size), "--pairs", str(args.pairs), "--data", args.data]
            for c, x in run_children(order, *flags, *(["--breakdown"] if r == 0 and steps == args.steps[0] else [])).items():
                res.setdefault((c, steps), []).append(x)
    what = (f"STS-B train, first {args.pairs} pairs" if args.data == "stsb" else
            f"{args.pairs} SciFact train (query, cited abstract) pairs, every one {LONG} tokens")
    print(f"\n{what}, BCE, batch {args.batch_size}, lr 5e-5, seed 42, CPU; {args.rounds} interleaved rounds (the fastest of each); "
          f"matmul peak fp32 {peak[False]:.0f} GFLOP/s, bf16 {peak[True]:.0f} GFLOP/s; one pass = {epoch_gflop:.0f} GFLOP on real tokens"
          + ("" if cpu_has_bf16() else "; no bf16 rows: this CPU has no native bf16 (AVX512-BF16 or AMX)") + "\n")
    print("| contender | steps | seconds | samples/s | x reference (same precision) | GFLOP/s (real tokens) | % of matmul peak | "
          "peak RSS MB |\n|---|---|---|---|---|---|---|---|")
    for steps in args.steps:
        best = {c: min(x["seconds"] for x in res[(c, steps)]) for c in contenders}           # the fastest round of each
        gflop = epoch_gflop * steps * args.batch_size / len(data)
        for c in contenders:
            bf16 = SPEED[c][2]
            ref = best["sentence-transformers bf16" if bf16 else "sentence-transformers"]
            print(f"| {c} | {steps} | {best[c]:.0f} | {steps * args.batch_size / best[c]:.1f} | {ref / best[c]:.2f} | {gflop / best[c]:.0f} | "
                  f"{100 * gflop / best[c] / peak[bf16]:.0f}% ({'bf16' if bf16 else 'fp32'}) | {max(x['hwm_mb'] for x in res[(c, steps)]):.0f} |")
    cats = list(res[(contenders[0], args.steps[0])][0]["breakdown"])
    print(f"\nOne step, ms, by what the profiler's operators do (self CPU time, {args.steps[0]}-step run's contenders, 8 profiled "
          "steps each; 'other' is the step's wall time less the operators'):\n")
    print("| contender | " + " | ".join(cats) + " | step |\n|---|" + "---|" * (len(cats) + 1))
    for c in contenders:
        b = res[(c, args.steps[0])][0]["breakdown"]
        print(f"| {c} | " + " | ".join(f"{b[k]:.0f}" for k in cats) + f" | {sum(b.values()):.0f} |")

def seed003_config(out, bs=64, epochs=4, lr=5e-5, sampler="length_grouped", bf16=False):
    "The seed card 003 recipe as an xenc TrainConfig (side and recipe both train with it)."
    from xenc import TrainConfig
    return TrainConfig(output_dir=out, per_device_train_batch_size=bs, per_device_eval_batch_size=64, num_train_epochs=epochs,
                       learning_rate=lr, warmup_steps=0.1, seed=42, logging_steps=20, eval_strategy="steps", eval_steps=80,
                       save_strategy="no", batch_sampler=sampler, disable_tqdm=True, bf16=bf16)

def seed003_child(which, epochs, bs):
    "One contender of `side`: the seed card 003 recipe, alone in this process; prints seconds, samples, dev/test Spearman, peak RSS."
    quiet()
    from scipy.stats import spearmanr
    from xenc.model import offline_base_model
    data, dev, test = stsb("train"), stsb("dev"), stsb("test")
    pairs = lambda d: list(zip(d["sentence1"][:], d["sentence2"][:]))
    torch.manual_seed(42)                  # the fresh head: the same draw in both libraries (and in every run)
    with tempfile.TemporaryDirectory() as out:
        if which.startswith("sentence-transformers"):
            from sentence_transformers.cross_encoder import CrossEncoder, CrossEncoderTrainer, CrossEncoderTrainingArguments
            from sentence_transformers.cross_encoder.evaluation import CrossEncoderCorrelationEvaluator
            from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss
            model = CrossEncoder(str(offline_base_model()), num_labels=1, device="cpu")
            ev = CrossEncoderCorrelationEvaluator(pairs(dev), dev["score"][:], name="stsb-validation", batch_size=64)
            args = CrossEncoderTrainingArguments(output_dir=out, per_device_train_batch_size=bs, per_device_eval_batch_size=64,
                                                 num_train_epochs=epochs, learning_rate=5e-5, warmup_ratio=0.1, seed=42, logging_steps=20,
                                                 eval_strategy="steps", eval_steps=80, save_strategy="no", report_to="none",
                                                 disable_tqdm=True, use_cpu=True, bf16=which.endswith("bf16"))
            trainer = CrossEncoderTrainer(model=model, args=args, train_dataset=data, loss=BinaryCrossEntropyLoss(model), evaluator=ev)
            t = time.perf_counter(); trainer.train(); secs = time.perf_counter() - t
        else:
            from xenc.evaluation import CorrelationEvaluator
            from xenc.model import CrossEncoder
            from xenc import train
            model = CrossEncoder(offline_base_model(), num_labels=1, device="cpu")
            ev = CorrelationEvaluator(pairs(dev), dev["score"][:], name="stsb-validation", batch_size=64)
            cfg = seed003_config(out, bs, epochs, bf16=which.endswith("bf16"))
            t = time.perf_counter(); train(model, cfg, data, evaluators=[ev]); secs = time.perf_counter() - t
        rho = lambda d: float(spearmanr(model.predict(pairs(d), batch_size=64), d["score"][:]).statistic)
        print(json.dumps({"seconds": secs, "samples": len(data) * epochs, "dev": rho(dev), "test": rho(test), "hwm_mb": peak_rss_mb()}))

def side(args):
    "The seed card 003 recipe in sentence-transformers and in xenc (fp32, and bf16 where the CPU has it), in this one run."
    header(f"side --epochs {args.epochs}" + ("" if not args.only else " --only " + " ".join(repr(c) for c in args.only)))
    from xenc.model import cpu_has_bf16
    contenders = ["sentence-transformers", "xenc fp32"] + (["sentence-transformers bf16", "xenc bf16"] if cpu_has_bf16() else [])
    contenders = [c for c in contenders if not args.only or c in args.only]
    res = run_children(contenders, "--recipe-epochs", str(args.epochs), "--batch-size", "64")
    ref, peak = res.get("sentence-transformers"), {False: matmul_gflops(), True: matmul_gflops(torch.bfloat16, n=40 if cpu_has_bf16() else 2)}
    gflop = real_gflop(stsb("train")) * args.epochs
    print(f"\nSeed card 003 recipe: STS-B train (5,749 pairs), BCE on score/5, batch 64, {args.epochs:g} epochs, warm-up 0.1, lr 5e-5, "
          "seed 42, dev Spearman every 80 steps (in the time); each contender alone in a child process, one after the other; "
          f"matmul peak fp32 {peak[False]:.0f} GFLOP/s, bf16 {peak[True]:.0f}; training = {gflop:.0f} GFLOP on real tokens\n")
    ref16 = res.get("sentence-transformers bf16")
    print("| contender | training + evaluation s | samples/s | x reference fp32 | x reference bf16 | % of matmul peak (real-token training FLOPs) "
          "| STS-B dev Spearman | STS-B test Spearman | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for c in contenders:
        x, bf16 = res[c], c.endswith("bf16")
        vs16 = f"{ref16['seconds'] / x['seconds']:.2f}" if ref16 else "-"
        vs32 = f"{ref['seconds'] / x['seconds']:.2f}" if ref else "-"
        print(f"| {c} | {x['seconds']:.0f} | {x['samples'] / x['seconds']:.1f} | {vs32} | {vs16} | "
              f"{100 * gflop / x['seconds'] / peak[bf16]:.0f}% ({'bf16' if bf16 else 'fp32'}) | {x['dev']:.4f} | {x['test']:.4f} | {x['hwm_mb']:.0f} |")

QUALITY = {"000": "RTE, 2 labels", "002": "SNLI"}
QUALITY_PAIRS = {"000": 2490, "002": 4096}    # training pairs of each recipe by default: all of RTE, 4,096 of SNLI

def quality_child(seed, max_train, bs, bf16, run_seed=None):
    "One seed card's recipe on the offline stand-in, in fp32 or bf16 (and `run_seed` for the card's seed), alone; prints its metrics."
    quiet()
    from xenc.data import find_data_dir
    from xenc.card.read import seed_card
    from xenc.tools.recipe import build_recipe
    from xenc.tools.reproduce import run_recipe
    with tempfile.TemporaryDirectory() as out:
        r = build_recipe(seed_card(seed, os.environ.get("XENC_SEEDS_DIR")), offline=True, data_dir=find_data_dir(),
                         output_dir=out, max_train=max_train, max_eval=1000, batch_size=bs, device="cpu")
        r.config.bf16, r.config.save_strategy = bf16, "no"
        if run_seed is not None: r.config.seed = run_seed      # the head's draw, the order, the dropout
        t = time.perf_counter()
        rep = run_recipe(r, Path(out) / "model", resume=False)
        print(json.dumps({"metrics": rep.reproduced.metrics, "seconds": time.perf_counter() - t}))

def quality(args):
    "bf16 against fp32 on the seed 000 (RTE) and 002 (SNLI) recipes, each run alone in a child process, per run seed."
    if args.max_train and len(args.max_train) != len(args.recipes):
        sys.exit(f"--max-train gives {len(args.max_train)} sizes for {len(args.recipes)} recipes: one per recipe, in order")
    sizes = args.max_train or [QUALITY_PAIRS[r] for r in args.recipes]
    header("quality --recipes " + " ".join(args.recipes) + " --max-train " + " ".join(map(str, sizes))
           + f" --batch-size {args.batch_size}" + (" --seeds " + " ".join(map(str, args.seeds)) if args.seeds else ""))
    res, seeds = {}, args.seeds or [None]
    for seed, n in zip(args.recipes, sizes):
        for s, prec in ((s, prec) for s in seeds for prec in ("fp32", "bf16")):
            cmd = [sys.executable, __file__, "child", "--quality", seed, "--pairs", str(n), "--batch-size", str(args.batch_size)]
            r = subprocess.run(cmd + (["--bf16"] if prec == "bf16" else []) + ([] if s is None else ["--run-seed", str(s)]),
                               capture_output=True, text=True)
            if r.returncode: sys.exit(f"seed card {seed}, run seed {s}, {prec} failed:\n{r.stderr[-3000:]}")
            res[(seed, s, prec)] = json.loads(r.stdout.strip().splitlines()[-1])
            print(f"# {seed} run seed {s} {prec}: {res[(seed, s, prec)]}", flush=True)
    print("\n| seed card (stand-in) | run seed | metric | fp32 | bf16 | bf16 - fp32 |\n|---|---|---|---|---|---|")
    for seed in args.recipes:
        what = QUALITY[seed]
        for s in seeds:
            a, b = res[(seed, s, "fp32")], res[(seed, s, "bf16")]
            for k in a["metrics"]:
                print(f"| {seed} ({what}) | {'card' if s is None else s} | {k} | {a['metrics'][k]:.4f} | {b['metrics'][k]:.4f} | "
                      f"{b['metrics'][k] - a['metrics'][k]:+.4f} |")
            print(f"| {seed} ({what}) | {'card' if s is None else s} | training + evaluation s | {a['seconds']:.0f} | {b['seconds']:.0f} | |")
        if len(seeds) > 1:
            for k in res[(seed, seeds[0], "fp32")]["metrics"]:
                f, b = ([res[(seed, s, p)]["metrics"][k] for s in seeds] for p in ("fp32", "bf16"))
                mf, mb = statistics.mean(f), statistics.mean(b)
                print(f"| {seed} ({what}) | mean ± sd of {len(seeds)} | {k} | {mf:.4f} ± {statistics.stdev(f):.4f} | "
                      f"{mb:.4f} ± {statistics.stdev(b):.4f} | {mb - mf:+.4f} |")

class Symmetric:
    "Scores a pair as the mean of both orders: a similarity is symmetric, a cross-encoder reading [CLS] a [SEP] b [SEP] is not."
    def __init__(self, model): self.model = model
    def predict(self, pairs, **kw):
        return (self.model.predict(pairs, **kw) + self.model.predict([(b, a) for a, b in pairs], **kw)) / 2

def test(args):
    warnings.filterwarnings("ignore")
    from xenc.evaluation import CorrelationEvaluator
    from xenc.model import CrossEncoder
    header(f"test {args.model}" + (" --symmetric" if args.symmetric else ""))
    t = stsb("test")
    model = CrossEncoder(args.model, device="cpu")
    m = CorrelationEvaluator(list(zip(t["sentence1"][:], t["sentence2"][:])), t["score"][:], name="stsb-test", batch_size=64)(
        Symmetric(model) if args.symmetric else model)
    print(f"STS-B test Spearman {m['stsb-test_spearman']:.4f}, Pearson {m['stsb-test_pearson']:.4f}" + (" (order-averaged)" if args.symmetric else ""))

def recipe(args):
    quiet()
    from xenc.evaluation import CorrelationEvaluator
    from xenc.model import CrossEncoder, offline_base_model
    from xenc import train
    from xenc.card.build import log_table, training_time
    from xenc.apps.distill import with_swapped_pairs
    header(" ".join(["recipe", *sys.argv[2:]]))
    data, dev, test = stsb("train"), stsb("dev"), stsb("test")
    if args.distill or args.silver:   # a teacher: the base model used as the bi-encoder it was trained to be
        from scipy.stats import spearmanr
        from datasets import concatenate_datasets
        from xenc.apps.distill import with_teacher_scores
        from xenc.apps.distill import bi_encoder_similarity, silver_pairs
        cos = bi_encoder_similarity(list(zip(data["sentence1"][:], data["sentence2"][:])))
        dev_cos = bi_encoder_similarity(list(zip(dev["sentence1"][:], dev["sentence2"][:])))
        print(f"teacher (bi-encoder cosine): STS-B dev Spearman {spearmanr(dev_cos, dev['score'][:]).statistic:.4f}")
        gold = data
        data = with_teacher_scores(gold, cos, weight=args.distill, calibrate=args.calibrate)
        if args.silver:
            data = concatenate_datasets([data, silver_pairs(gold, args.silver, teacher=cos)])
            print(f"+ {args.silver} silver pairs (re-pairings of train sentences, half near neighbours), scored by the teacher")
    if args.both_orders: data = with_swapped_pairs(data)
    ev = lambda d, n: CorrelationEvaluator(list(zip(d["sentence1"][:], d["sentence2"][:])), d["score"][:], name=n, batch_size=64)
    torch.manual_seed(42)                  # the fresh head: the same draw in every run
    model = CrossEncoder(offline_base_model(), num_labels=1, device="cpu")
    with tempfile.TemporaryDirectory() as out:
        cfg = seed003_config(out, args.batch_size, args.epochs, args.lr, args.sampler, args.bf16)
        t = time.perf_counter()
        res = train(model, cfg, data, evaluators=[ev(dev, "stsb-validation")])
        wall = time.perf_counter() - t
        final_dev = ev(dev, "stsb-validation")(model)
        sym_dev = ev(dev, "stsb-validation")(Symmetric(model))
        if args.save: model.save_pretrained(args.save)
        test_metrics = None if args.no_test else ev(test, "stsb-test")(model)
        peak = peak_rss_mb()
    print(log_table(res)); print(); print(training_time(res))
    print(f"\nwall {wall:.0f} s for {len(data) * args.epochs:.0f} samples ({len(data) * args.epochs / wall:.1f} samples/s), peak RSS {peak:.0f} MB")
    print(f"final: STS-B dev Spearman {final_dev['stsb-validation_spearman']:.4f} (order-averaged {sym_dev['stsb-validation_spearman']:.4f})"
          + ("" if test_metrics is None else
          f", test Spearman {test_metrics['stsb-test_spearman']:.4f}, test Pearson {test_metrics['stsb-test_pearson']:.4f}"))

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("speed"); c.add_argument("--steps", type=int, nargs="+", default=[120, 360]); c.add_argument("--rounds", type=int, default=2)
    c.add_argument("--pairs", type=int, default=1920); c.add_argument("--batch-size", type=int, default=16)
    c.add_argument("--data", choices=["stsb", "long"], default="stsb", help="STS-B's short pairs, or SciFact pairs of 128 tokens each")
    r = sub.add_parser("recipe"); r.add_argument("--epochs", type=float, default=4); r.add_argument("--batch-size", type=int, default=64)
    r.add_argument("--sampler", default="length_grouped"); r.add_argument("--lr", type=float, default=5e-5)
    r.add_argument("--no-test", action="store_true", help="choose recipes on dev: never score the test split")
    r.add_argument("--both-orders", action="store_true", help="train on (a, b) and (b, a)"); r.add_argument("--bf16", action="store_true")
    r.add_argument("--distill", type=float, default=0.0, help="targets (1 - λ) score/5 + λ max(0, bi-encoder cosine)")
    r.add_argument("--calibrate", action="store_true", help="map the teacher's cosine to the gold scale (isotonic, on train)")
    r.add_argument("--silver", type=int, default=0, help="add this many teacher-labelled re-pairings of train sentences")
    r.add_argument("--save", default=None, help="save the trained model here (then score test once with `test`)")
    te = sub.add_parser("test"); te.add_argument("model"); te.add_argument("--symmetric", action="store_true")
    sd = sub.add_parser("side"); sd.add_argument("--epochs", type=float, default=4)
    sd.add_argument("--only", nargs="+", default=None, help="these contenders only, e.g. 'sentence-transformers bf16' 'xenc bf16'")
    ch = sub.add_parser("child"); ch.add_argument("--which"); ch.add_argument("--steps", type=int); ch.add_argument("--batch-size", type=int)
    ch.add_argument("--pairs", type=int, default=1920); ch.add_argument("--data", default="stsb")
    ch.add_argument("--breakdown", action="store_true")
    ch.add_argument("--quality", default=None); ch.add_argument("--bf16", action="store_true")
    q = sub.add_parser("quality"); q.add_argument("--max-train", type=int, nargs="+", default=None,
                   help="training pairs, one per recipe in order (default: 2490 for 000, 4096 for 002)")
    q.add_argument("--batch-size", type=int, default=16)
    q.add_argument("--recipes", nargs="+", choices=sorted(QUALITY), default=sorted(QUALITY), help="seed cards to compare")
    q.add_argument("--seeds", type=int, nargs="+", default=None, help="run seeds (default: each card's own)")
    ch.add_argument("--run-seed", type=int, default=None)
    ch.add_argument("--recipe-epochs", type=float, default=None)
    a = ap.parse_args()
    if a.cmd == "speed": speed(a)
    elif a.cmd == "recipe": recipe(a)
    elif a.cmd == "test": test(a)
    elif a.cmd == "side": side(a)
    elif a.cmd == "quality": quality(a)
    elif a.quality is not None: quality_child(a.quality, a.pairs, a.batch_size, a.bf16, a.run_seed)
    elif a.recipe_epochs is not None: seed003_child(a.which, a.recipe_epochs, a.batch_size)
    else: child(a.which, a.steps, a.batch_size, a.pairs, a.data, a.breakdown)

if __name__ == "__main__": main()
