"""The Colab path, checked as far as a machine without the hub allows.

    python tests/colab.py --fix        write every notebook's install cell and Colab badge from settings.ini (git_url, branch)
    python tests/colab.py --check      list the notebooks whose install cell or badge differ from settings.ini (exit 1)
    python tests/colab.py NB FAKE      run NB's first cells as Colab would: /content faked by the folder FAKE, pip echoed;
                                       prints one JSON line (cells run, the first error, what the install cell did)
    python tests/colab.py --ipython NB FAKE   the same through IPython's shell (no execnb): for an environment that holds
                                       only what the install cell installs

settings.ini is the one place that names the repository: change `git_url` or `branch` there, then run `--fix`.
"""
import configparser, json, os, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INSTALL_NOTE = "# On Colab: install xenc (with the offline base model) first; elsewhere this does nothing."
COLAB_GUARD = "! [ ! -e /content ] || pip install -q"  # on Colab only; pip's own message shows when it fails
INSTALL_CHECK = "import xenc  # a failed install stops the notebook here, loudly"

def settings() -> dict:
    cfg = configparser.ConfigParser(delimiters=["="]); cfg.read(ROOT / "settings.ini", encoding="utf-8")
    return dict(cfg["DEFAULT"])

EXTRAS = "colab"   # setup.py's extra for the notebooks: offline, rerank and onnx

def install_source(s:dict) -> str:
    spec = f'"xenc[{EXTRAS}] @ git+{s["git_url"]}@{s["branch"]}"'
    return f"#| hide\n{INSTALL_NOTE}\n{COLAB_GUARD} {spec}\n{INSTALL_CHECK}"

def badge_url(s:dict, nb:Path) -> str:
    repo = s["git_url"].removeprefix("https://github.com/").removesuffix(".git")
    return f"https://colab.research.google.com/github/{repo}/blob/{s['branch']}/{nb.relative_to(ROOT).as_posix()}"

BADGE = re.compile(r"https://colab\.research\.google\.com/github/[^)\s]+\.ipynb")

def notebooks() -> list[Path]:
    return sorted(p for p in (ROOT / "nbs").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)

def src(c) -> str: return "".join(c["source"])

def sync(fix:bool) -> list[str]:
    "The notebooks whose install cell or badge disagree with settings.ini (rewritten when `fix`)."
    s, wrong = settings(), []
    for p in notebooks():
        nb = json.loads(p.read_text(encoding="utf-8")); changed = False
        for c in nb["cells"]:
            text = src(c)
            new = install_source(s) if c["cell_type"] == "code" and INSTALL_NOTE in text else BADGE.sub(badge_url(s, p), text)
            if new != text: changed = True; c["source"] = new.splitlines(keepends=True)
        if changed:
            wrong.append(str(p.relative_to(ROOT)))
            if fix: p.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return wrong

def first_cells(nb:dict) -> list[str]:
    "The install cell, the config and import cells, and on to the last cell that reads the data or seed folders."
    flags = {f"#| {f}" for f in settings().get("tst_flags", "").split()}         # cells the tests skip (#| gpu, #| slow)
    code = [src(c) for c in nb["cells"] if c["cell_type"] == "code" and not src(c).startswith("#| default_exp")
            and not any(line.strip() in flags for line in src(c).splitlines())]
    reads = [i for i, s in enumerate(code) if "DATA_DIR" in s or "SEEDS_DIR" in s]
    config = next((i for i, s in enumerate(code) if "os.environ" in s), 1)
    return code[:max(reads[-1] if reads else 0, config + 2) + 1]

def run_first_cells(nb_path:Path, fake_content:Path) -> dict:
    "Run the first cells in this process (cwd: the notebook's folder) with /content faked and pip echoed."
    from execnb.shell import CaptureShell
    os.chdir(nb_path.parent)
    cells, sh, out = first_cells(json.loads(nb_path.read_text(encoding="utf-8"))), CaptureShell(), {"ran": 0, "error": None, "install": ""}
    for s in cells:
        if INSTALL_NOTE in s:
            s = s.replace("[ ! -e /content ]", f"[ ! -e {fake_content} ]").replace("pip install", "echo pip install")
        res = sh.run(s)
        out["ran"] += 1
        if INSTALL_NOTE in s: out["install"] = "".join(t for o in res if o.get("name") == "stdout" for t in o["text"])
        if sh.exc is not None: out["error"] = [type(sh.exc).__name__, str(sh.exc)]; break
    return out

def run_first_cells_ipython(nb_path:Path, fake_content:Path) -> dict:
    ("The same with IPython's own shell, as Colab runs a notebook: for an environment that holds only "
     "what the install cell installs (no execnb, no nbdev). The install cell's echo goes to stdout.")
    from IPython.core.interactiveshell import InteractiveShell
    os.chdir(nb_path.parent)
    sh, out = InteractiveShell.instance(), {"ran": 0, "error": None}
    for s in first_cells(json.loads(nb_path.read_text(encoding="utf-8"))):
        if INSTALL_NOTE in s:
            s = s.replace("[ ! -e /content ]", f"[ ! -e {fake_content} ]").replace("pip install", "echo pip install")
        res = sh.run_cell(s)
        out["ran"] += 1
        if not res.success:
            e = res.error_in_exec or res.error_before_exec
            out["error"] = [type(e).__name__, str(e)]
            break
    return out

if __name__ == "__main__":
    if sys.argv[1] == "--ipython":
        sys.stdout.flush()
        print(json.dumps(run_first_cells_ipython(Path(sys.argv[2]).resolve(), Path(sys.argv[3]).resolve())))
        sys.exit(0)
    if sys.argv[1:] in (["--fix"], ["--check"]):
        wrong = sync(sys.argv[1] == "--fix")
        print(("rewritten: " if sys.argv[1] == "--fix" else "out of step with settings.ini: ") + (", ".join(wrong) or "none"))
        sys.exit(1 if wrong and sys.argv[1] == "--check" else 0)
    print(json.dumps(run_first_cells(Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve())))
