"""Every exercise check passes on a right answer, fails on each typical wrong one, and reports a stub as
not attempted; every core chapter ends with two or three exercises, and every check is used by one."""
import json, re, sys
from pathlib import Path

import pytest

from xenc import exercises
from xenc.exercises import ExerciseFailed

sys.path.insert(0, str(Path(__file__).parent))
from exercise_solutions import SOLUTIONS, WRONG

ROOT = Path(__file__).resolve().parents[1]
CORE = ["00_data", "01_model", "02_losses", "02a_listwise", "03_loop", "03d_trainer", "04_evaluation", "05b_card_read",
        "05d_card_build", "09_rerank"]   # the chapters that end with exercises
CHECKS = exercises.checks()

def test_every_check_has_an_answer_and_wrong_answers():
    assert len(CHECKS) >= 2 * 6
    assert sorted(CHECKS) == sorted(SOLUTIONS) == sorted(WRONG)
    assert all(len(WRONG[n]) >= 2 for n in CHECKS)

@pytest.mark.parametrize("name", sorted(CHECKS))
def test_check_passes_on_the_answer(name, capsys):
    assert CHECKS[name](SOLUTIONS[name]) is True
    assert "correct on all" in capsys.readouterr().out

@pytest.mark.parametrize("name,i", [(n, i) for n in sorted(WRONG) for i in range(len(WRONG[n]))])
def test_check_fails_on_a_wrong_answer(name, i):
    with pytest.raises(ExerciseFailed) as e: CHECKS[name](WRONG[name][i])
    assert re.search(r"Exercise \d\d\.\d \(.+\): (wrong on|your function raised)", str(e.value)), str(e.value)

@pytest.mark.parametrize("name", sorted(CHECKS))
def test_check_reports_a_stub_as_not_attempted(name, capsys):
    def stub(*args): raise NotImplementedError
    assert CHECKS[name](stub) is False
    assert "not attempted yet" in capsys.readouterr().out

def exercise_cells(stem):
    cells = json.loads((ROOT / "nbs" / f"{stem}.ipynb").read_text(encoding="utf-8"))["cells"]
    start = next((i for i, c in enumerate(cells) if c["cell_type"] == "markdown" and "".join(c["source"]).startswith("## Exercises")), None)
    assert start is not None, f"{stem}.ipynb has no '## Exercises' section"
    return cells[start:]

@pytest.mark.parametrize("stem", CORE)
def test_each_core_chapter_ends_with_exercises(stem):
    cells = exercise_cells(stem)
    code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    used = [m for src in code for m in re.findall(r"\b(check_\w+)\(", src) if not src.startswith("from ")]
    assert 1 <= len(used) <= 3 and len(set(used)) == len(used), used
    assert all(u in CHECKS for u in used)
    for src in code:                     # the student's view: stubs to fill in, never an answer
        if re.search(r"\bcheck_\w+\(", src) and not src.startswith("from "): assert "raise NotImplementedError" in src, src
    for c in cells:
        if c["cell_type"] == "code" and re.search(r"\bcheck_\w+\(\w", "".join(c["source"])) and not "".join(c["source"]).startswith("from "):
            out = "".join("".join(o.get("text", "")) for o in c["outputs"])
            assert "not attempted yet" in out, f"{stem}: stored output of an exercise cell: {out!r}"

def test_every_check_is_used_by_one_chapter():
    used = [m for stem in CORE for c in exercise_cells(stem) if c["cell_type"] == "code"
            for m in re.findall(r"\b(check_\w+)\(", "".join(c["source"])) if not "".join(c["source"]).startswith("from ")]
    assert sorted(used) == sorted(CHECKS)
    for stem in CORE:                    # and a chapter's exercises are its own (00.x in chapter 00, ...)
        for m in [m for c in exercise_cells(stem) for m in re.findall(r"\b(check_\w+)\(", "".join(c["source"]))]:
            assert CHECKS[m].__doc__.startswith(f"Exercise {stem[:2]}."), (stem, m)
