"Every xenc loss equals sentence_transformers.cross_encoder.losses on the same model, inputs and labels (fp32, CPU)."
import pytest, torch
from types import SimpleNamespace
from xenc import listwise, losses
X = SimpleNamespace(**vars(losses), **{k: v for k, v in vars(listwise).items() if k not in vars(losses)})   # every xenc loss by name
from xenc.model import tiny_cross_encoder

ATOL = 1e-6
Q = ["What is a cross-encoder?", "Who wrote Hamlet?", "How old is the universe?", "Why is the sky blue?"]
P = ["A model that reads both texts together.", "Shakespeare wrote it.", "About 13.8 billion years.", "Rayleigh scattering."]
N1 = ["A kind of bridge.", "Cervantes wrote Don Quixote.", "The moon is 384,000 km away.", "Grass is green."]
N2 = ["Bi-encoders embed texts alone.", "Hamlet is a prince.", "Stars are born in nebulae.", "The sea is salty."]

@pytest.fixture(scope="module", params=[1, 3])
def models(request, tmp_path_factory):
    "The same tiny random BERT (1 or 3 labels) in xenc and in sentence-transformers, in eval mode."
    from sentence_transformers import CrossEncoder as ST
    path = tmp_path_factory.mktemp(f"tiny-{request.param}")
    ours = tiny_cross_encoder(path, num_labels=request.param, seed=request.param).eval()
    return ours, ST(str(path), device="cpu").eval(), request.param

def both(models, name, inputs, labels, seed=0, **kw):
    from sentence_transformers.cross_encoder import losses as S
    ours, ref, _ = models
    values = []
    for mod, model in ((X, ours), (S, ref)):
        torch.manual_seed(seed)
        values.append(getattr(mod, name)(model, **kw)(inputs, labels))
    return values

def check(models, name, inputs, labels, **kw):
    a, b = both(models, name, inputs, labels, **kw)
    assert torch.allclose(a.detach(), b.detach(), atol=ATOL, rtol=0), (name, kw, a.item(), b.item())

POINTWISE = [("BinaryCrossEntropyLoss", {}), ("BinaryCrossEntropyLoss", {"pos_weight": torch.tensor(3.0)}), ("MSELoss", {})]

@pytest.mark.parametrize("name,kw", POINTWISE)
def test_pointwise(models, name, kw):
    if models[2] != 1: pytest.skip("1-label losses")
    check(models, name, [Q, P], torch.tensor([1.0, 0.25, 0.0, 0.8]), **kw)

def test_cross_entropy(models):
    if models[2] != 3: pytest.skip("class-label loss")
    check(models, "CrossEntropyLoss", [Q, P], torch.tensor([0, 2, 1, 2]))

def test_margin_mse(models):
    if models[2] != 1: pytest.skip("1-label loss")
    check(models, "MarginMSELoss", [Q, P, N1, N2], torch.tensor([[3.0, 1.0, 0.5], [2.0, 2.0, 0.0], [1.0, 0.0, -1.0], [0.5, 0.4, 0.3]]))
    check(models, "MarginMSELoss", [Q, P, N1], torch.tensor([1.0, 2.0, 0.5, -0.5]))

@pytest.mark.parametrize("kw", [{}, {"num_negatives": None}, {"num_negatives": 2, "scale": 20.0}])
def test_multiple_negatives_ranking(models, kw):
    if models[2] != 1: pytest.skip("1-label loss")
    check(models, "MultipleNegativesRankingLoss", [Q, P], None, **kw)
    check(models, "MultipleNegativesRankingLoss", [Q, P, N1], None, **kw)
    check(models, "CachedMultipleNegativesRankingLoss", [Q, P, N1], None, mini_batch_size=5, **kw)

DOCS = [[P[0], N1[0], N2[0]], [P[1], N1[1]], [P[2], N1[2], N2[2], N1[3]]]
GRADES = [torch.tensor([2.0, 0.0, 1.0]), torch.tensor([1.0, 0.0]), torch.tensor([3.0, 0.0, 2.0, 1.0])]
SCHEMES = ["NoWeightingScheme", "NDCGLoss1Scheme", "NDCGLoss2Scheme", "LambdaRankScheme", "NDCGLoss2PPScheme"]

