"xenc.int8: the simulation is what ONNX Runtime computes, smoothing keeps the scores, the file and the plan do what they say."
import numpy as np, pytest, torch
from xenc.data import load_benchmark
from xenc.model import CrossEncoder, tiny_cross_encoder

pytest.importorskip("onnxruntime")

def test_int8_linear_is_what_onnx_runtime_computes(tmp_path):
    "The simulation against the runtime: one linear layer, dynamic int8 (uint8 inputs, int8 weights per channel)."
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from xenc.int8 import int8_linear
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
    from xenc.int8 import SmoothedLinear, encoder_linears, input_ranges, smoothed_copy
    m = tiny_cross_encoder(seed=3)
    s = smoothed_copy(m, input_ranges(m, calibration), alpha=0.75)
    assert all(isinstance(l, SmoothedLinear) for l in encoder_linears(s).values())
    assert not any(isinstance(l, SmoothedLinear) for l in encoder_linears(m).values())
    np.testing.assert_allclose(s.predict(pairs), m.predict(pairs), atol=1e-5, rtol=0)

def test_int8_file_computes_what_the_simulation_does(tmp_path, calibration, pairs):
    "Every encoder layer int8 (keep_fp32=[]): the file's logits are the simulated ones; the head stays fp32."
    import onnx
    from torch import nn
    from xenc.int8 import encoder_linears, input_ranges, quantize_onnx, simulated_int8, smoothed_copy
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
    from xenc.int8 import int8_errors, int8_plan
    m = tiny_cross_encoder(seed=5)
    assert int8_plan(m, calibration, target=-1.0) == []
    errors = int8_errors(m, calibration)
    worst = sorted(errors, key=errors.get, reverse=True)
    assert int8_plan(m, calibration, target=2.0) == worst      # out of reach: every layer fp32
    plan = int8_plan(m, calibration, target=0.99)
    assert plan == worst[:len(plan)]

def test_int8_precision_names_the_onnx_path():
    with pytest.raises(ValueError, match="quantize_onnx"): tiny_cross_encoder().precision = "int8"
