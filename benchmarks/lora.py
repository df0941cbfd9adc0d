"""LoRA against full fine-tuning on STS-B: quality and time, side by side in one run.

    python benchmarks/lora.py [--kinds full,lora,lora-head] [--full-lrs 1e-4] [--lrs 2e-3] [--seeds 0,1,2]
                              [--epochs 1] [--rank 8] [--dropout 0] [--test]

Each contender trains the offline base model on STS-B train (5,749 pairs; --max-train for fewer), batch 16, warmup
10%, the default loss (binary cross-entropy on the 0-1 scores), bf16 where the CPU has it natively, alone in a child
process, once per seed: `full` fine-tunes every weight at each of --full-lrs; `lora` (xenc's default: adapters of rank
--rank on every encoder linear layer, alpha 2 x rank, the head and every LayerNorm and bias trained in full) and
`lora-head` (the adapters and the head only, `add_lora(norms=False)`) train at each of --lrs. The mean STS-B dev
Spearman over the seeds (1,500 pairs) chooses each contender's learning rate; with --test, STS-B test Spearman (1,379
pairs) is printed for each one's choice only, per seed and as the mean. Prints trainable parameters, training seconds
and samples/s. Run it with the machine to itself.
"""
import argparse, json, statistics, subprocess, sys, time

from machine import header, quiet

def one(kind, lr, seed, args):
    "Train one contender here; print its figures as one JSON line."
    quiet()
    from scipy.stats import spearmanr
    from xenc import TrainConfig, train
    from xenc.data import load_benchmark
    from xenc.model import CrossEncoder, cpu_has_bf16, offline_base_model
    import torch, tempfile
    torch.manual_seed(seed)
    ds = load_benchmark("stsb", "train")
    ds = ds if args.max_train is None else ds.shuffle(seed=0).select(range(args.max_train))
    model = CrossEncoder(offline_base_model(), device="cpu")
    if kind != "full":
        model.add_lora(r=args.rank, alpha=2 * args.rank, dropout=args.dropout, norms=kind == "lora")
    trainable = sum(p.numel() for p in model.model.parameters() if p.requires_grad)
    cfg = TrainConfig(output_dir=tempfile.mkdtemp(), per_device_train_batch_size=16, num_train_epochs=args.epochs,
                      learning_rate=lr, warmup_ratio=0.1, bf16=cpu_has_bf16(), save_strategy="no",
                      logging_steps=100, disable_tqdm=True, seed=seed)
    t = time.perf_counter()
    train(model, cfg, ds)
    seconds = time.perf_counter() - t
    out = {"kind": kind, "lr": lr, "seed": seed, "trainable": trainable, "seconds": seconds,
           "samples_per_s": len(ds) * args.epochs / seconds}
    for split in ("validation", "test") if args.test else ("validation",):
        d = load_benchmark("stsb", split)
        s = model.predict(list(zip(d["sentence1"][:], d["sentence2"][:])), batch_size=64)
        out[split] = float(spearmanr(s, d["score"][:])[0])
    print(json.dumps(out), flush=True)

def mean(rows, key): return statistics.fmean(r[key] for r in rows)

def table(groups, args):
    "One row per (contender, learning rate): means over the seeds; test for each contender's choice."
    best = {}
    for (kind, lr), rows in groups.items():
        if kind not in best or mean(rows, "validation") > mean(groups[best[kind]], "validation"): best[kind] = (kind, lr)
    names = {"full": "full fine-tuning", "lora": f"LoRA r={args.rank}, head + norms + biases",
             "lora-head": f"LoRA r={args.rank}, head only"}
    cols = ("| contender | lr | trainable params | train s | samples/s | dev Spearman |"
            + (" test Spearman (per seed) |" if args.test else ""))
    print(cols + "\n" + "|---" * (cols.count("|") - 1) + "|")
    for key, rows in groups.items():
        chosen = best[key[0]] == key
        test = ""
        if args.test:
            seeds = " / ".join(f"{r['test']:.4f}" for r in rows)
            test = f" **{mean(rows, 'test'):.4f}** ({seeds}) |" if chosen else " |"
        print(f"| {names[key[0]]}{' (chosen on dev)' if chosen else ''} | {key[1]:g} | {rows[0]['trainable']:,} | "
              f"{mean(rows, 'seconds'):.0f} | {mean(rows, 'samples_per_s'):.1f} | {mean(rows, 'validation'):.4f} |{test}")

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kinds", default="full,lora,lora-head")
    ap.add_argument("--full-lrs", default="1e-4"); ap.add_argument("--lrs", default="2e-3")
    ap.add_argument("--seeds", default="0,1,2"); ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--rank", type=int, default=8)
    ap.add_argument("--dropout", type=float, default=0.0, help="LoRA's dropout on the adapters' input")
    ap.add_argument("--test", action="store_true")
    ap.add_argument("--max-train", type=int); ap.add_argument("--one", nargs=3)
    args = ap.parse_args()
    if args.one: return one(args.one[0], float(args.one[1]), int(args.one[2]), args)
    unknown = set(args.kinds.split(",")) - {"full", "lora", "lora-head"}
    if unknown: ap.error(f"--kinds: unknown {sorted(unknown)}; choose among full, lora, lora-head")
    header(" ".join(sys.argv[1:]))
    base = [sys.executable, sys.argv[0], "--epochs", str(args.epochs), "--rank", str(args.rank),
            "--dropout", str(args.dropout)]
    base += (["--max-train", str(args.max_train)] if args.max_train else []) + (["--test"] if args.test else [])
    groups = {}
    for kind in args.kinds.split(","):
        for lr in (float(x) for x in (args.full_lrs if kind == "full" else args.lrs).split(",")):
            for seed in (int(s) for s in args.seeds.split(",")):
                r = subprocess.run(base + ["--one", kind, str(lr), str(seed)], capture_output=True, text=True)
                if r.returncode: sys.exit(r.stderr[-3000:])
                row = json.loads(r.stdout.strip().splitlines()[-1])
                groups.setdefault((kind, lr), []).append(row)
                print(f"# {kind} lr {lr:g} seed {seed}: dev {row['validation']:.4f}, {row['seconds']:.0f} s",
                      flush=True)
    table(groups, args)

if __name__ == "__main__":
    main()
