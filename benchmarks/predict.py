"""Prediction speed: xenc.model.CrossEncoder against sentence_transformers.CrossEncoder, interleaved in one run.

    python benchmarks/predict.py [--rounds 5] [--batch-size 32]

Scores STS-B test (1,379 pairs) with the offline base model (all-MiniLM-L6-v2) and a 1-label head, both
libraries loading the same folder written by xenc. The head is fitted by ridge regression on 1,000
STS-B train pairs (xenc.predict.fit_linear_head) so that scores spread like a reranker's and the
fidelity of the fast paths means something; speed does not depend on the head's values.
Prints pairs/s (median over the rounds), the ratio to the reference, peak memory (each contender
alone in a child process), achieved GFLOP/s against a plain fp32 torch.matmul measured in this run,
and the Spearman correlation of each precision's scores with fp32. The ONNX files are xenc.ship's
fp32 export and xenc.int8's quantize_onnx file (smoothed, calibrated on 256 other STS-B train pairs).
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time, warnings
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
import numpy as np, torch
from machine import cpu_flags, cpu_line, matmul_gflops, model_gflop, peak_rss_mb

CONTENDERS = ["sentence-transformers", "xenc fp32", "xenc bf16", "xenc onnx", "xenc onnx int8"]
FILES = {"xenc onnx": "onnx/model.onnx", "xenc onnx int8": "onnx/model_qint8.onnx"}

def stsb_test_pairs():
    from xenc.data import load_benchmark
    ds = load_benchmark("stsb", "test")
    return list(zip(ds["sentence1"][:], ds["sentence2"][:]))

def build_model(folder: Path):
    "The base model with a fitted 1-label head, saved by xenc with its ONNX file and int8 file."
    from xenc.data import load_benchmark
    from xenc.model import CrossEncoder, offline_base_model
    from xenc.predict import fit_linear_head
    from xenc.int8 import quantize_onnx
    torch.manual_seed(0)
    tr = load_benchmark("stsb", "train").select(range(1000))
    m = fit_linear_head(CrossEncoder(offline_base_model(), device="cpu"), list(zip(tr["sentence1"][:], tr["sentence2"][:])), tr["score"][:])
    m.save_pretrained(folder)
    m.export_onnx(folder)
    cal = tr.shuffle(seed=0).select(range(256))          # calibration: training pairs, as in the shipping chapter
    quantize_onnx(m, folder, list(zip(cal["sentence1"][:], cal["sentence2"][:])))

def load(name, folder):
    if name == "sentence-transformers":
        from sentence_transformers import CrossEncoder as ST
        st = ST(str(folder), device="cpu")
        return lambda pairs, bs: st.predict(pairs, batch_size=bs, show_progress_bar=False)
    from xenc.model import CrossEncoder
    if name in FILES: m = CrossEncoder(folder, backend="onnx", model_kwargs={"file_name": FILES[name]})
    else: m = CrossEncoder(folder, device="cpu", precision=name.split()[1])
    return lambda pairs, bs: m.predict(pairs, batch_size=bs, show_progress_bar=False)

def child(name, folder, bs):
    "Peak resident memory of one contender alone: load, warm up, predict all pairs once."
    pairs = stsb_test_pairs()
    f = load(name, folder); f(pairs[:64], bs); f(pairs, bs)
    print(json.dumps({"maxrss_mb": peak_rss_mb()}))

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--folder", help=argparse.SUPPRESS)
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    from transformers.utils import logging as hf_logging
    hf_logging.disable_progress_bar(); hf_logging.set_verbosity_error()
    if args.child: return child(args.child, Path(args.folder), args.batch_size)

    import sentence_transformers, transformers, xenc
    from scipy.stats import spearmanr
    start = time.time()
    flags = cpu_flags()
    print(f"# predict benchmark, {time.strftime('%Y-%m-%d %H:%M')}")
    print(f"# {cpu_line()}, torch threads {torch.get_num_threads()}, "
          f"avx512f {'avx512f' in flags}, avx512_bf16 {'avx512_bf16' in flags}, amx {'amx_bf16' in flags}")
    print(f"# torch {torch.__version__}, transformers {transformers.__version__}, sentence-transformers "
          f"{sentence_transformers.__version__}, xenc {xenc.__version__}")
    print(f"# command: python benchmarks/predict.py --rounds {args.rounds} --batch-size {args.batch_size}")
    pairs, bs = stsb_test_pairs(), args.batch_size
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "model"
        build_model(folder)
        fns = {n: load(n, folder) for n in CONTENDERS}
        scores = {n: np.asarray(f(pairs, bs)) for n, f in fns.items()}   # also the warm-up
        times = {n: [] for n in CONTENDERS}
        for r in range(args.rounds):                                      # interleaved: every round runs each once
            for n in CONTENDERS[r % len(CONTENDERS):] + CONTENDERS[:r % len(CONTENDERS)]:
                t = time.perf_counter(); fns[n](pairs, bs); times[n].append(time.perf_counter() - t)
        mm, mm_bf16 = matmul_gflops(), matmul_gflops(torch.bfloat16)
        gflop = model_gflop(pairs, folder)
        mem = {}
        for n in CONTENDERS:
            out = subprocess.run([sys.executable, __file__, "--child", n, "--folder", str(folder), "--batch-size", str(bs)],
                                 capture_output=True, text=True)
            mem[n] = json.loads(out.stdout.strip().splitlines()[-1])["maxrss_mb"] if out.returncode == 0 else float("nan")
    ref_t = statistics.median(times["sentence-transformers"])
    fp32 = scores["xenc fp32"]
    print(f"\nSTS-B test, {len(pairs)} pairs, batch {bs}, {args.rounds} interleaved rounds (median); "
          f"plain fp32 matmul {mm:.0f} GFLOP/s, bf16 matmul {mm_bf16:.0f} GFLOP/s; one full forward = {gflop:.0f} GFLOP\n")
    print("| contender | pairs/s | x reference | peak RSS MB | GFLOP/s (full-forward FLOPs) | % of fp32 matmul | max abs diff vs reference | Spearman vs xenc fp32 |")
    print("|---|---|---|---|---|---|---|---|")
    for n in CONTENDERS:
        t = statistics.median(times[n])
        print(f"| {n} | {len(pairs) / t:.1f} | {ref_t / t:.2f} | {mem[n]:.0f} | {gflop / t:.0f} | {100 * gflop / t / mm:.0f}% | "
              f"{np.abs(scores[n] - scores['sentence-transformers']).max():.1e} | {spearmanr(scores[n], fp32)[0]:.5f} |")
    print(f"\ntotal {time.time() - start:.0f} s")

if __name__ == "__main__": main()
