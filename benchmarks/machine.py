"What the benchmarks report about the machine and the process (imported by predict.py, train.py and rerank.py)."
import os, sys, time, warnings
from pathlib import Path

import numpy as np
import torch

def peak_rss_mb() -> float:
    "This process's peak resident memory in MB: VmHWM, not ru_maxrss (Linux carries ru_maxrss over exec from a large parent)."
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")) / 1024

def cpu_line() -> str:
    "The CPU and its core count, as xenc's model cards name them (e.g. 'AMD EPYC ... (2 cores)')."
    from xenc.card.build import hardware
    return hardware()["CPU Model"]

def quiet():
    "No warnings, no transformers logs or progress bars: the benchmark's output is its table."
    warnings.filterwarnings("ignore")
    from transformers.utils import logging as hf_logging
    hf_logging.set_verbosity_error(); hf_logging.disable_progress_bar()

def header(cmd):
    "The run's first lines: date, CPU, library versions, and the command that reproduces it."
    import transformers, sentence_transformers, xenc
    print(f"# {time.strftime('%Y-%m-%d %H:%M')}; {cpu_line()}; torch {torch.__version__}, transformers "
          f"{transformers.__version__}, sentence-transformers {sentence_transformers.__version__}, xenc {xenc.__version__}")
    print(f"# command: python benchmarks/{Path(sys.argv[0]).name} {cmd}", flush=True)

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

def model_gflop(pairs, folder, max_length=None):
    "FLOPs of one full forward pass over all pairs (linear layers and attention), unpadded, each cut at `max_length` tokens."
    from transformers import AutoConfig, AutoTokenizer
    c, tok = AutoConfig.from_pretrained(folder), AutoTokenizer.from_pretrained(folder)
    enc = tok([a for a, _ in pairs], [b for _, b in pairs], truncation=True, max_length=max_length)
    T = np.array([len(x) for x in enc["input_ids"]], dtype=np.float64)
    H, I, L = c.hidden_size, c.intermediate_size, c.num_hidden_layers
    per_layer = 2 * T * (4 * H * H + 2 * H * I) + 2 * 2 * T * T * H
    return float((L * per_layer).sum()) / 1e9
