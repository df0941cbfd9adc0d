"""The package's shape: each fact has one owner, and every line fits a screen.

- a run's folder is named in one module (`checkpoint-`, `training_state.pt`, `xenc_run.json`);
- `CrossEncoder.forward` is defined once, and the module that trains is not the `train` function;
- the card layer does not import training;
- exported code: at most 100 characters a line (nbdev's own `__all__` lists aside), one statement a line.
"""
import ast, io, subprocess, sys, tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "xenc"
SOURCES = {p: p.read_text(encoding="utf-8") for p in sorted(PKG.rglob("*.py")) if p.name != "_modidx.py"}


def spelled(text: str) -> list[Path]:
    return [p.relative_to(ROOT) for p, s in SOURCES.items() if text in s]


@pytest.mark.parametrize("name", ["checkpoint-", "training_state.pt", "xenc_run.json"])
def test_run_folder_names_have_one_owner(name):
    assert spelled(name) == [Path("xenc/training/runs.py")], spelled(name)


def test_forward_defined_once():
    defs = [(p.name, n.lineno) for p, s in SOURCES.items() for n in ast.walk(ast.parse(s))
            if isinstance(n, ast.FunctionDef) and n.name == "forward"
            and any(isinstance(a.annotation, ast.Name) and a.annotation.id == "CrossEncoder" for a in n.args.args)]
    defs += [(p.name, n.lineno) for p, s in SOURCES.items() for n in ast.walk(ast.parse(s))
             if isinstance(n, ast.ClassDef) and n.name == "CrossEncoder"
             for m in n.body if isinstance(m, ast.FunctionDef) and m.name == "forward"]
    assert len(defs) == 1, defs


def test_train_is_the_function():
    import xenc, xenc.training.trainer
    assert xenc.train is xenc.training.trainer.train and callable(xenc.train)
    assert not spelled("_CallableModule")


def test_card_layer_does_not_import_training():
    for p, s in SOURCES.items():
        if p.parent.name == "card":
            mods = [n.module or "" for n in ast.walk(ast.parse(s)) if isinstance(n, ast.ImportFrom)]
            assert not [m for m in mods if "training" in m], (p, mods)


def _all_lines(s: str) -> set[int]:
    "Line numbers of nbdev's `__all__` lists (nbdev wraps them at 120 characters itself)."
    tree = ast.parse(s)
    return {i for n in tree.body if isinstance(n, ast.Assign) and any(getattr(t, "id", "") == "__all__" for t in n.targets)
            for i in range(n.lineno, n.end_lineno + 1)}


def test_line_shape():
    wide, joined = [], []
    for p, s in SOURCES.items():
        skip = _all_lines(s)
        wide += [f"{p.relative_to(ROOT)}:{i}" for i, l in enumerate(s.splitlines(), 1) if len(l) > 100 and i not in skip]
        joined += [f"{p.relative_to(ROOT)}:{t.start[0]}" for t in tokenize.generate_tokens(io.StringIO(s).readline)
                   if t.type == tokenize.OP and t.string == ";"]
    assert not wide, f"lines over 100 characters: {wide[:10]}"
    assert not joined, f"statements joined with ';': {joined[:10]}"


def test_notebooks_export_that_shape():
    "The notebooks are the source: their exported cells pass `tests/format_exports.py --check`."
    r = subprocess.run([sys.executable, str(ROOT / "tests" / "format_exports.py"), "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
