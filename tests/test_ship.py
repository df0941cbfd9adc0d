"xenc.ship: the ONNX file scores as the torch model does; backend='onnx' loads it; what cannot work is refused by name."
from pathlib import Path

import numpy as np, pytest, torch
from xenc import TrainConfig, train
from xenc.data import load_benchmark
from xenc.model import CrossEncoder, tiny_cross_encoder
from xenc.training.loop import TrainConfigError

pytest.importorskip("onnxruntime")

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

# the hub

class FakeHub:
    "A stand-in for huggingface_hub.HfApi: what a push would send, kept in memory."
    repos, calls = {}, []
    def __init__(self, token=None): self.token = token
    def create_repo(self, repo_id, private=None, exist_ok=False):
        repo_id = repo_id if "/" in repo_id else f"me/{repo_id}"
        if repo_id in self.repos and not exist_ok: raise OSError(f"409 Conflict: {repo_id} exists")
        self.repos.setdefault(repo_id, {"main": {}})
        self.calls.append(("create_repo", repo_id, private, self.token))
        return type("RepoUrl", (), {"repo_id": repo_id})()
    def create_branch(self, repo_id, branch, exist_ok=False):
        self.repos[repo_id].setdefault(branch, dict(self.repos[repo_id]["main"]))
    def file_exists(self, repo_id, name, revision=None): return name in self.repos[repo_id][revision or "main"]
    def upload_folder(self, repo_id, folder_path, commit_message, revision, create_pr):
        files = {str(p.relative_to(folder_path)): p.read_bytes() for p in Path(folder_path).rglob("*") if p.is_file()}
        self.calls.append(("upload_folder", repo_id, commit_message, revision, create_pr))
        if not create_pr: self.repos[repo_id][revision or "main"].update(files)
        url = f"https://huggingface.co/{repo_id}/commit/{len(self.calls)}"
        return type("CommitInfo", (), {"commit_url": url, "pr_url": url.replace("commit", "discussions") if create_pr else None})()

@pytest.fixture
def hub(monkeypatch):
    import huggingface_hub
    FakeHub.repos, FakeHub.calls = {}, []
    monkeypatch.setattr(huggingface_hub, "HfApi", FakeHub)
    return FakeHub

def pulled(hub, repo_id, folder, revision="main"):
    for name, data in hub.repos[repo_id][revision].items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True); (folder / name).write_bytes(data)
    return folder

def test_push_to_hub_uploads_a_model_that_loads_with_a_card_the_hub_reads(hub, tmp_path, pairs):
    from huggingface_hub import ModelCard as HubCard
    m = tiny_cross_encoder(tmp_path / "m", num_labels=3, seed=6)
    url = m.push_to_hub("tiny", token="secret", private=True)
    assert url.startswith("https://huggingface.co/me/tiny/commit/")
    assert hub.calls[0] == ("create_repo", "me/tiny", True, "secret")
    got = pulled(hub, "me/tiny", tmp_path / "pulled")
    np.testing.assert_allclose(CrossEncoder(got).predict(pairs), m.predict(pairs), atol=1e-6, rtol=0)
    card = HubCard((got / "README.md").read_text(encoding="utf-8"))
    assert card.data.library_name == "sentence-transformers" and "CrossEncoder('me/tiny')" in card.text
    with pytest.raises(RuntimeError, match="exist_ok=True"): m.push_to_hub("me/tiny")

def test_push_to_hub_keeps_the_repositorys_card_and_branches_and_prs(hub, tmp_path):
    m = tiny_cross_encoder(tmp_path / "m", seed=7)
    m.push_to_hub("me/t")
    hub.repos["me/t"]["main"]["README.md"] = b"the owner's card"
    m.push_to_hub("me/t", exist_ok=True)
    assert hub.repos["me/t"]["main"]["README.md"] == b"the owner's card"        # kept
    m.push_to_hub("me/t", exist_ok=True, replace_model_card=True, commit_message="new card")
    assert hub.repos["me/t"]["main"]["README.md"].startswith(b"---") and hub.calls[-1][2] == "new card"
    m.push_to_hub("me/t", exist_ok=True, card="# mine", revision="dev")
    assert hub.repos["me/t"]["dev"]["README.md"] == b"# mine" and hub.repos["me/t"]["main"]["README.md"] != b"# mine"
    url = m.push_to_hub("me/t", create_pr=True)                                  # a PR: the repository may exist
    assert hub.calls[-1][-1] is True and "/discussions/" in url

def test_push_to_hub_uploads_a_folder_as_it_is_and_names_bad_input(hub, tmp_path):
    m = tiny_cross_encoder(tmp_path / "m", seed=8)
    m.export_onnx(tmp_path / "m")
    m.push_to_hub("me/onnx", local_model_path=tmp_path / "m")
    assert "onnx/model.onnx" in hub.repos["me/onnx"]["main"] and "README.md" not in hub.repos["me/onnx"]["main"]
    for bad, what in ((["me/x"], "'user/name'"), ("a/b/c", "'user/name'"), ("has space", "'user/name'")):
        with pytest.raises(ValueError, match=what): m.push_to_hub(bad)
    with pytest.raises(FileNotFoundError, match="holds no saved model"): m.push_to_hub("me/y", local_model_path=tmp_path)
