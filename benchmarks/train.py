"""Training speed and quality: xenc.train against sentence-transformers' CrossEncoderTrainer.

    python benchmarks/train.py speed [--steps 120 360] [--rounds 2] [--pairs 1920] [--batch-size 16]
        Training speed, interleaved in one run: sentence-transformers' CrossEncoderTrainer (the reference), xenc with
        its defaults (random batches), xenc with length-grouped batches, and xenc with bf16 autocast where the CPU has
        native bf16. Each trains the offline base model (all-MiniLM-L6-v2, the same fresh 1-label head) on the first
        --pairs STS-B train pairs (scores / 5, BCE), lr 5e-5, seed 42, for each --steps, alone in a child process; the
        rounds rotate the order. Prints samples/s (the fastest round of each), the ratio to the reference, the share of the
        matmul peak (measured here) reached on real-token FLOPs (forward + backward = 3 x the forward's), peak RSS.
    python benchmarks/train.py side [--epochs 4]
        The seed card 003 recipe (below) side by side in one run: sentence-transformers' CrossEncoderTrainer, xenc fp32,
        and xenc bf16 where the CPU has it, each alone in a child process; time, samples/s, ratio, dev and test Spearman.
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
    python benchmarks/train.py test runs/candidate [--symmetric]
        STS-B test Pearson and Spearman of a saved model (order-averaged scores with --symmetric).
"""
import argparse, json, os, subprocess, sys, tempfile, time, warnings
import torch
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

def run_reference(steps, bs, out, data):
    from sentence_transformers.cross_encoder import CrossEncoder, CrossEncoderTrainer, CrossEncoderTrainingArguments
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss
    from xenc.model import offline_base_model
    torch.manual_seed(42)                  # the fresh head: the same draw in both libraries
    model = CrossEncoder(str(offline_base_model()), num_labels=1, device="cpu")
    args = CrossEncoderTrainingArguments(output_dir=out, per_device_train_batch_size=bs, max_steps=steps, learning_rate=5e-5, seed=42,
                                         logging_steps=50, save_strategy="no", report_to="none", disable_tqdm=True, use_cpu=True)
    t = time.perf_counter()
    CrossEncoderTrainer(model=model, args=args, train_dataset=data, loss=BinaryCrossEntropyLoss(model)).train()
    return time.perf_counter() - t

def run_xenc(steps, bs, out, data, sampler, bf16):
    from xenc.model import CrossEncoder, offline_base_model
    from xenc import TrainConfig, train
    torch.manual_seed(42)
    model = CrossEncoder(offline_base_model(), num_labels=1, device="cpu")
    cfg = TrainConfig(output_dir=out, per_device_train_batch_size=bs, max_steps=steps, learning_rate=5e-5, seed=42, logging_steps=50,
                      save_strategy="no", batch_sampler=sampler, bf16=bf16, disable_tqdm=True)
    t = time.perf_counter()
    train(model, cfg, data)
    return time.perf_counter() - t

SPEED = {"sentence-transformers": None, "xenc default": ("batch_sampler", False), "xenc length_grouped": ("length_grouped", False),
         "xenc bf16": ("batch_sampler", True)}

def child(which, steps, bs, pairs):
    quiet()
    data = stsb("train").select(range(pairs))
    with tempfile.TemporaryDirectory() as out:
        secs = run_reference(steps, bs, out, data) if which == "sentence-transformers" else run_xenc(steps, bs, out, data, *SPEED[which])
    print(json.dumps({"seconds": secs, "hwm_mb": peak_rss_mb()}))


def real_gflop(pairs):
    "Training FLOPs of one pass over the first `pairs` STS-B train pairs on their real tokens: 3 x the full forward's."
    from xenc.model import offline_base_model
    d = stsb("train").select(range(pairs))
    return 3 * model_gflop(list(zip(d["sentence1"][:], d["sentence2"][:])), offline_base_model())

