"nbval and nbdev_test skip the same cells: those flagged with a `tst_flags` flag or `#| eval: false`."
import json, shutil, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

def _nb(*sources):
    cells = [{"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {}, "outputs": [], "source": s}
             for i, s in enumerate(sources)]
    return {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
            "nbformat": 4, "nbformat_minor": 5}

@pytest.fixture
def project(tmp_path):
    "A copy of the project's settings and nbval conftest around one notebook whose flagged cells fail."
    shutil.copy(ROOT / "settings.ini", tmp_path)
    (tmp_path / "nbs").mkdir()
    shutil.copy(ROOT / "nbs" / "conftest.py", tmp_path / "nbs")
    nb = _nb("x = 1", "#| slow\nraise RuntimeError('slow cell ran')", "#| gpu\nraise RuntimeError('gpu cell ran')",
             "#| eval: false\nraise RuntimeError('eval false ran')", "assert x == 1")
    (tmp_path / "nbs" / "flags.ipynb").write_text(json.dumps(nb))
    return tmp_path

def _nbval(project, *extra):
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--nbval", "--nbval-current-env",
                           "nbs/flags.ipynb", *extra], cwd=project, capture_output=True, text=True)

def _nbdev(project, *extra):
    return subprocess.run([str(BIN / "nbdev_test"), "--path", "nbs/flags.ipynb", *extra], cwd=project, capture_output=True, text=True)

def test_flagged_cells_are_skipped_by_both(project):
    r = _nbval(project)
    assert r.returncode == 0 and "2 passed, 3 skipped" in r.stdout, r.stdout + r.stderr
    r = _nbdev(project)
    assert r.returncode == 0, r.stdout + r.stderr

def test_flags_switch_cells_on_in_both(project):
    r = _nbval(project, "--flags", "slow")
    assert r.returncode != 0 and "slow cell ran" in r.stdout and "gpu cell ran" not in r.stdout, r.stdout
    r = _nbdev(project, "--flags", "slow")
    assert r.returncode != 0 and "slow cell ran" in r.stderr + r.stdout
