__version__ = "0.1.0"
"""xenc: teach, train, evaluate and publish cross-encoders. What a user types first is here:
`from xenc import CrossEncoder, TrainConfig, train, load_benchmark`; each chapter's module has the rest."""
from .data import load_benchmark, load_pairs
from .model import CrossEncoder, offline_base_model
from .predict import fit_linear_head            # (defining it attaches CrossEncoder.predict and .rank)
from .losses import BinaryCrossEntropyLoss, CrossEntropyLoss, MSELoss, MultipleNegativesRankingLoss
from . import train                             # the module, callable: train(model, config, data) runs xenc.train.train
from .train import TrainConfig, TrainResult
from .evaluation import ClassificationEvaluator, CorrelationEvaluator, RerankingEvaluator
from .card import parse_card, seed_card
from .card_write import render_card
from .card_build import model_card, save_with_card
from .recipe import build_recipe
from .reproduce import report, run_recipe

__all__ = ["load_benchmark", "load_pairs", "CrossEncoder", "offline_base_model", "fit_linear_head", "BinaryCrossEntropyLoss",
           "CrossEntropyLoss", "MSELoss", "MultipleNegativesRankingLoss", "train", "TrainConfig", "TrainResult", "ClassificationEvaluator",
           "CorrelationEvaluator", "RerankingEvaluator", "parse_card", "seed_card", "render_card", "model_card", "save_with_card",
           "build_recipe", "run_recipe", "report"]
