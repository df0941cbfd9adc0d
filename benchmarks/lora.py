"""LoRA against full fine-tuning on STS-B: quality and time, side by side in one run.

    python benchmarks/lora.py [--epochs 1] [--full-lrs 5e-5,1e-4] [--lrs 5e-4,1e-3,2e-3] [--rank 8] [--test]

Each contender trains the offline base model on STS-B train (5,749 pairs; --max-train for fewer), batch 16, warmup
10%, the default loss (binary cross-entropy on the 0-1 scores), bf16 where the CPU has it natively, alone in a child
process: full fine-tuning at each of --full-lrs, and LoRA (rank --rank on every encoder linear layer, alpha 2 x rank,
the head trained in full) at each of --lrs. STS-B dev Spearman (1,500 pairs) chooses each one's learning rate; with
--test, STS-B test Spearman (1,379 pairs), printed for each one's choice only. Prints trainable parameters, training
seconds and samples/s. Run it with the machine to itself.
"""
import argparse, json, subprocess, sys, time

from machine import header, quiet

def one(kind, lr, args):
    "Train one contender here; print its figures as one JSON line."
    quiet()
    from scipy.stats import spearmanr
    from xenc import TrainConfig, train
    from xenc.data import load_benchmark
    from xenc.model import CrossEncoder, cpu_has_bf16, offline_base_model
    import torch, tempfile
    torch.manual_seed(0)
    ds = load_benchmark("stsb", "train")
    ds = ds if args.max_train is None else ds.shuffle(seed=0).select(range(args.max_train))
    model = CrossEncoder(offline_base_model(), device="cpu")
    if kind == "lora": model.add_lora(r=args.rank, alpha=2 * args.rank)
    trainable = sum(p.numel() for p in model.model.parameters() if p.requires_grad)
    cfg = TrainConfig(output_dir=tempfile.mkdtemp(), per_device_train_batch_size=16, num_train_epochs=args.epochs,
                      learning_rate=lr, warmup_ratio=0.1, bf16=cpu_has_bf16(), save_strategy="no",
                      logging_steps=100, disable_tqdm=True, seed=0)
    t = time.perf_counter()
    train(model, cfg, ds)
    seconds = time.perf_counter() - t
    out = {"kind": kind, "lr": lr, "trainable": trainable, "seconds": seconds,
           "samples_per_s": len(ds) * args.epochs / seconds}
    for split in ("validation", "test") if args.test else ("validation",):
        d = load_benchmark("stsb", split)
        s = model.predict(list(zip(d["sentence1"][:], d["sentence2"][:])), batch_size=64)
        out[split] = float(spearmanr(s, d["score"][:])[0])
    print(json.dumps(out), flush=True)

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=1); ap.add_argument("--rank", type=int, default=8)
    ap.add_argument("--lrs", default="5e-4,1e-3,2e-3"); ap.add_argument("--full-lrs", default="5e-5,1e-4")
    ap.add_argument("--test", action="store_true")
    ap.add_argument("--max-train", type=int); ap.add_argument("--one", nargs=2)
    args = ap.parse_args()
    if args.one: return one(args.one[0], float(args.one[1]), args)
    header(" ".join(sys.argv[1:]))
    base = [sys.executable, sys.argv[0], "--epochs", str(args.epochs), "--rank", str(args.rank)]
    base += (["--max-train", str(args.max_train)] if args.max_train else []) + (["--test"] if args.test else [])
    rows = []
    runs = [("full", float(x)) for x in args.full_lrs.split(",")] + [("lora", float(x)) for x in args.lrs.split(",")]
    for kind, lr in runs:
        r = subprocess.run(base + ["--one", kind, str(lr)], capture_output=True, text=True)
        if r.returncode: sys.exit(r.stderr[-3000:])
        rows.append(json.loads(r.stdout.strip().splitlines()[-1]))
        print(f"# {kind} lr {lr:g}: dev {rows[-1]['validation']:.4f}, {rows[-1]['seconds']:.0f} s", flush=True)
    best = {k: max((r for r in rows if r["kind"] == k), key=lambda r: r["validation"]) for k in ("full", "lora")}
    cols = "| contender | lr | trainable params | train s | samples/s | dev Spearman |" + (" test Spearman |" if args.test else "")
    print(cols + "\n" + "|---" * (cols.count("|") - 1) + "|")
    for r in rows:
        chosen = r is best[r["kind"]]
        name = ("full fine-tuning" if r["kind"] == "full" else f"LoRA r={args.rank}") + (" (chosen on dev)" if chosen else "")
        test = f" {r['test']:.4f} |" if args.test and chosen else (" |" if args.test else "")
        print(f"| {name} | {r['lr']:g} | {r['trainable']:,} | {r['seconds']:.0f} | {r['samples_per_s']:.1f} | {r['validation']:.4f} |{test}")

if __name__ == "__main__":
    main()
