"""Peak memory of `predict` on many pairs with the tiny model: it streams, so memory follows the batch and the sort window.

    python benchmarks/predict_memory.py [N_PAIRS]     (default 1,000,000)

Prints the peak resident memory of the process (ru_maxrss) after loading xenc and the tiny model, and after
predicting N pairs; the pairs themselves are a list of N tuples of shared strings (about 64 bytes each).
"""
import resource, sys, time

def peak_mib(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

def main(n=1_000_000):
    import torch
    from xenc.model import tiny_cross_encoder
    import xenc.predict  # noqa: F401  (attaches predict)
    torch.set_num_threads(2)
    model = tiny_cross_encoder()
    texts = [("A man is playing a flute.", "A man plays the flute."), ("A dog runs in the snow.", "How old is the universe?")]
    pairs = [texts[i % 2] for i in range(n)]
    before, t = peak_mib(), time.perf_counter()
    s = model.predict(pairs, batch_size=256, show_progress_bar=False)
    secs = time.perf_counter() - t
    assert len(s) == n and abs(float(s[2]) - float(s[0])) < 1e-6
    print(f"pairs {n:,} | peak RSS before predict {before:.0f} MiB, after {peak_mib():.0f} MiB | {n / secs:,.0f} pairs/s")
    return peak_mib()

if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