def speed(args):
    header(f"speed --steps {' '.join(map(str, args.steps))} --rounds {args.rounds} --pairs {args.pairs} --batch-size {args.batch_size}")
    from xenc.model import cpu_has_bf16
    contenders = [c for c in SPEED if c != "xenc bf16" or cpu_has_bf16()]
    peak = {False: matmul_gflops(), True: matmul_gflops(torch.bfloat16, n=40 if cpu_has_bf16() else 2)}
    epoch_gflop, res = real_gflop(args.pairs), {}
    for r in range(args.rounds):                                       # interleaved: each round runs every contender once, rotated
        for steps in args.steps:
            order = contenders[r % len(contenders):] + contenders[:r % len(contenders)]
            for c, x in run_children(order, "--steps", str(steps), "--batch-size", str(args.batch_size), "--pairs", str(args.pairs)).items():
                res.setdefault((c, steps), []).append(x)
    print(f"\nSTS-B train, first {args.pairs} pairs, BCE, batch {args.batch_size}, lr 5e-5, seed 42, CPU; {args.rounds} interleaved rounds (the fastest of each); "
          f"matmul peak fp32 {peak[False]:.0f} GFLOP/s, bf16 {peak[True]:.0f} GFLOP/s; one epoch = {epoch_gflop:.0f} GFLOP on real tokens"
          + ("" if cpu_has_bf16() else "; no xenc bf16 row: this CPU has no native bf16 (AVX512-BF16 or AMX)") + "\n")
    print("| contender | steps | seconds | samples/s | x reference | GFLOP/s (real tokens) | % of matmul peak | peak RSS MB |\n|---|---|---|---|---|---|---|---|")
    for steps in args.steps:
        med = {c: min(x["seconds"] for x in res[(c, steps)]) for c in contenders}           # the fastest round of each
        gflop = epoch_gflop * steps * args.batch_size / args.pairs
        for c in contenders:
            sps, bf16 = steps * args.batch_size / med[c], c.endswith("bf16")
            print(f"| {c} | {steps} | {med[c]:.0f} | {sps:.1f} | {med['sentence-transformers'] / med[c]:.2f} | {gflop / med[c]:.0f} | "
                  f"{100 * gflop / med[c] / peak[bf16]:.0f}% ({'bf16' if bf16 else 'fp32'}) | {max(x['hwm_mb'] for x in res[(c, steps)]):.0f} |")

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
        if which == "sentence-transformers":
            from sentence_transformers.cross_encoder import CrossEncoder, CrossEncoderTrainer, CrossEncoderTrainingArguments
            from sentence_transformers.cross_encoder.evaluation import CrossEncoderCorrelationEvaluator
            from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss
            model = CrossEncoder(str(offline_base_model()), num_labels=1, device="cpu")
            ev = CrossEncoderCorrelationEvaluator(pairs(dev), dev["score"][:], name="stsb-validation", batch_size=64)
            args = CrossEncoderTrainingArguments(output_dir=out, per_device_train_batch_size=bs, per_device_eval_batch_size=64,
                                                 num_train_epochs=epochs, learning_rate=5e-5, warmup_ratio=0.1, seed=42, logging_steps=20,
                                                 eval_strategy="steps", eval_steps=80, save_strategy="no", report_to="none",
                                                 disable_tqdm=True, use_cpu=True)
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
    header(f"side --epochs {args.epochs}")
    from xenc.model import cpu_has_bf16
    contenders = ["sentence-transformers", "xenc fp32"] + (["xenc bf16"] if cpu_has_bf16() else [])
    res = run_children(contenders, "--recipe-epochs", str(args.epochs), "--batch-size", "64")
    ref, peak = res["sentence-transformers"], {False: matmul_gflops(), True: matmul_gflops(torch.bfloat16, n=40 if cpu_has_bf16() else 2)}
    gflop = real_gflop(5749) * args.epochs
    print(f"\nSeed card 003 recipe: STS-B train (5,749 pairs), BCE on score/5, batch 64, {args.epochs:g} epochs, warm-up 0.1, lr 5e-5, "
          "seed 42, dev Spearman every 80 steps (in the time); each contender alone in a child process, one after the other; "
          f"matmul peak fp32 {peak[False]:.0f} GFLOP/s, bf16 {peak[True]:.0f}; training = {gflop:.0f} GFLOP on real tokens\n")
    print("| contender | training + evaluation s | samples/s | x reference | % of matmul peak (real-token training FLOPs) | STS-B dev Spearman | STS-B test Spearman | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|")
    for c in contenders:
        x, bf16 = res[c], c.endswith("bf16")
        print(f"| {c} | {x['seconds']:.0f} | {x['samples'] / x['seconds']:.1f} | {ref['seconds'] / x['seconds']:.2f} | "
              f"{100 * gflop / x['seconds'] / peak[bf16]:.0f}% ({'bf16' if bf16 else 'fp32'}) | {x['dev']:.4f} | {x['test']:.4f} | {x['hwm_mb']:.0f} |")

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
    ch = sub.add_parser("child"); ch.add_argument("--which"); ch.add_argument("--steps", type=int); ch.add_argument("--batch-size", type=int)
    ch.add_argument("--pairs", type=int, default=1920)
    ch.add_argument("--recipe-epochs", type=float, default=None)
    a = ap.parse_args()
    if a.cmd == "speed": speed(a)
    elif a.cmd == "recipe": recipe(a)
    elif a.cmd == "test": test(a)
    elif a.cmd == "side": side(a)
    elif a.recipe_epochs is not None: seed003_child(a.which, a.recipe_epochs, a.batch_size)
    else: child(a.which, a.steps, a.batch_size, a.pairs)

if __name__ == "__main__": main()
