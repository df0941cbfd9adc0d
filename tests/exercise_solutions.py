"""Answers to the exercises at the end of each chapter, and typical wrong answers.

Kept out of the notebooks and the package on purpose: a student sees the checks (xenc.exercises), not these.
tests/test_exercises.py shows every check passes on the answer and fails on each wrong answer.
"""
import math
import numpy as np
import torch
import torch.nn.functional as F

# ---- 00 data
def padding_fraction(batches, lengths):
    real = sum(lengths[i] for b in batches for i in b)
    padded = sum(max(lengths[i] for i in b) * len(b) for b in batches)
    return 1 - real / padded

def length_grouped_batches(lengths, batch_size):
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]

# ---- 01 model
def scores_from_logits(logits):
    return torch.sigmoid(logits[:, 0]) if logits.shape[1] == 1 else torch.softmax(logits, dim=1)

def rank(scores, top_k):
    hits = sorted(({"corpus_id": i, "score": s} for i, s in enumerate(scores)), key=lambda h: -h["score"])
    return hits if top_k is None else hits[:top_k]

# ---- 02 losses
def bce_with_logits(z, y):
    return (y * F.softplus(-z) + (1 - y) * F.softplus(z)).mean()

def margin_mse(pos, negs, target_margins):
    return ((pos[:, None] - negs - target_margins) ** 2).mean()

def listnet(logits, labels):
    p = torch.softmax(labels, dim=1)
    logq = torch.log_softmax(logits, dim=1)
    return -(p * logq.masked_fill(p == 0, 0)).sum(1).mean()

# ---- 03 training
def linear_warmup(step, warmup, total):
    if step < warmup: return step / warmup
    return max(0.0, (total - step) / max(1, total - warmup))

def clip_grad_norm(grads, max_norm):
    total = math.sqrt(sum(float((g ** 2).sum()) for g in grads))
    scale = min(1.0, max_norm / (total + 1e-6))
    return [g * scale for g in grads], total

