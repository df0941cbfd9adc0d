"""Build as much of the docs site as works without Quarto, and check its links.

    python tests/build_site.py            # -> _site/ (open _site/index.html in a browser)

Where Quarto is installed, `nbdev_docs` builds the real site (see README, "Docs"). Quarto is in no
registry on our machines, so CI does the parts it can:
1. `nbdev_proc_nbs`: nbdev's own processing of every notebook (front matter, `show_doc` for every
   exported name, executed and rendered, doc links, hidden cells dropped) into `_proc/`;
2. every processed notebook rendered to HTML with nbconvert, under the file name Quarto would give it
   (`output-file`), with the sidebar of `nbs/sidebar.yml` and Quarto's heading ids;
3. every internal link checked: relative links and links to the site's own URL must name a page that
   exists, and an anchor that exists on it.
"""
import html, os, re, shutil, subprocess, sys
from pathlib import Path

import nbformat, yaml
from bs4 import BeautifulSoup
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parents[1]
SKIP_FOLDERS = r"^[_.]|^runs$"       # tutorial run folders hold model weights, not pages

def cfg():
    "doc_host and doc_baseurl from settings.ini: links to them are internal."
    import configparser
    c = configparser.ConfigParser(); c.read(ROOT / "settings.ini")
    d = c["DEFAULT"]
    return d["doc_host"].rstrip("/") + "/" + d["doc_baseurl"].strip("/") + "/"

def proc_nbs():
    "Run nbdev's notebook processing; raise with its output when it fails."
    env = dict(os.environ)
    for var, sub in (("XENC_DATA_DIR", "data"), ("XENC_SEEDS_DIR", "seeds")):
        if not env.get(var) and (ROOT.parent / "shared" / sub).is_dir(): env[var] = str(ROOT.parent / "shared" / sub)
    bin_ = Path(sys.executable).parent / "nbdev_proc_nbs"
    shutil.rmtree(ROOT / "_proc", ignore_errors=True)    # (not --force: that also rewrites our sidebar.yml)
    r = subprocess.run([str(bin_), "--skip_folder_re", SKIP_FOLDERS], cwd=ROOT, env=env,
                       capture_output=True, text=True)
    if r.returncode: raise RuntimeError(f"nbdev_proc_nbs failed (exit {r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-6000:]}")
    return ROOT / "_proc"

def slug(text):
    "Pandoc's (and so Quarto's) automatic heading identifier."
    s = re.sub(r"[^\w\s.-]", "", text.strip().lower())
    s = re.sub(r"\s+", "-", s)
    s = re.sub(r"^[^a-z]+", "", s)
    return s or "section"

DIRECTIVE = re.compile(r"^#\|\s*([\w-]+)\s*:?\s*(.*)$")

def directives(src):
    "The `#| key: value` lines at the top of a cell, and the source without them."
    d, lines = {}, src.splitlines()
    while lines and DIRECTIVE.match(lines[0]):
        k, v = DIRECTIVE.match(lines[0]).groups(); d[k] = v.strip(); lines.pop(0)
    return d, "\n".join(lines)

def prepare(nb):
    "Turn a processed notebook into what Quarto would show: title block, no hidden input, asis outputs."
    meta, cells = {}, []
    for c in nb.cells:
        if c.cell_type == "raw" and c.source.startswith("---"):
            meta = yaml.safe_load(c.source.strip().strip("-")) or {}
            title = f"# {meta.get('title', '')}\n\n" + (f"> {meta['description']}" if meta.get("description") else "")
            cells.append(nbformat.v4.new_markdown_cell(title)); continue
        if c.cell_type == "code":
            d, c.source = directives(c.source)
            if d.get("include") == "false": continue
            if d.get("echo") == "false": c.metadata.setdefault("tags", []).append("remove_input")
            if d.get("output") == "false": c.outputs = []
            if d.get("output") == "asis":   # show_doc: its markdown is the page, shown as markdown
                md = next((o.data["text/markdown"] for o in c.outputs if "text/markdown" in o.get("data", {})), "")
                md = re.sub(r"(\]\([^)]*\))\{[^}]*\}", r"\1", md)   # Pandoc link attributes: Quarto's, not Markdown
                cells.append(nbformat.v4.new_markdown_cell(md)); continue
        cells.append(c)
    nb.cells = cells
    return meta

def sidebar(items, page_dir, titles, out_of):
    "The sidebar of nbs/sidebar.yml as nested lists of links relative to the page."
    parts = ["<ul>"]
    for it in items:
        if isinstance(it, dict):
            parts.append(f"<li class='section'><span>{html.escape(it['section'])}</span>"
                         + sidebar(it.get("contents", []), page_dir, titles, out_of) + "</li>")
        else:
            target = out_of[it]
            href = os.path.relpath(target, page_dir)
            parts.append(f"<li><a href='{href}'>{html.escape(titles.get(it, it))}</a></li>")
    return "".join(parts) + "</ul>"

