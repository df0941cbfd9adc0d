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
