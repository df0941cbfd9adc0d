"What both benchmarks report about the machine and the process (imported by predict.py and train.py)."
import os, time

import numpy as np
import torch

def peak_rss_mb() -> float:
    "This process's peak resident memory in MB: VmHWM, not ru_maxrss (Linux carries ru_maxrss over exec from a large parent)."
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")) / 1024

def cpu_line() -> str:
    "The CPU and its core count, as xenc's model cards name them (e.g. 'AMD EPYC ... (2 cores)')."
    from xenc.card_build import hardware
    return hardware()["CPU Model"]

def cpu_flags() -> str:
    "The kernel's CPU flags ('' where /proc/cpuinfo is absent)."
    return open("/proc/cpuinfo").read() if os.path.exists("/proc/cpuinfo") else ""

def matmul_gflops(dtype=torch.float32, n=40):
    "GFLOP/s of a plain `[1024, 384] @ [384, 1536]` matmul (the base model's feed-forward shape): the ceiling both benchmarks compare to."
    a, w = torch.randn(1024, 384, dtype=dtype), torch.randn(384, 1536, dtype=dtype)
    for _ in range(5): a @ w
    t = time.perf_counter()
    for _ in range(n): a @ w
    return 2 * 1024 * 384 * 1536 * n / (time.perf_counter() - t) / 1e9

def model_gflop(pairs, folder):
    "FLOPs of one full forward pass over all pairs (linear layers and attention), unpadded."
    from transformers import AutoConfig, AutoTokenizer
    c, tok = AutoConfig.from_pretrained(folder), AutoTokenizer.from_pretrained(folder)
    T = np.array([len(x) for x in tok([a for a, _ in pairs], [b for _, b in pairs], truncation=True)["input_ids"]], dtype=np.float64)
    H, I, L = c.hidden_size, c.intermediate_size, c.num_hidden_layers
    per_layer = 2 * T * (4 * H * H + 2 * H * I) + 2 * 2 * T * T * H
    return float((L * per_layer).sum()) / 1e9
