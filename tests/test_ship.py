"xenc.ship: the ONNX file scores as the torch model does; backend='onnx' loads it; what cannot work is refused by name."
import warnings

import numpy as np, pytest, torch
from xenc import TrainConfig, train
from xenc.data import load_benchmark
from xenc.model import CrossEncoder, tiny_cross_encoder
from xenc.training.loop import TrainConfigError

pytest.importorskip("onnxruntime")

@pytest.fixture(scope="module")
def pairs():
    ds = load_benchmark("stsb", "test").select(range(40))
    long = ("what does a long document say? " * 3, "a document that runs on and on " * 40)
    return list(zip(ds["sentence1"][:], ds["sentence2"][:])) + [long]

@pytest.fixture(scope="module", params=[1, 3])
def exported(request, tmp_path_factory):
    "A tiny random model (1 or 3 labels) saved with its ONNX file."
    folder = tmp_path_factory.mktemp(f"ship-{request.param}")
    m = tiny_cross_encoder(folder, num_labels=request.param, seed=request.param)
    m.max_length = 64
    m.export_onnx(folder)
    return m, folder

def test_onnx_predict_equals_torch(exported, pairs):
    m, folder = exported
    o = CrossEncoder(folder, backend="onnx", max_length=64)
    for kw in ({}, {"batch_size": 1}, {"windows": "max", "window_overlap": 8}, {"apply_softmax": True}):
        np.testing.assert_allclose(o.predict(pairs, **kw), m.predict(pairs, **kw), atol=1e-4, rtol=0)
    assert "backend=onnx" in repr(o)
    with torch.no_grad(): o.model.classifier.weight.add_(1.0)   # predict runs the file, not these
    np.testing.assert_allclose(o.predict(pairs), m.predict(pairs), atol=1e-4, rtol=0)

def test_export_never_overwrites_and_leaves_no_temporary_file(exported):
    m, folder = exported
    before = (folder / "onnx" / "model.onnx").stat().st_mtime_ns
    with pytest.raises(FileExistsError, match="overwrite=True"): m.export_onnx(folder)
    assert (folder / "onnx" / "model.onnx").stat().st_mtime_ns == before
    m.export_onnx(folder, overwrite=True)
    assert sorted(p.name for p in (folder / "onnx").iterdir()) == ["model.onnx"]

def test_missing_default_file_is_exported_in_memory_with_a_warning(tmp_path, pairs):
    m = tiny_cross_encoder(tmp_path)
    with pytest.warns(UserWarning, match="export_onnx"): o = CrossEncoder(tmp_path, backend="onnx")
    np.testing.assert_allclose(o.predict(pairs[:8]), m.predict(pairs[:8]), atol=1e-4, rtol=0)
    assert not (tmp_path / "onnx").exists()    # nothing written into the user's folder

def test_missing_named_file_is_an_error(exported):
    _, folder = exported
    with pytest.raises(FileNotFoundError, match="model_q.onnx"):
        CrossEncoder(folder, backend="onnx", model_kwargs={"file_name": "onnx/model_q.onnx"})

@pytest.mark.parametrize("kw, match", [
    ({"backend": "tensorrt"}, "backend must be one of"),
    ({"backend": "onnx", "precision": "bf16"}, "leave precision at 'fp32'"),
    ({"backend": "onnx", "model_kwargs": {"torch_dtype": "bf16"}}, r"\['torch_dtype'\] mean nothing"),
    ({"model_kwargs": {"file_name": "onnx/model.onnx"}}, "only backend='onnx' takes one"),
    ({"backend": "onnx", "model_kwargs": "onnx/model.onnx"}, "model_kwargs is a dict"),
])
def test_backend_settings_that_cannot_work_are_refused(exported, kw, match):
    _, folder = exported
    with pytest.raises((ValueError, TypeError), match=match): CrossEncoder(folder, **kw)

def test_an_onnx_model_is_not_trained(exported, tmp_path):
    _, folder = exported
    o = CrossEncoder(folder, backend="onnx")
    data = load_benchmark("stsb", "train").select(range(8))
    with pytest.raises(TrainConfigError, match="backend='torch' to train"):
        train(o, TrainConfig(output_dir=str(tmp_path / "run"), max_steps=1), data)

def test_predict_in_training_mode_has_no_dropout_and_keeps_the_mode(pairs):
    m = tiny_cross_encoder(dropout=0.5)
    ref = m.predict(pairs)
    m.train()
    np.testing.assert_allclose(m.predict(pairs), ref, atol=1e-6, rtol=0)
    assert m.model.training

