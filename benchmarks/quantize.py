"""int8 schemes side by side: how well each keeps fp32's ranking on STS-B test, and how fast it predicts.

    python benchmarks/quantize.py [--model DIR] [--rounds 3] [--calibration 256]

Without --model: the offline base model with a 1-label head fitted on 1,000 STS-B train pairs (as benchmarks/predict.py).
With --model: a saved 1-label cross-encoder (for instance one fine-tuned on STS-B). Calibration pairs are drawn from STS-B
train (never test). Each scheme is one xenc.int8.quantize_onnx call, loaded with CrossEncoder(backend="onnx"):

  naive            every encoder linear layer int8, no smoothing
  naive + plan     no smoothing, int8_plan's most sensitive layers kept in fp32 (target 0.999 on the calibration pairs)
  smoothed a       smoothing with alpha a (0.5, 0.75), every encoder linear layer int8
  smoothed + FFN   alpha 0.75, the feed-forward output layers (the widest inputs) kept in fp32
  smoothed + plan  alpha 0.75 and int8_plan: quantize_onnx's default

Prints, per scheme: Spearman with the fp32 scores, the largest score difference, Spearman with the human scores,
pairs/s (batch 32, median of the rounds, contenders interleaved) and its ratio to torch fp32 measured in the same run,
and the layers kept in fp32. Run it with the machine to itself.
"""
import argparse, statistics, sys, tempfile, time
from pathlib import Path

import numpy as np, torch
from machine import header, quiet

SCHEMES = {"naive": dict(alpha=None, keep_fp32=[]), "naive + plan": dict(alpha=None),
           "smoothed 0.5": dict(alpha=0.5, keep_fp32=[]), "smoothed 0.75": dict(alpha=0.75, keep_fp32=[]),
           "smoothed + FFN": dict(alpha=0.75, keep_fp32=[f"bert.encoder.layer.{i}.output.dense" for i in range(6)]),
           "smoothed + plan": dict(alpha=0.75)}

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model"); ap.add_argument("--rounds", type=int, default=3); ap.add_argument("--calibration", type=int, default=256)
    args = ap.parse_args()
    quiet()
    header(" ".join(sys.argv[1:]))
    from scipy.stats import spearmanr
    from xenc.data import load_benchmark
    from xenc.model import CrossEncoder, offline_base_model
    from xenc.predict import fit_linear_head
    from xenc.int8 import input_ranges, int8_plan, quantize_onnx, smoothed_copy
    test, train_ds = load_benchmark("stsb", "test"), load_benchmark("stsb", "train")
    pairs = list(zip(test["sentence1"][:], test["sentence2"][:]))
    fit = train_ds.select(range(1000))
    cal = fit.shuffle(seed=0).select(range(args.calibration))
    cal = list(zip(cal["sentence1"][:], cal["sentence2"][:]))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "model"
        if args.model: model = CrossEncoder(args.model, device="cpu")
        else: model = fit_linear_head(CrossEncoder(offline_base_model(), device="cpu"), list(zip(fit["sentence1"][:], fit["sentence2"][:])), fit["score"][:])
        model.save_pretrained(folder)
        model.export_onnx(folder)
        fns, kept, made = {"torch fp32": model, "ONNX fp32": CrossEncoder(folder, backend="onnx")}, {}, {}
        for name, kw in SCHEMES.items():
            f = f"onnx/{name.replace(' ', '_').replace('+', 'and')}.onnx"
            t = time.perf_counter(); quantize_onnx(model, folder, cal, file_name=f, **kw); made[name] = time.perf_counter() - t
            if "keep_fp32" not in kw:   # the plan quantize_onnx made, for the table
                src = smoothed_copy(model, input_ranges(model, cal), kw["alpha"]) if kw["alpha"] else model
                kept[name] = int8_plan(src, cal)
            else: kept[name] = kw["keep_fp32"]
            fns[name] = CrossEncoder(folder, backend="onnx", model_kwargs={"file_name": f})
        scores = {n: m.predict(pairs) for n, m in fns.items()}                 # also the warm-up
        times = {n: [] for n in fns}
        names = list(fns)
        for r in range(args.rounds):
            for n in names[r % len(names):] + names[:r % len(names)]:
                t = time.perf_counter(); fns[n].predict(pairs); times[n].append(time.perf_counter() - t)
    ref, speed = scores["torch fp32"], {n: len(pairs) / statistics.median(t) for n, t in times.items()}
    what = args.model or "base model + fitted head"
    print(f"\nSTS-B test, {len(pairs)} pairs, batch 32, {args.rounds} interleaved rounds (median); "
          f"calibration {len(cal)} STS-B train pairs; model: {what}\n")
    print("| contender | Spearman with fp32 | max abs score diff | Spearman with labels | pairs/s | x torch fp32 | quantize s | kept in fp32 |")
    print("|---|---|---|---|---|---|---|---|")
    for n in fns:
        short = [k.removeprefix("bert.encoder.") for k in kept.get(n, [])]
        print(f"| {n} | {spearmanr(scores[n], ref)[0]:.5f} | {np.abs(scores[n] - ref).max():.4f} | "
              f"{spearmanr(scores[n], test['score'][:])[0]:.4f} | {speed[n]:.0f} | {speed[n] / speed['torch fp32']:.2f} | "
              f"{made.get(n, 0):.1f} | {', '.join(short) if n in kept else ''} |")

if __name__ == "__main__": main()
