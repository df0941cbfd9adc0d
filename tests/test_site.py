"""The docs site, as far as it builds without Quarto: nbdev's processing, every page, every internal
link, and a headless Chromium that loads the index and one API page (screenshots in _site/screenshots/)."""
import os, re, shutil, subprocess, sys
from pathlib import Path

import pytest, yaml
from bs4 import BeautifulSoup

sys.path.insert(0, str(Path(__file__).parent))
import build_site

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "_site"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]

@pytest.fixture(scope="module")
def site():
    shutil.rmtree(OUT, ignore_errors=True)
    return build_site.build(OUT)

def sidebar_entries(items):
    for it in items:
        if isinstance(it, dict): yield from sidebar_entries(it.get("contents", []))
        else: yield it

def test_every_notebook_is_a_page_and_in_the_sidebar(site):
    pages, _ = site
    nbs = sorted(p.relative_to(ROOT / "nbs").as_posix() for p in (ROOT / "nbs").rglob("*.ipynb")
                 if not any(part.startswith((".", "_")) or part == "runs" for part in p.relative_to(ROOT / "nbs").parts))
    side = yaml.safe_load((ROOT / "nbs" / "sidebar.yml").read_text())["website"]["sidebar"]["contents"]
    assert sorted(sidebar_entries(side)) == nbs, "nbs/sidebar.yml must list every notebook once"
    assert [s["section"] for s in side] == ["Get started", "Course", "Tutorials", "Under the hood", "Reference"]
    course = [s for s in side if s["section"] == "Course"][0]["contents"]
    # the course: one chapter per part of the stack, in the order a cross-encoder is built and used
    assert course == sorted(course) and [a[:2] for a in course] == ["00", "01", "02", "03", "03", "04", "05", "09"], course
    hood = [s for s in side if s["section"] == "Under the hood"][0]["contents"]
    assert hood == sorted(hood), hood
    assert len(pages) == len(nbs)

def test_plots_are_on_the_pages(site):
    "Every figure a notebook stores (training curves, metric curves, score distributions) is an image on its page."
    import json
    pages, _ = site
    by_stem = {}
    for p in pages:   # page name <- the notebook it came from, by the title both carry
        by_stem[BeautifulSoup(p.read_text(encoding="utf-8"), "html.parser").find("h1").get_text().strip()] = p
    for nb in all_notebooks():
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        figs = sum("image/png" in o.get("data", {}) for c in cells for o in c.get("outputs", []))
        title = next("".join(c["source"]) for c in cells if c["cell_type"] == "markdown" and "".join(c["source"]).startswith("# "))
        page = by_stem[title.splitlines()[0][2:].strip()]
        imgs = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").find_all("img", src=re.compile("^data:image/png"))
        assert len(imgs) >= figs, f"{nb.name}: {figs} figures stored, {len(imgs)} on {page.name}"
        if nb.stem in ("00_data", "00a_batches", "02_losses", "02a_listwise", "03_loop", "03d_trainer", "04_evaluation", "08_distill", "09_rerank"): assert figs >= 1, f"{nb.name} should show its curves or distributions"

def test_internal_links_resolve(site):
    _, bad = site
    assert bad == [], "broken internal links:\n" + "\n".join(bad)

def test_link_checker_finds_a_broken_link(tmp_path):
    (tmp_path / "a.html").write_text("<h1 id='top'>A</h1><a href='b.html'>b</a><a href='a.html#top'>ok</a><a href='#nope'>x</a>"
                                     f"<a href='{build_site.cfg()}a.html#top'>site</a><a href='https://example.org/x.html'>ext</a>")
    assert build_site.broken_links(tmp_path) == ["a.html: b.html (no such page)", "a.html: #nope (no anchor #nope on a.html)"]

# each module and the page its chapter becomes
# a module and the page, or pages, that document it (an under-the-hood chapter may export into a core chapter's module)
PAGES = {"data": "data", "files": "files", "batches": "batches", "fmt": "fmt", "model": ("model", "predict", "unpadded"),
         "predict": "predict", "unpadded": "unpadded", "losses": ("losses", "listwise"),
         "listwise": ("listwise", "adrmse"), "training.loop": "loop", "training.checks": "checks", "training.runs": "runs",
         "training.scale": "scale", "training.trainer": "trainer", "evaluation": "evaluation", "card.repair": "card_repair",
         "card.read": "card_read", "card.write": "card_write", "card.build": "card_build", "tools.recipe": "recipe",
         "tools.reproduce": "reproduce", "exercises": ("exercises", "more_checks"), "apps.distill": "distill",
         "apps.beir": "beir", "apps.rerank": "rerank", "ship": "ship", "int8": "int8", "lora": "lora"}

def test_every_public_name_has_its_show_doc(site):
    "nbdev adds a show_doc for every exported name; each must be on its chapter's page."
    import importlib
    for mod, page in PAGES.items():
        m = importlib.import_module(f"xenc.{mod}")
        pages = page if isinstance(page, tuple) else (page,)
        heads = {h.get_text().strip() for p in pages for h in BeautifulSoup((OUT / f"{p}.html").read_text(encoding="utf-8"),
                                                                          "html.parser").find_all(["h2", "h3", "h4"])}
        names = [n for n in m.__all__ if callable(getattr(m, n)) and getattr(getattr(m, n), "__module__", m.__name__) == m.__name__]   # re-exports are documented where they are defined
        shown = lambda n: getattr(m, n).__name__       # an alias is documented under its object's name
        missing = [n for n in names if not any(h in (n, shown(n)) or h.endswith("." + n) for h in heads)]
        assert not missing, f"{pages} have no show_doc heading for {missing}"

