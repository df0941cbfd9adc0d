"""nbval runs the notebooks as tests; this makes it follow nbdev's rules, so both agree on every cell.

- A cell carrying a test flag listed in settings.ini's `tst_flags` (e.g. `#| slow`, `#| gpu`) or
  `#| eval: false` is skipped, as `nbdev_test` skips it. Switch flags on with
  `pytest --nbval --flags "slow gpu"` (nbdev_test: `nbdev_test --flags "slow gpu"`).
- `nbdev_clean` keeps outputs but nulls `execution_count`; nbval would call such a cell
  "unrun with outputs". We give stored outputs a count back, so they are compared.
"""
import configparser, re
from pathlib import Path

_DIRECTIVE = re.compile(r"^\s*#\s*\|\s*(.+?)\s*$")

def _skip_flags():
    cfg = configparser.ConfigParser(delimiters=["="])
    cfg.read(Path(__file__).resolve().parent.parent / "settings.ini")
    return set(cfg["DEFAULT"].get("tst_flags", "").split())

def cell_directives(source):
    "nbdev directives at the top of a cell: `#| slow` -> {'slow': ''}, `#| eval: false` -> {'eval:': 'false'}."
    out = {}
    for line in source.splitlines():
        if not line.strip(): continue
        m = _DIRECTIVE.match(line)
        if not m: break
        name, _, rest = m.group(1).partition(" ")
        out[name] = rest.strip()
    return out

def pytest_addoption(parser):
    parser.addoption("--flags", default="", help="space-separated nbdev test flags to run (normally skipped), e.g. 'slow gpu'")

def pytest_collection_modifyitems(config, items):
    skip = _skip_flags() - set(config.getoption("--flags").split())
    for item in items:
        cell = getattr(item, "cell", None)
        if cell is None or not hasattr(item, "options"): continue   # not an nbval cell
        d = cell_directives(cell.source)
        if d.get("eval:", "").lower() == "false" or skip & d.keys(): item.options["skip"] = True
        if cell.execution_count is None and cell.outputs: cell.execution_count = item.cell_num + 1

# Without the offline data (a clone with nothing beside it, the hub off), a notebook that needs a stand-in
# stops at the loader's message; the rest of that notebook is skipped with one line naming the folder to fill.
# With the data present (CI: ../shared beside the clone) nothing here ever applies.
import os, pytest

_NEEDS = "allow the hub to load"       # the loaders' message when neither the folder nor the hub can serve a dataset
_REASON = "needs the offline data: fill ../shared/data beside the clone, or set XENC_DATA_DIR"
_without_data = set()

def _data_absent():
    here = Path(__file__).resolve().parents[2] / "shared" / "data"
    return not (os.environ.get("XENC_DATA_DIR") or here.is_dir())

def pytest_runtest_setup(item):
    if getattr(item, "cell", None) is not None and item.fspath in _without_data: pytest.skip(_REASON)

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    err = call.excinfo.value if call.excinfo is not None else None
    # nbval's error says "Cell execution caused an exception"; the kernel's traceback holds the message
    said = f"{err} {getattr(err, 'inner_traceback', '')}"
    if rep.failed and getattr(item, "cell", None) is not None and _NEEDS in said and _data_absent():
        _without_data.add(item.fspath)
        rep.outcome, rep.longrepr = "skipped", (str(item.fspath), 0, f"Skipped: {_REASON}")

def pytest_terminal_summary(terminalreporter):
    for f in sorted(map(str, _without_data)):
        terminalreporter.write_line(f"skipped the rest of {Path(f).name}: it {_REASON}")
