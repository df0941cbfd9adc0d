"""The `#| gpu` cells run, tried small on this CPU: nbval and nbdev_test skip them, so nothing else would notice one broken.

A notebook's configuration cell reads `XENC_GPU_CELLS_ON_CPU`: set, its gpu cells shrink to a few pairs, offline, on the CPU
(in the seed tutorials: `GPU_RUN`, merged into the gpu cell's `build_recipe` call). For each notebook in NOTEBOOKS this runs,
in one IPython shell (execnb's CaptureShell, as tests/colab.py does) inside an empty folder, the code cells in order: every
cell but those the entry's `skip` pattern matches (the default run's training and the cells that read its result), and every
gpu cell; then checks that each gpu cell ran without an error and printed what the entry expects.

To cover another notebook, give its gpu cells a CPU switch read from XENC_GPU_CELLS_ON_CPU and add one entry to
NOTEBOOKS; test_every_gpu_cell_is_covered fails until then.
"""
import importlib.util, json, re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

@dataclass
class GpuCells:
    path: str                # the notebook, from the repository root
    skip: str = r"$^"        # a regex: the code cells it matches are not run (none by default)
    prints: str | None = None  # what each gpu cell's output must contain (None: only that it runs)

# a seed tutorial's default run trains in `run_recipe(recipe, ...)` and its later cells read `rep`; its gpu cell prints `report`
SLICE = r"run_recipe\(recipe|\brep\b"
NOTEBOOKS = [GpuCells(f"nbs/tutorials/{name}.ipynb", SLICE, prints="hardware:")
             for name in ("seed_000_pair_classification", "seed_001_binary_classification", "seed_002_nli",
                          "seed_003_stsb", "seed_004_chinese_continued")]
NOTEBOOKS += [
    # the chapter's precision check: GPU_DEVICE and GPU_PAIRS, on the whole chapter's state
    GpuCells("nbs/01a_predict.ipynb", prints="Spearman with fp32"),
    # TINY: a tiny slice throughout; skipped: the check that the default slice beats BM25
    GpuCells("nbs/tutorials/rerank_scifact.ipynb", r'>= table\.loc\["BM25"', prints="ndcg@10"),
]

# the directives as nbval reads them (nbs/conftest.py): `#| gpu` -> {'gpu': ''}, `#| eval: false` -> {'eval:': 'false'}
_spec = importlib.util.spec_from_file_location("nbs_conftest", ROOT / "nbs" / "conftest.py")
_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_conftest)
directives = _conftest.cell_directives

def cells_to_run(nb:dict, entry:GpuCells) -> list[tuple[bool, str]]:
    "(is a gpu cell, source) for the code cells run: the gpu cells, and the others but `skip`'s, `#| slow` and `#| eval: false`."
    out = []
    for c in nb["cells"]:
        src = "".join(c["source"])
        if c["cell_type"] != "code" or src.startswith("#| default_exp"): continue
        d = directives(src)
        if "gpu" in d: out.append((True, src))
        elif not ("slow" in d or d.get("eval:", "").lower() == "false" or re.search(entry.skip, src)):
            out.append((False, src))
    return out

def test_every_gpu_cell_is_covered():
    "Each notebook that has a `#| gpu` cell has an entry here."
    have = {str(p.relative_to(ROOT)) for p in sorted((ROOT / "nbs").rglob("*.ipynb"))
            if any(c["cell_type"] == "code" and "gpu" in directives("".join(c["source"]))
                   for c in json.loads(p.read_text(encoding="utf-8"))["cells"])}
    assert have == {e.path for e in NOTEBOOKS}, have ^ {e.path for e in NOTEBOOKS}

def test_the_seed_tutorials_skip_their_training_only():
    "The pattern leaves each tutorial's card, recipe and gpu cells in, and takes its default run's training out."
    for e in NOTEBOOKS[:5]:
        run = cells_to_run(json.loads((ROOT / e.path).read_text(encoding="utf-8")), e)
        srcs = "\n".join(s for _, s in run)
        assert [g for g, _ in run].count(True) == 1, e.path
        assert "parse_card(CARD" in srcs and "recipe = build_recipe(" in srcs and "GPU_RUN" in srcs, e.path
        assert "rep = run_recipe(recipe" not in srcs and "rep.reproduced" not in srcs, e.path

@pytest.mark.parametrize("entry", NOTEBOOKS, ids=[Path(e.path).stem for e in NOTEBOOKS])
def test_gpu_cells_run_on_the_cpu(entry, data_dir, tmp_path, monkeypatch):
    from execnb.shell import CaptureShell
    nb = json.loads((ROOT / entry.path).read_text(encoding="utf-8"))
    monkeypatch.setenv("XENC_GPU_CELLS_ON_CPU", "1")
    monkeypatch.setenv("XENC_DATA_DIR", str(data_dir))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.chdir(tmp_path)          # what the cells write (runs/...) lands here
    sh, ran = CaptureShell(), 0
    for is_gpu, src in cells_to_run(nb, entry):
        outputs = sh.run(src)
        text = "".join("".join(o.get("text", "")) for o in outputs if o.get("output_type") == "stream")
        assert sh.exc is None, f"{entry.path}: {type(sh.exc).__name__}: {sh.exc}\nin the cell\n{src}\n{text[-2000:]}"
        if is_gpu:
            ran += 1
            assert entry.prints is None or entry.prints in text, f"{entry.path}: the gpu cell printed\n{text[-2000:]}"
    assert ran, f"{entry.path} has no gpu cell"