MODULES = list(PAGES)

def own_init(cls):
    "Whether xenc defines the constructor of `cls` (exceptions and plain torch modules inherit theirs)."
    return hasattr(cls, "__dataclass_fields__") or any(
        "__init__" in b.__dict__ for b in cls.__mro__ if b.__module__.startswith("xenc"))

def test_every_public_name_documents_its_parameters():
    "A docstring, and a docment (the comment after each parameter, which show_doc renders) for every parameter."
    import importlib, inspect
    from fastcore.docments import docments
    problems = []
    for mod in MODULES:
        m = importlib.import_module(f"xenc.{mod}")
        for n in m.__all__:
            o = getattr(m, n)
            if not callable(o) or getattr(o, "__name__", n) != n: continue          # constants; aliases are documented once
            if not inspect.getdoc(o): problems.append(f"xenc.{mod}.{n}: no docstring")
            if inspect.isclass(o) and not own_init(o): continue
            sig = inspect.signature(o)
            docs = docments(o)
            missing = [p for p, v in sig.parameters.items() if p != "self" and v.kind not in (v.VAR_POSITIONAL, v.VAR_KEYWORD) and not docs.get(p)]
            if missing: problems.append(f"xenc.{mod}.{n}: parameters without a docment {missing}")
    assert not problems, "\n".join(problems)

def all_notebooks():
    return sorted(p for p in (ROOT / "nbs").rglob("*.ipynb") if not any(x.startswith((".", "_")) or x == "runs" for x in p.parts))

def test_every_notebook_opens_with_a_colab_badge_and_a_guarded_install_cell():
    import json
    for p in all_notebooks():
        cells = json.loads(p.read_text(encoding="utf-8"))["cells"]
        srcs = ["".join(c["source"]) for c in cells]
        title = next(i for i, s in enumerate(srcs) if s.startswith("# "))
        rel = p.relative_to(ROOT).as_posix()
        assert f"(https://colab.research.google.com/github/xenc/xenc/blob/main/{rel})" in srcs[title + 1], f"{rel}: no Colab badge after the title"
        install = srcs[title + 2]
        assert cells[title + 2]["cell_type"] == "code" and install.startswith("#| hide"), f"{rel}: no hidden install cell after the badge"
        assert "! [ ! -e /content ] || pip install" in install, f"{rel}: the install cell must only act on Colab"
        assert "|| true" not in install and "import xenc" in install, f"{rel}: a failed install must stop the notebook"

def chromium():
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        if os.environ.get("XENC_SKIP_BROWSER") == "1": pytest.skip("XENC_SKIP_BROWSER=1")
        pytest.fail("No Chromium: install Debian's `chromium` (tests/run.sh does, as root), or set XENC_SKIP_BROWSER=1")
    return exe

def render(page, tmp_path):
    "Load a page in headless Chromium: the DOM after scripts ran, and a screenshot for a person."
    exe, url = chromium(), (OUT / page).as_uri()
    shots = OUT / "screenshots"; shots.mkdir(exist_ok=True)
    shot = shots / (Path(page).stem + ".png")
    common = CHROMIUM_FLAGS + [f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,1600"]
    dom = subprocess.run([exe, *common, "--dump-dom", url], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    subprocess.run([exe, *common, f"--screenshot={shot}", url], capture_output=True, text=True, timeout=120, check=True)
    return BeautifulSoup(dom.stdout, "html.parser"), shot

def looks_like_a_page(png):
    "A real rendering, not a blank or error page: many distinct colours."
    import matplotlib.image as mpimg, numpy as np
    img = mpimg.imread(png)
    assert img.shape[:2] == (1600, 1280)
    assert len(np.unique(img.reshape(-1, img.shape[-1])[::37], axis=0)) > 50

def test_browser_renders_the_index(site, tmp_path):
    dom, shot = render("index.html", tmp_path)
    text = dom.get_text(" ")
    assert dom.find("h1").get_text().strip() == "xenc"
    for s in ["Teach, train, evaluate and publish cross-encoders", "Two commands", "bash tests/run.sh"]: assert s in text
    side = dom.find(id="xenc-sidebar").get_text(" ")
    for s in ["Get started", "Course", "Tutorials", "Under the hood", "Model wrapper", "Seed 003"]: assert s in side
    looks_like_a_page(shot)

def test_browser_renders_an_api_page(site, tmp_path):
    dom, shot = render("predict.html", tmp_path)
    assert dom.find("h1").get_text().strip() == "Prediction and ranking"
    heads = [h.get_text().strip() for h in dom.find_all("h3")]
    assert sum(h.endswith("predict") for h in heads) == 1, heads
    text = dom.get_text(" ")
    assert re.search(r"def\s+predict\s*\(\s*pairs", text)      # the rendered signature of show_doc...
    assert "pairs per forward pass" in text                    # ...with its documented parameters
    assert "{target=" not in text                              # no Quarto-only syntax left raw
    # the sidebar links of an API page lead to pages that exist
    for a in dom.find(id="xenc-sidebar").find_all("a"): assert (OUT / a["href"]).exists(), a["href"]
    looks_like_a_page(shot)
