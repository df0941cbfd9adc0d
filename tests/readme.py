"""Render README.md from nbs/index.ipynb (nbdev_readme needs Quarto, which cannot be installed here).

    python tests/readme.py           # write README.md
    python tests/readme.py --check   # exit 1 when README.md is stale
"""
import json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def _hidden(src): return any(l.strip().replace(" ", "") in ("#|hide", "#|include:false") for l in src.splitlines())

def render(nb_path=ROOT / "nbs" / "index.ipynb") -> str:
    "Markdown cells as they are, code cells as python blocks followed by their text output."
    cells, out = json.loads(Path(nb_path).read_text(encoding="utf-8"))["cells"], []
    for c in cells:
        src = "".join(c["source"]).strip()
        if not src or _hidden(src): continue
        if c["cell_type"] == "markdown":   # links to notebooks are relative to nbs/; README.md sits one folder up
            out.append(re.sub(r"\]\((?![a-z]+:|/|#)([^)]*\.ipynb[^)]*)\)", r"](nbs/\1)", src))
        elif c["cell_type"] == "code":
            out.append(f"```python\n{src}\n```")
            text = "".join("".join(o.get("text", "")) if o["output_type"] == "stream" else "".join(o.get("data", {}).get("text/plain", ""))
                           for o in c.get("outputs", []) if o["output_type"] in ("stream", "execute_result"))
            if text.strip(): out.append(f"```\n{text.rstrip()}\n```")
    return "\n\n".join(out) + "\n"

if __name__ == "__main__":
    readme, text = ROOT / "README.md", render()
    if "--check" in sys.argv:
        if readme.read_text(encoding="utf-8") != text:
            sys.exit("README.md is stale: it must be rendered from nbs/index.ipynb. Run: python tests/readme.py")
    else: readme.write_text(text, encoding="utf-8")
