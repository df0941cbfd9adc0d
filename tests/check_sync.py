"""Fail when `nbdev_export` or `nbdev_clean` would change a tracked file, or README.md is stale.

Works on a copy of the tree, so nothing of the developer's is touched.
"""
import filecmp, shutil, subprocess, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
bin_dir = Path(sys.executable).parent

def tracked_files():
    try:
        out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, check=True, capture_output=True, text=True).stdout
        return [p for p in out.splitlines() if (ROOT / p).is_file()]
    except (OSError, subprocess.CalledProcessError):   # not a git checkout: everything but the usual build output
        skip = {".venv", ".git", "_docs", "_proc", "__pycache__", ".pytest_cache"}
        return [str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.is_file() and not skip & set(p.relative_to(ROOT).parts)]

def main():
    files = tracked_files()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for f in files:
            (tmp / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / f, tmp / f, follow_symlinks=False)
        for cmd in ("nbdev_export", "nbdev_clean"):
            r = subprocess.run([str(bin_dir / cmd)], cwd=tmp, capture_output=True, text=True)
            if r.returncode: sys.exit(f"{cmd} failed:\n{r.stdout}\n{r.stderr}")
        changed = [f for f in files if not (tmp / f).is_symlink() and not filecmp.cmp(ROOT / f, tmp / f, shallow=False)]
        new = sorted(str(p.relative_to(tmp)) for p in (tmp / "xenc").rglob("*.py") if str(p.relative_to(tmp)) not in files)
    if changed or new:
        sys.exit("nbdev_export/nbdev_clean would change these files: " + ", ".join(changed + new) +
                 "\nEdit the notebooks (not xenc/*.py), run nbdev_export and nbdev_clean, and commit the result.")
    r = subprocess.run([sys.executable, str(ROOT / "tests" / "readme.py"), "--check"])
    if r.returncode: sys.exit(r.returncode)
    print(f"in sync: {len(files)} files; nbdev_export and nbdev_clean change nothing; README.md matches nbs/index.ipynb")

if __name__ == "__main__": main()