@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("kw", [{}, {"k": 2, "sigma": 2.0}, {"reduction_log": "natural", "mini_batch_size": 4}])
def test_lambda_loss(models, scheme, kw):
    if models[2] != 1: pytest.skip("1-label loss")
    from sentence_transformers.cross_encoder import losses as S
    ours, ref, _ = models
    a = X.LambdaLoss(ours, weighting_scheme=getattr(X, scheme)(), **kw)([Q[:3], DOCS], GRADES)
    b = S.LambdaLoss(ref, weighting_scheme=getattr(S, scheme)(), **kw)([Q[:3], DOCS], GRADES)
    assert torch.allclose(a.detach(), b.detach(), atol=ATOL, rtol=0), (scheme, kw, a.item(), b.item())

@pytest.mark.parametrize("name,kw", [("RankNetLoss", {}), ("RankNetLoss", {"k": 2}), ("ListNetLoss", {}), ("ListMLELoss", {}),
                                     ("ListMLELoss", {"respect_input_order": False}), ("PListMLELoss", {}),
                                     ("PListMLELoss", {"respect_input_order": False, "mini_batch_size": 3}),
                                     ("ADRMSELoss", {}), ("ADRMSELoss", {"alpha": 2.5, "mini_batch_size": 3})])
def test_listwise(models, name, kw):
    if models[2] != 1: pytest.skip("1-label loss")
    check(models, name, [Q[:3], DOCS], GRADES, **kw)

def test_adrmse_with_tied_grades_and_its_gradients(models):
    "Tied grades share their average rank in both; the gradients equal the reference's too."
    ours, ref, n = models
    if n != 1: pytest.skip("1-label loss")
    from sentence_transformers.cross_encoder import losses as S
    tied = [torch.tensor([1.0, 1.0, 0.0]), torch.tensor([0.0, 0.0]), torch.tensor([2.0, 0.5, 2.0, 0.5])]
    check(models, "ADRMSELoss", [Q[:3], DOCS], tied)
    ours.zero_grad(); ref.zero_grad()
    X.ADRMSELoss(ours)([Q[:3], DOCS], GRADES).backward()
    S.ADRMSELoss(ref)([Q[:3], DOCS], GRADES).backward()
    g = lambda m: torch.cat([p.grad.view(-1) for p in m.parameters() if p.grad is not None])
    assert g(ours).abs().sum() > 0 and torch.allclose(g(ours), g(ref), atol=1e-6, rtol=0)
    ours.zero_grad(); ref.zero_grad()

def test_cached_gradients_equal_plain(models):
    "GradCache: the same loss and parameter gradients as the plain loss, holding one mini-batch of activations at a time."
    ours, _, n = models
    if n != 1: pytest.skip("1-label loss")
    grads, values = [], []
    for loss in (X.MultipleNegativesRankingLoss(ours, num_negatives=3), X.CachedMultipleNegativesRankingLoss(ours, num_negatives=3, mini_batch_size=2)):
        ours.zero_grad(); torch.manual_seed(0)
        value = loss([Q, P, N1], None); value.backward()
        values.append(value.detach())
        grads.append(torch.cat([p.grad.view(-1) for p in ours.parameters() if p.grad is not None]))
    ours.zero_grad()
    assert torch.allclose(values[0], values[1], atol=1e-6, rtol=0)
    assert grads[0].abs().sum() > 0 and torch.allclose(grads[0], grads[1], atol=1e-6, rtol=0)

def test_bce_gradients_match_reference(models):
    ours, ref, n = models
    if n != 1: pytest.skip("1-label loss")
    from sentence_transformers.cross_encoder import losses as S
    labels = torch.tensor([1.0, 0.0, 1.0, 0.0])
    X.BinaryCrossEntropyLoss(ours)([Q, P], labels).backward()
    S.BinaryCrossEntropyLoss(ref)([Q, P], labels).backward()
    g = lambda m: torch.cat([p.grad.view(-1) for p in m.parameters() if p.grad is not None])
    assert torch.allclose(g(ours), g(ref), atol=1e-6, rtol=0)
    ours.zero_grad(); ref.zero_grad()

def test_rng_state_round_trips_for_dropout_and_checkpoints(tmp_path):
    "rng_state() replays torch's draws (dropout); rng_state(all=True) also Python's and numpy's, and survives torch.save."
    import random, numpy as np
    draw = lambda: (random.random(), np.random.rand(), torch.rand(1).item())
    s, first = X.rng_state(), draw()
    X.set_rng_state(s)
    assert draw()[2] == first[2]
    torch.save(X.rng_state(all=True), tmp_path / "rng.pt")
    first = draw()
    X.set_rng_state(torch.load(tmp_path / "rng.pt", weights_only=True))
    assert draw() == first


