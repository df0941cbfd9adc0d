"""Does torch.compile (inductor's CPU backend) pay for itself in xenc's bf16 training? Compile time counted.

    python benchmarks/compile.py [--steps 10 60] [--pairs 1920]
        xenc bf16 on the long pairs of `train.py speed --data long` (16 SciFact pairs of 128 tokens a step, BCE, lr 5e-5,
        seed 42), three ways, each alone in a child process with an empty inductor cache (a cold compile, as a user's
        first run has): eager; `torch.compile` of each encoder layer (`unpadded_layer`, as it is); and the layer's
        elementwise tails compiled (residual + dropout + layer norm, and GELU), its random masks drawn outside. Each runs
        --steps twice (a short and a long run): the difference gives the ms of a steady step, the rest is the compile
        and start-up time. Run it alone on the machine.
"""
import argparse, json, os, subprocess, sys, tempfile
import torch
import torch.nn.functional as F
os.environ.setdefault("HF_HUB_OFFLINE", "1")
from machine import header, quiet
import train as T

MODES = {"eager": "xenc's forward as it is", "layer": "torch.compile of each encoder layer",
         "tails": "the layers' elementwise tails compiled"}

def add_norm(h, x, keep, scale, ln):
    "LayerNorm(x + dropout(h)) with the mask `keep` given: the layer's residual tail, without randomness."
    return F.layer_norm(torch.addcmul(x, h, keep, value=scale), (x.shape[-1],), ln.weight, ln.bias, ln.eps)

def tails_layer(add_norm, gelu):
    "`unpadded_layer` with its two residual tails and its GELU as the given functions (compiled or not)."
    import xenc.unpadded as U
    from xenc.kernels import attention, keep_mask, keep_scale
    def tail(dense, inp, x, ln, p):
        h = dense(inp)
        m = keep_mask(h.shape, p, h.dtype, h.device) if p else torch.ones_like(h)
        return add_norm(h, x, m, keep_scale(p) if p else 1.0, ln)
    def layer(layer, x, idx, shape, keep, n_heads, cls_rows=None):
        (B, T_), H = shape, x.shape[-1]
        sa, so, ff = layer.attention.self, layer.attention.output, layer.output
        w = torch.cat([sa.query.weight, sa.key.weight, sa.value.weight])
        qkv = F.linear(x, w, torch.cat([sa.query.bias, sa.key.bias, sa.value.bias]))
        q, k, v = U.pad(qkv, idx, shape).view(B, T_, 3, n_heads, H // n_heads).permute(2, 0, 3, 1, 4)
        q, x = (q, x) if cls_rows is None else (q[:, :, :1], x[cls_rows])
        ctx = attention(q, k, v, keep, sa.dropout.p if sa.training else 0.0).transpose(1, 2).reshape(B, -1, H)
        ctx = ctx[:, 0] if cls_rows is not None else U.unpad(ctx, idx)
        h = tail(so.dense, ctx, x, so.LayerNorm, so.dropout.p if so.training else 0.0)
        up = gelu(layer.intermediate.dense(h))
        return tail(ff.dense, up, h, ff.LayerNorm, ff.dropout.p if ff.training else 0.0)
    return layer

def child(mode, steps, pairs):
    quiet()
    import xenc.unpadded as U
    data, max_length = T.speed_data("long", pairs)
    if mode == "layer": U.unpadded_layer = torch.compile(U.unpadded_layer, dynamic=False)
    if mode == "tails": U.unpadded_layer = tails_layer(torch.compile(add_norm, dynamic=False),
                                                       torch.compile(F.gelu, dynamic=False))
    with tempfile.TemporaryDirectory() as out:
        print(json.dumps({"seconds": T.run_xenc(steps, 16, out, data, "batch_sampler", True, max_length)}))

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, nargs=2, default=[10, 60]); ap.add_argument("--pairs", type=int, default=1920)
    ap.add_argument("--child", default=None)
    a = ap.parse_args()
    if a.child: return child(a.child, a.steps[0], a.pairs)
    if not 0 < a.steps[0] < a.steps[1]: sys.exit("--steps takes a short and a longer run, e.g. --steps 10 60")
    header(f"--steps {a.steps[0]} {a.steps[1]} --pairs {a.pairs}")
    secs = {}
    for mode in MODES:
        for n in a.steps:
            with tempfile.TemporaryDirectory() as cache:
                env = {**os.environ, "TORCHINDUCTOR_CACHE_DIR": cache}
                r = subprocess.run([sys.executable, __file__, "--child", mode, "--steps", str(n), "0", "--pairs",
                                    str(a.pairs)], capture_output=True, text=True, env=env)
            if r.returncode: sys.exit(f"{mode} failed:\n{r.stderr[-3000:]}")
            secs[mode, n] = json.loads(r.stdout.strip().splitlines()[-1])["seconds"]
            print(f"# {mode}, {n} steps: {secs[mode, n]:.1f} s", flush=True)
    (s, l), base = a.steps, None
    print("\n| xenc bf16, long pairs | ms a step (steady) | x eager | compile and start-up s | "
          f"{s} steps s | {l} steps s |\n|---|---|---|---|---|---|")
    for mode, what in MODES.items():
        step = 1000 * (secs[mode, l] - secs[mode, s]) / (l - s)
        base = base or step
        start = secs[mode, s] - s * step / 1000
        print(f"| {what} | {step:.0f} | {base / step:.2f} | {start:.1f} | {secs[mode, s]:.1f} | {secs[mode, l]:.1f} |")

if __name__ == "__main__": main()
