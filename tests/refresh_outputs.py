"""Re-run notebooks in place so their stored outputs are fresh, skipping the cells nbdev and nbval skip.

    python tests/refresh_outputs.py nbs/01_model.ipynb [...]   # then: nbdev_clean

Cells with a `tst_flags` flag (`#| slow`, `#| gpu`) or `#| eval: false` are not run and keep what they had,
exactly as `pytest --nbval` (through nbs/conftest.py) and `nbdev_test` treat them.
"""
import importlib.util, sys
from pathlib import Path
import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("nbs_conftest", ROOT / "nbs" / "conftest.py")
conftest = importlib.util.module_from_spec(spec); spec.loader.exec_module(conftest)
TAG = "skip-execution"

def refresh(path: Path):
    nb = nbformat.read(path, as_version=4)
    skip = conftest._skip_flags()
    marked = []
    for cell in nb.cells:
        if cell.cell_type != "code": continue
        d = conftest.cell_directives(cell.source)
        if d.get("eval:", "").lower() == "false" or skip & d.keys():
            cell.metadata.setdefault("tags", []).append(TAG); marked.append(cell)
    NotebookClient(nb, timeout=1800, kernel_name="python3", skip_cells_with_tag=TAG,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    for cell in marked:
        cell.metadata["tags"].remove(TAG)
        if not cell.metadata["tags"]: del cell.metadata["tags"]
    nbformat.write(nb, path)
    print(f"refreshed {path} ({len(marked)} flagged cells left as they were)")

if __name__ == "__main__":
    for p in sys.argv[1:]: refresh(Path(p))
