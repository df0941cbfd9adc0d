__version__ = "0.1.0"
"""xenc: teach, train, evaluate and publish cross-encoders.

What a user types first is here (`from xenc import CrossEncoder, TrainConfig, train`); each
chapter's module has the rest. The layout: the core chapters' modules at the top, then
`training/` (loop, checks, runs, scale, trainer), `card/` (repair, read, write, build, templates),
`tools/` (recipe, reproduce: the `xenc` command) and `apps/` (rerank, distill).
"""
from .data import load_benchmark, load_pairs
from .model import CrossEncoder, offline_base_model
from . import unpadded  # gives CrossEncoder its fast forward (chapter 01b)
from .predict import fit_linear_head  # (defining it attaches CrossEncoder.predict and .rank)
from . import ship  # CrossEncoder: the ONNX backend, export_onnx, push_to_hub (chapter 10)
from . import lora  # CrossEncoder: add_lora, merge_lora, adapters in its saves (chapter 10b)
from .losses import (BinaryCrossEntropyLoss, CrossEntropyLoss, MSELoss,
                     MultipleNegativesRankingLoss)
from .training.trainer import TrainConfig, TrainResult, train
from .evaluation import ClassificationEvaluator, CorrelationEvaluator, RerankingEvaluator
from .card.read import parse_card, seed_card
from .card.write import render_card
from .card.build import model_card, save_with_card
from .tools.recipe import build_recipe
from .tools.reproduce import report, run_recipe

__all__ = ["load_benchmark", "load_pairs", "CrossEncoder", "offline_base_model", "fit_linear_head",
           "BinaryCrossEntropyLoss", "CrossEntropyLoss", "MSELoss", "MultipleNegativesRankingLoss",
           "train", "TrainConfig", "TrainResult", "ClassificationEvaluator", "CorrelationEvaluator",
           "RerankingEvaluator", "parse_card", "seed_card", "render_card", "model_card",
           "save_with_card", "build_recipe", "run_recipe", "report"]
