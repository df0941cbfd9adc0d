"""A pip user's install: `pip install .` into an empty virtual environment (torch first) gives the quickstart's names, the seed cards
and STS-B as package data, and `xenc --version`; nothing of the development tools or the reference library comes with it."""
import os, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def test_pip_install_into_an_empty_venv(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py, env = venv / "bin" / "python", {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    for args in (["torch==2.13.0"], [str(ROOT)]):                 # torch first: pip then never resolves a CUDA build
        r = subprocess.run([str(py), "-m", "pip", "install", "-q", *args], capture_output=True, text=True, env=env, timeout=1200)
        assert r.returncode == 0, r.stderr[-3000:]
    check = """
import importlib.util, sys, xenc
from xenc import (CrossEncoder, TrainConfig, train, load_benchmark, load_pairs, CorrelationEvaluator, ClassificationEvaluator,
                  RerankingEvaluator, render_card, parse_card, seed_card, build_recipe, run_recipe)
assert callable(train) and train.__module__ == "xenc.training.trainer"
assert len(load_benchmark("stsb", "test")) == 1379 and parse_card(seed_card("003").read_text(encoding="utf-8")).base_model == "distilbert/distilroberta-base"
print(xenc.__file__)
print(*[m for m in ("sentence_transformers", "nbdev", "nbval", "seaborn", "matplotlib", "jupyterlab") if importlib.util.find_spec(m)])
"""
    r = subprocess.run([str(py), "-c", check], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    where, installed = r.stdout.strip().splitlines()
    assert str(venv) in where                                        # the installed copy, not the clone
    assert installed.split() == ["seaborn", "matplotlib"]            # plots (seaborn is used by the evaluators); no dev tools, no reference
    r = subprocess.run([str(venv / "bin" / "xenc"), "--version"], capture_output=True, text=True, env=env)
    assert r.returncode == 0 and r.stdout.strip().startswith("xenc ")