# int8

def test_int8_linear_is_what_onnx_runtime_computes(tmp_path):
    "The simulation against the runtime: one linear layer, dynamic int8 (uint8 inputs, int8 weights per channel)."
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from xenc.ship import int8_linear
    torch.manual_seed(0)
    lin = torch.nn.Linear(48, 24).eval()
    x = torch.randn(40, 48) * torch.linspace(0.1, 8, 48)     # channels of very different ranges
    torch.onnx.export(lin, (x,), tmp_path / "f.onnx", input_names=["x"], output_names=["y"], dynamo=False)
    quantize_dynamic(str(tmp_path / "f.onnx"), str(tmp_path / "q.onnx"), per_channel=True, weight_type=QuantType.QInt8)
    y = ort.InferenceSession(str(tmp_path / "q.onnx"), providers=["CPUExecutionProvider"]).run(None, {"x": x.numpy()})[0]
    sim = int8_linear(x, lin.weight.detach(), lin.bias.detach()).numpy()
    exact = lin(x).detach().numpy()
    assert np.abs(y - exact).max() > 1e-3                    # int8 does change the result...
    np.testing.assert_allclose(y, sim, atol=1e-4, rtol=0)   # ...and the simulation says by how much

@pytest.fixture(scope="module")
def calibration():
    ds = load_benchmark("stsb", "train").select(range(64))
    return list(zip(ds["sentence1"][:], ds["sentence2"][:]))

def test_smoothed_copy_scores_as_the_model(calibration, pairs):
    from xenc.ship import SmoothedLinear, encoder_linears, input_ranges, smoothed_copy
    m = tiny_cross_encoder(seed=3)
    s = smoothed_copy(m, input_ranges(m, calibration), alpha=0.75)
    assert all(isinstance(l, SmoothedLinear) for l in encoder_linears(s).values())
    assert not any(isinstance(l, SmoothedLinear) for l in encoder_linears(m).values())
    np.testing.assert_allclose(s.predict(pairs), m.predict(pairs), atol=1e-5, rtol=0)

def test_int8_file_computes_what_the_simulation_does(tmp_path, calibration, pairs):
    "Every encoder layer int8 (keep_fp32=[]): the file's logits are the simulated ones; the head stays fp32."
    import onnx
    from torch import nn
    from xenc.ship import encoder_linears, input_ranges, quantize_onnx, simulated_int8, smoothed_copy
    m = tiny_cross_encoder(tmp_path, seed=4)
    path = quantize_onnx(m, tmp_path, calibration, keep_fp32=[])
    g = onnx.load(str(path)).graph
    assert [n.op_type for n in g.node].count("MatMulInteger") == len(encoder_linears(m)) == 12
    head = [n.op_type for n in g.node if "/pooler/" in n.name or "/classifier/" in n.name]
    assert "MatMul" in head and "MatMulInteger" not in head
    q = CrossEncoder(tmp_path, backend="onnx", model_kwargs={"file_name": "onnx/model_qint8.onnx"})
    s = smoothed_copy(m, input_ranges(m, calibration), alpha=0.75)
    with simulated_int8(s, list(encoder_linears(s))):
        sim = s.predict(pairs, batch_size=8, activation_fn=nn.Identity())
    ident = q.predict(pairs, batch_size=8, activation_fn=nn.Identity())
    np.testing.assert_allclose(ident, sim, atol=1e-4, rtol=0)
    kept = quantize_onnx(m, tmp_path, calibration, file_name="onnx/k.onnx", keep_fp32=["bert.encoder.layer.1.output.dense"])
    assert [n.op_type for n in onnx.load(str(kept)).graph.node].count("MatMulInteger") == 11
    with pytest.raises(FileExistsError, match="overwrite=True"): quantize_onnx(m, tmp_path, calibration, keep_fp32=[])

def test_int8_plan_keeps_nothing_for_a_loose_target_and_the_worst_first(calibration):
    from xenc.ship import int8_errors, int8_plan
    m = tiny_cross_encoder(seed=5)
    assert int8_plan(m, calibration, target=-1.0) == []
    errors = int8_errors(m, calibration)
    worst = sorted(errors, key=errors.get, reverse=True)
    assert int8_plan(m, calibration, target=2.0) == worst      # out of reach: every layer fp32
    plan = int8_plan(m, calibration, target=0.99)
    assert plan == worst[:len(plan)]

def test_int8_precision_names_the_onnx_path():
    with pytest.raises(ValueError, match="quantize_onnx"): tiny_cross_encoder().precision = "int8"