STYLE = """<style>
body { margin: 0; } #xenc-sidebar { position: fixed; top: 0; left: 0; width: 240px; height: 100%; overflow: auto;
  background: #f7f7f9; border-right: 1px solid #ddd; font: 14px sans-serif; padding: 12px; box-sizing: border-box; }
#xenc-sidebar ul { list-style: none; padding-left: 10px; } #xenc-sidebar .section > span { font-weight: bold; }
#xenc-sidebar a { text-decoration: none; color: #2c6fbb; } #xenc-main { margin-left: 250px; }
</style>"""

def build(out=ROOT / "_site", proc=None):
    "Build the site into `out`; return (pages written, broken links)."
    proc = proc or proc_nbs()
    nbs = sorted(proc.rglob("*.ipynb"))
    out_of, titles, metas = {}, {}, {}
    for p in nbs:
        rel = p.relative_to(proc).as_posix()
        nb = nbformat.read(p, as_version=4)
        metas[rel] = (nb, prepare(nb))
        name = metas[rel][1].get("output-file") or Path(rel).with_suffix(".html").name
        out_of[rel] = str(Path(rel).parent / name)
        titles[rel] = metas[rel][1].get("title") or Path(rel).stem
    side = yaml.safe_load((proc / "sidebar.yml").read_text())["website"]["sidebar"]["contents"]
    exporter = HTMLExporter(template_name="lab", exclude_input_prompt=True, exclude_output_prompt=True)
    exporter.register_preprocessor("nbconvert.preprocessors.TagRemovePreprocessor", enabled=True)
    exporter.config.TagRemovePreprocessor.remove_input_tags = {"remove_input"}
    exporter = HTMLExporter(config=exporter.config, template_name="lab", exclude_input_prompt=True, exclude_output_prompt=True)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for rel, (nb, meta) in metas.items():
        body, _ = exporter.from_notebook_node(nb)
        soup = BeautifulSoup(body, "html.parser")
        for h in soup.find_all(re.compile(r"^h[1-6]$")):
            for a in h.find_all("a", class_="anchor-link"): a.decompose()
            h["id"] = slug(h.get_text())
        page = out / out_of[rel]
        page_dir = Path(out_of[rel]).parent
        for a in soup.find_all("a", href=True):   # links to notebooks go to their pages, as Quarto does
            href = a["href"]; path, _, frag = href.partition("#")
            if path.endswith(".ipynb") and not re.match(r"^[a-z]+://", path):
                src = os.path.normpath(page_dir / path)
                if src in out_of: a["href"] = os.path.relpath(out_of[src], page_dir) + (f"#{frag}" if frag else "")
        nav = BeautifulSoup(f"<nav id='xenc-sidebar'><p><a href='{os.path.relpath('index.html', page_dir)}'><b>xenc</b></a></p>"
                            + sidebar(side, page_dir, titles, out_of) + "</nav>", "html.parser")
        main = soup.new_tag("div", id="xenc-main")
        for child in list(soup.body.children): main.append(child.extract())
        soup.body.append(nav); soup.body.append(main)
        soup.head.append(BeautifulSoup(STYLE, "html.parser"))
        if soup.title: soup.title.string = f"{titles[rel]} – xenc"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(str(soup), encoding="utf-8")
        written.append(page)
    return written, broken_links(out)

def broken_links(out):
    "Every internal link (relative, or to the site's own URL) that names a missing page or anchor."
    site, ids, bad = cfg(), {}, []
    pages = sorted(out.rglob("*.html"))
    soups = {p: BeautifulSoup(p.read_text(encoding="utf-8"), "html.parser") for p in pages}
    for p, s in soups.items(): ids[p.resolve()] = {t["id"] for t in s.find_all(id=True)}
    for p, s in soups.items():
        for tag, attr in (("a", "href"), ("img", "src")):
            for t in s.find_all(tag, **{attr: True}):
                url = t[attr]
                if url.startswith(site): url = os.path.relpath(out / url[len(site):], p.parent)
                elif re.match(r"^([a-z]+:|//)", url): continue      # external, data: or mailto:
                path, _, frag = url.partition("#")
                target = (p.parent / path).resolve() if path else p.resolve()
                if not target.exists(): bad.append(f"{p.relative_to(out)}: {t[attr]} (no such page)")
                elif frag and target.suffix == ".html" and frag not in ids.get(target, set()):
                    bad.append(f"{p.relative_to(out)}: {t[attr]} (no anchor #{frag} on {target.name})")
    return bad

if __name__ == "__main__":
    pages, bad = build()
    print(f"{len(pages)} pages in {ROOT / '_site'}")
    print("\n".join(bad) or "every internal link resolves")
    sys.exit(1 if bad else 0)
