"""Dropout's cost on a CPU: torch's F.dropout, xenc.kernels.dropout, and F.dropout compiled by torch.compile (inductor).

    python benchmarks/dropout.py [--calls 20]
        On one hidden state [2048, 384] and one attention-probability tensor [16, 12, 128, 128] (16 pairs of 128 tokens,
        the base model's width and heads), fp32 and bf16: mean ms per call of each, and the compiled one's compile time
        (its first forward and backward, dynamic shapes), counted once. Run it alone on the machine.
"""
import argparse, os, time
import torch
import torch.nn.functional as F
os.environ.setdefault("HF_HUB_OFFLINE", "1")
from machine import header
from xenc.kernels import dropout

def mean_ms(f, n):
    for _ in range(2): f()
    t = time.perf_counter()
    for _ in range(n): f()
    return 1000 * (time.perf_counter() - t) / n

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0]); ap.add_argument("--calls", type=int, default=20)
    a = ap.parse_args()
    header(f"--calls {a.calls}")
    compiled = torch.compile(lambda x, p: F.dropout(x, p, True), dynamic=True)
    x = torch.randn(64, 384, requires_grad=True)
    t = time.perf_counter(); compiled(x, 0.1).sum().backward(); compile_s = time.perf_counter() - t
    print(f"\ntorch.compile (inductor, dynamic shapes) of F.dropout: {compile_s:.1f} s for its first forward and backward\n")
    print("| tensor | dtype | F.dropout ms | xenc dropout ms | compiled F.dropout ms | F.dropout / xenc |\n|---|---|---|---|---|---|")
    for name, shape in {"hidden [2048, 384]": (2048, 384), "attention [16, 12, 128, 128]": (16, 12, 128, 128)}.items():
        for dt in (torch.float32, torch.bfloat16):
            z = torch.randn(shape, dtype=dt)
            native, ours = mean_ms(lambda: F.dropout(z, 0.1, True), a.calls), mean_ms(lambda: dropout(z, 0.1), a.calls)
            comp = mean_ms(lambda: compiled(z, 0.1), a.calls)
            print(f"| {name} | {str(dt)[6:]} | {native:.2f} | {ours:.2f} | {comp:.2f} | {native / ours:.1f}x |")

if __name__ == "__main__": main()