def optimizer_steps(n_pairs, batch_size, grad_accum, epochs):
    per_epoch = max(1, math.ceil(n_pairs / batch_size) // grad_accum)
    return math.ceil(epochs * per_epoch)

def best_step(log, metric, greater_is_better):
    best = None
    for r in log:
        if metric not in r: continue
        better = best is None or (r[metric] > best[metric] if greater_is_better else r[metric] < best[metric])
        if better: best = r
    return best["step"]

# ---- 04 evaluation
def _ranks(a):
    a = np.asarray(a, dtype=float); order = np.argsort(a, kind="stable"); r = np.empty(len(a))
    i = 0
    while i < len(a):
        j = i
        while j + 1 < len(a) and a[order[j + 1]] == a[order[i]]: j += 1
        r[order[i:j + 1]] = (i + j) / 2 + 1; i = j + 1
    return r

def spearman(x, y):
    rx, ry = _ranks(x), _ranks(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    return float((rx * ry).sum() / math.sqrt((rx ** 2).sum() * (ry ** 2).sum()))

def average_precision(labels, scores):
    ranked = np.asarray(labels)[np.argsort(scores)[::-1]]
    hits, total = 0, 0.0
    for i, rel in enumerate(ranked, 1):
        if rel: hits += 1; total += hits / i
    return total / max(1, hits)

def mrr_at_k(is_relevant, scores, k):
    for r, i in enumerate(np.argsort(scores)[::-1][:k], 1):
        if is_relevant[i]: return 1 / r
    return 0.0

# ---- 05 model cards
def parse_table(md):
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in md.strip().splitlines()]
    head, body = rows[0], [r for r in rows[2:]]
    return [dict(zip(head, r)) for r in body]

def fix_mojibake(text):
    import re
    def fix(m):
        run = m.group(0)
        try: return run.encode("cp1252").decode("utf-8")
        except UnicodeError: return run
    return re.sub(r"[^\x00-\x7f]+", fix, text)

def markdown_table(rows, header):
    line = lambda cells: "| " + " | ".join(str(c) for c in cells) + " |"
    return "\n".join([line(header), "|" + "|".join("---" for _ in header) + "|", *map(line, rows)])

def duration(seconds):
    return f"{seconds / 60:.1f} minutes" if seconds >= 60 else f"{seconds:.1f} seconds"

# ---- 09 reranking
def reciprocal_rank_fusion(runs, k=60):
    fused = {}
    for ranking in runs:
        for rank, d in enumerate(ranking, start=1): fused[d] = fused.get(d, 0.0) + 1 / (k + rank)
    return fused

def hard_negatives(ranking, relevant, n):
    return [d for d in ranking if d not in relevant][:n]

# ---- wrong answers: the mistakes each check is there to catch
def _random_batches(lengths, batch_size):
    idx = np.random.default_rng(0).permutation(len(lengths)).tolist()
    return [idx[i:i + batch_size] for i in range(0, len(idx), batch_size)]

def _spearman_no_ties(x, y):
    return float(np.corrcoef(np.argsort(np.argsort(x)), np.argsort(np.argsort(y)))[0, 1])

WRONG = {
    "check_padding_fraction": [lambda b, l: 1 - sum(l) / (max(l) * len(l)),                 # ignores the batches
                               lambda b, l: sum(max(l[i] for i in x) * len(x) for x in b) / sum(l) - 1],   # padding over real
    "check_length_grouped_batches": [_random_batches,
                                     lambda l, bs: [sorted(range(len(l)), key=lambda i: l[i])],          # one big batch
                                     lambda l, bs: [list(range(i, min(i + bs, len(l)))) for i in range(0, len(l) - 1, bs)][:-1] or [[0]]],  # drops the tail
    "check_scores_from_logits": [lambda z: torch.sigmoid(z),                                  # keeps [N, 1]
                                 lambda z: torch.sigmoid(z).squeeze(1) if z.shape[1] == 1 else torch.sigmoid(z),   # sigmoid for classes
                                 lambda z: torch.exp(z[:, 0]) / (1 + torch.exp(z[:, 0])) if z.shape[1] == 1 else torch.exp(z) / torch.exp(z).sum(1, keepdim=True)],  # overflows
    "check_rank": [lambda s, k: [{"corpus_id": i, "score": s[i]} for i in np.argsort(s)[:k]],     # worst first
                   lambda s, k: [{"corpus_id": r, "score": x} for r, x in enumerate(sorted(s, reverse=True)[:k])]],  # loses the ids
    "check_bce_with_logits": [lambda z, y: -(y * torch.log(torch.sigmoid(z)) + (1 - y) * torch.log(1 - torch.sigmoid(z))).mean(),
                              lambda z, y: (y * F.softplus(-z) + (1 - y) * F.softplus(z)).sum()],    # sum, not mean
    "check_margin_mse": [lambda p, n, t: ((p - n.sum(1) - t.sum(1)) ** 2).mean(),
                         lambda p, n, t: ((n - p[:, None] - t) ** 2).mean()],                         # margin the wrong way round
    "check_listnet": [lambda z, y: ((z.softmax(1) - y.softmax(1)) ** 2).sum(1).mean(),
                      lambda z, y: -(torch.softmax(y, 0) * torch.log_softmax(z, 0)).sum(0).mean()],   # softmax over queries
    "check_linear_warmup": [lambda s, w, t: s / w if s < w else 1 - s / t,
                            lambda s, w, t: min(1.0, s / w) * (1 - s / t)],                           # divides by zero at w=0
    "check_clip_grad_norm": [lambda g, m: ([x * min(1.0, m / (x.norm().item() + 1e-6)) for x in g], torch.stack([x.norm() for x in g]).norm()),
                             lambda g, m: ([x * (m / (math.sqrt(sum(float((y ** 2).sum()) for y in g)) + 1e-6)) for x in g],
                                           math.sqrt(sum(float((y ** 2).sum()) for y in g)))],       # scales small gradients up
    "check_spearman": [_spearman_no_ties, lambda x, y: float(np.corrcoef(x, y)[0, 1])],              # Pearson
    "check_average_precision": [lambda y, s: float(np.mean(np.asarray(y)[np.argsort(s)[::-1][: len(y) // 2]])),
                                lambda y, s: average_precision(y, -np.asarray(s))],                   # ranks worst first
    "check_mrr_at_k": [lambda rel, s, k: 1 / (1 + int(np.argmax(np.asarray(rel)[np.argsort(s)[::-1]]))),
                       lambda rel, s, k: mrr_at_k(rel, s, k + 1)],                                     # off by one
    "check_parse_table": [lambda md: [dict(zip(*[[c.strip() for c in l.strip().strip("|").split("|")] for l in md.splitlines()][::2]))],
                          lambda md: [dict(zip([c for c in md.splitlines()[0].split("|")], l.split("|"))) for l in md.splitlines()[2:]]],  # no strip
    "check_fix_mojibake": [lambda t: t, lambda t: t.encode("latin-1", "ignore").decode("utf-8", "ignore")],
    "check_optimizer_steps": [lambda n, bs, ga, ep: math.ceil(ep * math.ceil(n / bs)),            # ignores accumulation
                              lambda n, bs, ga, ep: math.ceil(ep * math.ceil(n / (bs * ga)))],    # counts an unfinished group
    "check_best_step": [lambda log, m, g: [r["step"] for r in log if m in r and r[m] == (max if g else min)(x[m] for x in log if m in x)][-1],   # last on ties
                        lambda log, m, g: max((r for r in log if m in r), key=lambda r: r[m])["step"]],   # a loss is not maximised
    "check_markdown_table": [lambda rows, h: "\n".join("| " + " | ".join(map(str, r)) + " |" for r in [h, *rows]),   # no separator
                             lambda rows, h: "\n".join([" | ".join(map(str, h)), "---", *(" | ".join(map(str, r)) for r in rows)])],
    "check_duration": [lambda s: f"{s:.1f} seconds", lambda s: f"{s / 60:.1f} minutes" if s > 60 else f"{s:.1f} seconds"],  # 60 s
    "check_reciprocal_rank_fusion": [lambda runs, k=60: {d: sum(1 / (k + r.index(d)) for r in runs if d in r) for r0 in runs for d in r0},   # rank from 0
                                     lambda runs, k=60: {d: max(1 / (k + r.index(d) + 1) for r in runs if d in r) for r0 in runs for d in r0}],  # max, not sum
    "check_hard_negatives": [lambda ranking, rel, n: ranking[1:n + 1],                               # assumes the positive is first
                             lambda ranking, rel, n: sorted(d for d in ranking if d not in rel)[:n]],  # loses the order
}

SOLUTIONS = {
    "check_padding_fraction": padding_fraction, "check_length_grouped_batches": length_grouped_batches,
    "check_scores_from_logits": scores_from_logits, "check_rank": rank,
    "check_bce_with_logits": bce_with_logits, "check_margin_mse": margin_mse, "check_listnet": listnet,
    "check_linear_warmup": linear_warmup, "check_clip_grad_norm": clip_grad_norm,
    "check_spearman": spearman, "check_average_precision": average_precision, "check_mrr_at_k": mrr_at_k,
    "check_optimizer_steps": optimizer_steps, "check_best_step": best_step,
    "check_parse_table": parse_table, "check_fix_mojibake": fix_mojibake,
    "check_markdown_table": markdown_table, "check_duration": duration,
    "check_reciprocal_rank_fusion": reciprocal_rank_fusion, "check_hard_negatives": hard_negatives,
}