@pytest.fixture(scope="module")
def tiny():
    "xenc's tiny random BERT with 1 and with 3 labels (no reference model needed)."
    return tuple(tiny_cross_encoder(num_labels=n, seed=0).eval() for n in (1, 3))

A, B = ["q1", "q2"], ["d1", "d2"]

def test_bad_input_is_named(tiny):
    "A batch or model that does not fit fails at once, and the message says what to change (the chapters show three)."
    m1, m3 = tiny
    bad = {"2 pairs but 3 labels": lambda: X.BinaryCrossEntropyLoss(m1)([A, B], torch.tensor([1.0, 0.0, 1.0])),
           "different lengths [2, 1]": lambda: X.BinaryCrossEntropyLoss(m1)([A, B[:1]], torch.tensor([1.0, 0.0])),
           "divide by 5": lambda: X.BinaryCrossEntropyLoss(m1)([A, B], [0.2, 4.6]),
           "float labels": lambda: X.CrossEntropyLoss(m3)([A, B], torch.tensor([0.5, 1.0])),
           "label 3 (row 1) is out of range for a 3-label model": lambda: X.CrossEntropyLoss(m3)([A, B], torch.tensor([0, 3])),
           "needs a model with 2 or more labels": lambda: X.CrossEntropyLoss(m1),
           "needs a 1-label model, but this model has 3 labels": lambda: X.BinaryCrossEntropyLoss(m3),
           "labels of shape (1, 3) for 2 queries": lambda: X.MarginMSELoss(m1)([A, B, B], torch.tensor([[1.0, 2.0, 3.0]])),
           "query 1 has an empty document list": lambda: X.LambdaLoss(m1)([A, [["d1", "d2"], []]], [[1, 0], []]),
           "documents per query [2] but labels per query [1]": lambda: X.ListNetLoss(m1)([["q1"], [["d1", "d2"]]], [[1]]),
           "list of labels per query": lambda: X.ListNetLoss(m1)([["q1"], [["d1"]]], torch.tensor([1.0]))}
    for message, call in bad.items():
        with pytest.raises(X.LossInputError) as e: call()
        assert message in str(e.value), (message, str(e.value))

def test_what_the_card_records(tiny):
    "Each loss's settings and citation, as the model card lists them."
    m1, _ = tiny
    assert X.BinaryCrossEntropyLoss(m1).get_config_dict() == {"activation_fn": "torch.nn.modules.linear.Identity", "pos_weight": None}
    assert X.LambdaLoss(m1).get_config_dict()["weighting_scheme"] == "xenc.listwise.NDCGLoss2PPScheme"
    assert "wang2018lambdaloss" in X.LambdaLoss.citation

def test_bce_pos_weight_by_hand():
    "pos_weight 2 doubles the positive term: logits (2, 0, -1), targets (1, 0.5, 0); at z = 0, y = 0.5 costs 1.5 log 2."
    z, y = torch.tensor([2.0, 0.0, -1.0]), torch.tensor([1.0, 0.5, 0.0])
    got = X.bce_with_logits(z, y, pos_weight=torch.tensor(2.0))
    assert abs(got.item() - (2 * 0.12693 + 1.5 * 0.69315 + 0.31326) / 3) < 1e-5

def test_no_in_batch_negatives(models):
    "num_negatives=0: each query's positive against its own hard negatives only (the reference fails on 0)."
    import torch.nn.functional as F
    ours, _, n = models
    if n != 1: pytest.skip("1-label loss")
    loss = X.MultipleNegativesRankingLoss(ours, num_negatives=0)
    s = torch.stack([loss.logits(Q, P).view(-1), loss.logits(Q, N1).view(-1)], 1)
    expected = F.cross_entropy(torch.sigmoid(s) * 10, torch.zeros(len(Q), dtype=torch.long))
    assert torch.allclose(loss([Q, P, N1], None).detach(), expected.detach(), atol=ATOL, rtol=0)
    with pytest.raises(ValueError, match="positive alone"): loss([Q, P], None)
    with pytest.raises(ValueError, match="num_negatives=-1"): X.MultipleNegativesRankingLoss(ours, num_negatives=-1)
