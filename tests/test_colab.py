"The Colab path: install cells from settings.ini, and each notebook's first cells run with /content faked and no data folder beside them."
import json, os, shutil, subprocess, sys
from pathlib import Path
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import colab

def test_install_cells_and_badges_follow_settings_ini():
    "Every notebook installs xenc from the repository and branch settings.ini names (`python tests/colab.py --fix` after changing them)."
    assert colab.sync(fix=False) == []
    s = colab.settings()
    for p in colab.notebooks():
        cells = json.loads(p.read_text(encoding="utf-8"))["cells"]
        assert colab.install_source(s) in [colab.src(c) for c in cells], f"{p.name} has no install cell"
        assert colab.badge_url(s, p) in "".join(colab.src(c) for c in cells if c["cell_type"] == "markdown"), f"{p.name} has no Colab badge"

NOTEBOOKS = [p for p in colab.notebooks() if len(colab.first_cells(json.loads(p.read_text(encoding="utf-8")))) > 1]

@pytest.mark.parametrize("nb", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_first_cells_reach_the_hub_branch_without_shared(tmp_path, nb):
    "Copied to a folder with no ../shared (as on Colab), offline: the install cell installs from settings.ini's repository, and the cells "
    "that read data run, or stop with the message that names the folder to fill and the hub dataset; never a missing ../shared path."
    here = tmp_path / nb.relative_to(colab.ROOT); here.parent.mkdir(parents=True); shutil.copy(nb, here)
    (tmp_path / "content").mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("XENC_DATA_DIR", "XENC_SEEDS_DIR")}
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", MPLBACKEND="Agg")
    r = subprocess.run([sys.executable, str(Path(colab.__file__)), str(here), str(tmp_path / "content")], env=env, capture_output=True,
                       text=True, timeout=600, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    s = colab.settings()
    assert f"pip install -q xenc[offline,rerank] @ git+{s['git_url']}@{s['branch']}" in out["install"], out
    if out["error"]:
        kind, msg = out["error"]
        assert kind in ("PairDataError", "ReproduceError", "BeirError") and "allow the hub to load" in msg and "shared" not in msg, out["error"]
