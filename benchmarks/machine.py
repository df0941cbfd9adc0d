"What both benchmarks report about the machine and the process (imported by predict.py and train.py)."
import os

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
