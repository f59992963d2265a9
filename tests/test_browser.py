r"""The built book, checked page by page in a real browser (Playwright driving the system Chromium).

:func:`check_book` serves a built HTML book on a local port, opens every page and returns the problems it
finds (an empty list when there are none):

- a page that does not load, or logs a console error or an uncaught exception;
- an ``<img>`` that does not load (no ``src``, a missing file: natural size 0);
- a glued value (myst-nb renders ``{glue:text}`` as ``<span class="pasted-text">``) that is empty, and any
  rendering error left in the page (``.problematic``, ``.system-message``, a raw ``{glue:`` role);
- a same-site link whose page is missing (HTTP 404) or whose ``#anchor`` is not on the page it names;
- progress-bar text (``it/s]``, ``%|``, ``s/run]``) or a ``parameters`` / ``injected-parameters`` cell;
- a summary page without its forest plot: a ``<figure id="forest-plot">`` holding a loaded image (myst-nb's
  ``{glue:figure} forest_plot`` with ``:name: "forest-plot"``);
- a request that leaves the local server: every one is blocked, so the book is checked offline and must
  not need the network (MathJax is served by the book itself, ``sphinx-mathjax-offline``);
- an equation MathJax has not typeset (a ``.math`` element without an ``<mjx-container>``), raw TeX
  delimiters (``\(``, ``\[``, ``$$``) in the text outside code, and a methods page without any typeset
  equation.

It saves full-page screenshots of the summary page and of one chapter when asked. From the command line::

    python tests/test_browser.py book/_build/html [--screenshots build/screenshots]

The test builds the ``smoke`` book into a temporary folder (every notebook run with ``python -m snnlib run
NB --profile smoke``, then ``jupyter-book build``), or checks the book at ``$SNNLIB_BOOK_HTML`` if set. It is
skipped, saying why, only when no Chromium is installed (``apt-get install -y chromium``; Playwright's own
browser download is not used). The same book is printed to one PDF (:mod:`snnlib.study.pdf`, ``make pdf``),
which must hold every page of the toc, in its order, with its equations typeset.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import unicodedata
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urldefrag, urljoin

import pytest
import yaml

from snnlib.study.pdf import book_pdf, find_chromium, page_title, reading_order, serve

ROOT = Path(__file__).resolve().parent.parent
SUMMARY_PAGE = "executed/05_summary.html"
CHAPTER_PAGE = "executed/01_dynamics_and_baseline.html"
PROGRESS_MARKERS = ("it/s]", "%|", "s/it]", "run/s]", "s/run]", "cell/s]")
HIDDEN_CELL_TAGS = ("parameters", "injected-parameters")
METHODS_PAGE = "methods.html"
RAW_TEX = ("\\(", "\\[", "$$")  # what MathJax replaces: text that still holds one shows an equation untypeset
# Console errors of the theme itself, on every Jupyter Book 1.0.4 page, harmless: not the book's defects.
KNOWN_CONSOLE_ERRORS = (
    "Identifier 'THEBE_JS_URL' has already been declared",  # sphinx-thebe 0.3.1 emits its config script twice
    "Got invalid theme mode: . Resetting to auto.",          # pydata-sphinx-theme, first page of a session
)

_PAGE_FACTS = """async () => {
  if (document.readyState !== "complete")  // a redirect's target, read before it has loaded
    await new Promise(done => window.addEventListener("load", done));
  if (window.MathJax && MathJax.startup && MathJax.startup.promise)  // MathJax typesets after the page loads
    await Promise.race([MathJax.startup.promise, new Promise(done => setTimeout(done, 10000))]);
  const images = [...document.images];
  for (const img of images) img.loading = "eager";
  await Promise.all(images.map(img => img.complete ? null : new Promise(done => {
    img.addEventListener("load", done); img.addEventListener("error", done); setTimeout(done, 5000); })));
  const main = document.querySelector("main") || document.body || document.documentElement;
  const forest = document.querySelector("#forest-plot");
  const forestImg = forest && (forest.tagName === "IMG" ? forest : forest.querySelector("img"));
  const prose = main.cloneNode(true);  // the text a reader sees as prose: no code, no MathML for screen readers
  prose.querySelectorAll("pre, code, script, style, mjx-assistive-mml").forEach(e => e.remove());
  const equations = [...main.querySelectorAll(".math")];
  return {
    images: images.map(img => ({src: img.getAttribute("src"), width: img.naturalWidth, height: img.naturalHeight})),
    glued: [...document.querySelectorAll(".pasted-text, .pasted-inline")].map(e => e.textContent.trim()),
    errors: [...document.querySelectorAll(".problematic, .system-message")].map(e => e.textContent.trim().slice(0, 120)),
    text: main.textContent,
    hiddenCells: %(tags)s.map(tag => [tag, document.querySelectorAll(".tag_" + tag).length]),
    links: [...document.querySelectorAll("a[href]")].map(a => a.href),
    ids: [...document.querySelectorAll("[id]")].map(e => e.id),
    forest: forestImg ? forestImg.naturalWidth * forestImg.naturalHeight : null,
    equations: equations.length,
    untypeset: equations.filter(e => !e.querySelector("mjx-container")).length,
    typeset: main.querySelectorAll("mjx-container").length,
    rawTex: %(raw_tex)s.filter(marker => prose.textContent.includes(marker)),
  };
}""" % {"tags": json.dumps(HIDDEN_CELL_TAGS), "raw_tex": json.dumps(RAW_TEX)}


def pages(html_dir: Path) -> list[Path]:
    """Every HTML page of a built book (not the theme's ``_static`` files)."""
    return sorted(p for p in html_dir.rglob("*.html")
                  if not any(part.startswith("_") for part in p.relative_to(html_dir).parts[:-1]))


def _console_text(message, base: str) -> str | None:
    """A console error as reported, the failed resource named; ``None`` for what is not the book's defect:
    the browser's favicon probe, a resource of another site (requests leaving the local server are
    blocked: the check runs offline, e.g. MathJax from its CDN), :data:`KNOWN_CONSOLE_ERRORS`."""
    url = (message.location or {}).get("url", "")
    if url.endswith("/favicon.ico") or any(known in message.text for known in KNOWN_CONSOLE_ERRORS):
        return None
    if message.text.startswith("Failed to load") and url and not url.startswith(base):
        return None
    return f"{message.text} ({url})" if url and message.text.startswith("Failed to load") else message.text


def _facts(page) -> dict:
    """What :data:`_PAGE_FACTS` reads from the page; a page that redirects (``index.html`` of a Jupyter
    Book is a meta refresh to the first chapter) is read where it lands."""
    from playwright.sync_api import Error

    for attempt in range(3):
        try:
            return page.evaluate(_PAGE_FACTS)
        except Error as error:
            if "context was destroyed" not in str(error) or attempt == 2:
                raise
            page.wait_for_load_state("load")


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def check_book(html_dir, summary: str | None = SUMMARY_PAGE, screenshots=None, chapter: str | None = CHAPTER_PAGE,
               chromium: str | None = None, methods: str | None = METHODS_PAGE) -> list[str]:
    """Open every page of the built book in ``html_dir`` in Chromium; return the problems found (see the
    module docstring), each as ``"page: what"``. ``summary`` (a path relative to ``html_dir``, or ``None``)
    is the page that must show the forest plot, ``methods`` the page that must show typeset equations;
    with ``screenshots`` (a folder), full-page PNGs of the summary page and of ``chapter`` are saved there.
    Every request that is not to the local server is blocked (and reported): the book is read offline."""
    from playwright.sync_api import sync_playwright

    html_dir = Path(html_dir)
    chromium = chromium or find_chromium()
    if chromium is None:
        raise RuntimeError("no Chromium found: install it (apt-get install -y chromium)")
    if not (html_dir / "index.html").is_file():
        raise FileNotFoundError(f"{html_dir} is not a built book: it has no index.html")
    names = [p.relative_to(html_dir).as_posix() for p in pages(html_dir)]
    problems, links, ids = [], {}, {}
    with serve(html_dir) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        logged: list[str] = []
        outside: list[str] = []
        page.route(lambda url: not url.startswith(base),
                   lambda route: (outside.append(route.request.url), route.abort()))
        page.on("console", lambda message: logged.append(_console_text(message, base))
                if message.type == "error" else None)
        page.on("pageerror", lambda error: logged.append(
            None if any(known in str(error) for known in KNOWN_CONSOLE_ERRORS) else f"uncaught {error}"))
        for name in names:
            logged.clear()
            outside.clear()
            response = page.goto(base + name, wait_until="load")
            if response is None or response.status != 200:
                problems.append(f"{name}: does not load (HTTP {response.status if response else '?'})")
                continue
            facts = _facts(page)
            problems += [f"{name}: console error: {text}" for text in logged if text is not None]
            problems += [f"{name}: image {img['src']!r} does not load (natural size {img['width']}x{img['height']})"
                         for img in facts["images"] if not img["src"] or img["width"] * img["height"] == 0]
            if empty := sum(1 for text in facts["glued"] if not text):
                problems.append(f"{name}: {empty} glued value(s) are empty")
            problems += [f"{name}: rendering error: {text!r}" for text in facts["errors"]]
            if "{glue:" in facts["text"]:
                problems.append(f"{name}: a {{glue:...}} role is shown raw")
            problems += [f"{name}: progress-bar text {marker!r}" for marker in PROGRESS_MARKERS if marker in facts["text"]]
            problems += [f"{name}: shows {count} cell(s) tagged {tag!r}" for tag, count in facts["hiddenCells"] if count]
            problems += [f"{name}: needs the network: {url}" for url in dict.fromkeys(outside)]
            if facts["untypeset"]:
                problems.append(f"{name}: {facts['untypeset']} of {facts['equations']} equation(s) "
                                "not typeset by MathJax")
            problems += [f"{name}: raw TeX {marker} in the text" for marker in facts["rawTex"]]
            if name == methods and not facts["typeset"]:
                problems.append(f"{name}: no equation typeset by MathJax (no <mjx-container>)")
            if name == summary and not facts["forest"]:
                problems.append(f"{name}: no forest plot (a figure named 'forest-plot' with a loaded image)")
            links[name], ids[base + name] = facts["links"], set(facts["ids"])
            if screenshots is not None and name in (summary, chapter):
                Path(screenshots).mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(Path(screenshots) / f"{Path(name).stem}.png"), full_page=True)
        browser.close()
        if summary is not None and summary not in names:
            problems.append(f"{summary}: the summary page is missing")
        if methods is not None and methods not in names:
            problems.append(f"{methods}: the methods page is missing")
        status = {}
        for name, hrefs in links.items():
            for href in hrefs:
                target, anchor = urldefrag(href)
                if not target.startswith(base):
                    continue
                if target not in status:
                    status[target] = _status(target)
                if status[target] != 200:
                    problems.append(f"{name}: broken link {href[len(base):]} (HTTP {status[target]})")
                elif anchor and target in ids and anchor not in ids[target]:
                    problems.append(f"{name}: link {href[len(base):]} names an anchor not on its page")
    return sorted(set(problems), key=problems.index)


# --- the tests ------------------------------------------------------------------------------------------

def _build_smoke_book(folder: Path) -> Path:
    """Every notebook executed in the smoke profile into ``folder``, then the book built there."""
    book = folder / "book"
    shutil.copytree(ROOT / "book", book, ignore=shutil.ignore_patterns("_build", "executed"))
    env = {**os.environ, "SNNLIB_RESULTS": str(folder / "results"), "SNNLIB_EXECUTED": str(book / "executed")}
    for notebook in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")):
        done = subprocess.run([sys.executable, "-m", "snnlib", "run", notebook.stem, "--profile", "smoke",
                               "--no-progress"], cwd=ROOT, env=env, capture_output=True, text=True)
        assert done.returncode == 0, f"snnlib run {notebook.stem} failed:\n{done.stderr[-3000:]}"
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    done = subprocess.run([str(jupyter_book), "build", str(book), "--warningiserror", "--keep-going", "--quiet"],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"jupyter-book build failed:\n{(done.stdout + done.stderr)[-3000:]}"
    return book / "_build" / "html"


needs_chromium = pytest.mark.skipif(find_chromium() is None, reason="no Chromium found (install Debian's chromium: "
                                    "apt-get install -y chromium; Playwright cannot download a browser here)")


@pytest.fixture(scope="module")
def smoke_html(tmp_path_factory) -> Path:
    """The smoke book's HTML: ``$SNNLIB_BOOK_HTML`` if set, else built once for this module's tests."""
    given = os.environ.get("SNNLIB_BOOK_HTML")
    return Path(given) if given else _build_smoke_book(tmp_path_factory.mktemp("smoke-book"))


def toc_pages(toc_file: Path) -> list[str]:
    """The pages of a Jupyter Book toc (``_toc.yml``), in its order, as HTML paths: the root, then every
    ``file`` of every part, chapter and section."""
    def files(entries):
        for entry in entries:
            if "file" in entry:
                yield entry["file"]
            yield from files(entry.get("sections", []))

    toc = yaml.safe_load(toc_file.read_text())
    chapters = [c for part in toc.get("parts", []) for c in part.get("chapters", [])] + toc.get("chapters", [])
    return [f"{name}.html" for name in [toc["root"], *files(chapters)]]


def _plain(text: str) -> str:
    """Text compared as a reader would: ligatures (ﬁ) undone, no whitespace."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def pdf_text(path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


@needs_chromium
def test_the_smoke_book_passes_every_page_check(smoke_html):
    shots = ROOT / "build" / "screenshots"
    problems = check_book(smoke_html, screenshots=shots)
    assert problems == [], "\n".join(problems)
    assert (shots / f"{Path(SUMMARY_PAGE).stem}.png").is_file()
    assert (shots / f"{Path(CHAPTER_PAGE).stem}.png").is_file()


@needs_chromium
def test_the_smoke_book_prints_to_one_pdf_holding_every_chapter(smoke_html, tmp_path):
    from pypdf import PdfReader

    made = book_pdf(smoke_html, tmp_path / "book.pdf")
    titles = [page_title(smoke_html / name) for name in toc_pages(ROOT / "book" / "_toc.yml")]
    reader = PdfReader(tmp_path / "book.pdf")
    text = _plain(pdf_text(tmp_path / "book.pdf"))
    assert [t for t in titles if _plain(t) not in text] == [], "page titles missing from the PDF's text"
    assert [item.title for item in reader.outline] == titles    # one bookmark per page, in the toc's order
    assert made["chapters"] == len(titles) and made["pages"] == len(reader.pages) > len(titles)
    assert [marker for marker in RAW_TEX if marker in text] == [], "equations printed as raw TeX"


def _png(path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([0, 1], [0, 1])
    fig.savefig(path)
    plt.close(fig)


def _site(folder: Path, chapter_body: str) -> Path:
    """A two-page site: an index linking to a chapter whose body is ``chapter_body``, and a summary."""
    (folder / "executed").mkdir(parents=True)
    _png(folder / "fig.png")
    page = "<!DOCTYPE html><html><head><title>{0}</title></head><body><main>{1}</main></body></html>"
    (folder / "index.html").write_text(page.format(
        "index", '<a href="executed/chapter.html#results">chapter</a> <a href="executed/summary.html">summary</a>'))
    (folder / "executed" / "chapter.html").write_text(page.format("chapter", chapter_body))
    (folder / "executed" / "summary.html").write_text(page.format(
        "summary", '<figure id="forest-plot"><img src="../fig.png" alt="forest"></figure>'))
    return folder


GOOD_CHAPTER = ('<h1 id="results">Results</h1><img src="../fig.png" alt="a figure">'
                '<p>accuracy <span class="pasted-text">64.3%</span></p><a href="../index.html">home</a>')


@needs_chromium
def test_a_clean_synthetic_site_has_no_problems(tmp_path):
    site = _site(tmp_path / "site", GOOD_CHAPTER)
    assert check_book(site, summary="executed/summary.html", chapter="executed/chapter.html",
                      screenshots=tmp_path / "shots", methods=None) == []
    assert sorted(p.name for p in (tmp_path / "shots").iterdir()) == ["chapter.png", "summary.png"]


@needs_chromium
def test_every_kind_of_defect_is_reported(tmp_path):
    bad = ('<h1 id="other">Results</h1><img alt="figure without a source"><img src="../gone.png">'
           '<span class="pasted-text"> </span><pre>runs:  40%|####      | 4/10 [00:01&lt;00:02, 2.0it/s]</pre>'
           '<div class="cell tag_injected-parameters"><pre>profile = "smoke"</pre></div>'
           '<script>console.error("boom")</script><a href="missing.html">dead link</a>'
           '<p>an equation left as TeX: <span class="math">\\(x^2\\)</span></p>')
    site = _site(tmp_path / "site", bad)
    (site / "executed" / "summary.html").write_text("<html><body><main>no figure</main></body></html>")
    problems = check_book(site, summary="executed/summary.html", chapter=None)
    expected = ["executed/chapter.html: 1 of 1 equation(s) not typeset by MathJax",
                "executed/chapter.html: raw TeX \\( in the text",
                "methods.html: the methods page is missing",
                "executed/chapter.html: console error: boom",
                "executed/chapter.html: image None does not load",
                "executed/chapter.html: image '../gone.png' does not load",
                "executed/chapter.html: 1 glued value(s) are empty",
                "executed/chapter.html: progress-bar text '%|'",
                "executed/chapter.html: progress-bar text 'it/s]'",
                "executed/chapter.html: shows 1 cell(s) tagged 'injected-parameters'",
                "executed/chapter.html: broken link executed/missing.html (HTTP 404)",
                "executed/summary.html: no forest plot",
                "index.html: link executed/chapter.html#results names an anchor not on its page"]
    for text in expected:
        assert any(p.startswith(text) for p in problems), f"{text!r} not reported in:\n" + "\n".join(problems)


@needs_chromium
def test_a_figure_removed_from_a_chapter_fails_the_check(tmp_path):
    site = _site(tmp_path / "site", GOOD_CHAPTER.replace('src="../fig.png"', 'src=""'))
    problems = check_book(site, summary="executed/summary.html", chapter=None, methods=None)
    assert problems and all("image" in p for p in problems), problems


def test_a_folder_without_a_book_is_refused(tmp_path):
    if find_chromium() is None:
        pytest.skip("no Chromium found")
    with pytest.raises(FileNotFoundError, match="has no index.html"):
        check_book(tmp_path)

# --- equations offline, and the PDF: a small site whose methods page has MathJax from `mathjax_src` ------

MATHJAX_CDN = "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"
EQUATIONS = ('<p>The membrane <span class="math notranslate nohighlight">\\(V_t = \\lambda V_{t-1} + I_t\\)</span> '
             'spikes when</p><div class="math notranslate nohighlight">\\[S_t = \\Theta(V_t - \\vartheta)\\]</div>')


def _math_site(folder: Path, mathjax_src: str) -> Path:
    """A Jupyter-Book-like site: ``index.html`` redirects to ``intro.html``, whose next page is
    ``methods.html`` (two equations, MathJax loaded from ``mathjax_src``). The book's own MathJax (the
    files ``sphinx-mathjax-offline`` serves) is at ``_static/mathjax/``."""
    import importlib.util

    folder.mkdir(parents=True)
    (folder / "_static").mkdir()
    package = importlib.util.find_spec("sphinx-mathjax-offline").submodule_search_locations[0]
    (folder / "_static" / "mathjax").symlink_to(Path(package) / "static" / "mathjax", target_is_directory=True)
    page = ('<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title} &#8212; Book</title>{head}</head>'
            '<body><main><h1>{title}</h1>{body}</main></body></html>')
    (folder / "index.html").write_text('<meta http-equiv="Refresh" content="0; url=intro.html" />')
    (folder / "intro.html").write_text(page.format(
        title="Introduction", head='<link rel="next" title="Methods" href="methods.html" />',
        body='<p>See <a href="methods.html">the methods</a>.</p>'))
    (folder / "methods.html").write_text(page.format(
        title="Methods", head=f'<script defer src="{mathjax_src}"></script>', body=EQUATIONS))
    return folder


def test_the_pages_are_read_in_toc_order_from_the_root(tmp_path):
    site = _math_site(tmp_path / "site", "_static/mathjax/tex-chtml.js")
    assert reading_order(site) == [("intro.html", "Introduction"), ("methods.html", "Methods")]
    methods = (site / "methods.html").read_text()
    (site / "methods.html").write_text(methods.replace("</title>", '</title><link rel="next" href="intro.html">'))
    with pytest.raises(ValueError, match="loop back to intro.html"):
        reading_order(site)
    with pytest.raises(FileNotFoundError, match="has no index.html"):
        reading_order(tmp_path)
    with pytest.raises(ValueError, match="budget_ms must be a positive integer"):
        book_pdf(site, tmp_path / "book.pdf", budget_ms=0)


@needs_chromium
def test_equations_render_with_the_network_cut(tmp_path):
    site = _math_site(tmp_path / "site", "_static/mathjax/tex-chtml.js")
    assert check_book(site, summary=None, chapter=None) == []


@needs_chromium
def test_mathjax_from_a_cdn_fails_the_offline_check(tmp_path):
    site = _math_site(tmp_path / "site", MATHJAX_CDN)
    problems = check_book(site, summary=None, chapter=None)
    assert problems == [f"methods.html: needs the network: {MATHJAX_CDN}",
                        "methods.html: 2 of 2 equation(s) not typeset by MathJax",
                        "methods.html: raw TeX \\( in the text",
                        "methods.html: raw TeX \\[ in the text",
                        "methods.html: no equation typeset by MathJax (no <mjx-container>)"]


@needs_chromium
def test_a_site_prints_to_one_pdf_in_toc_order_with_its_equations_typeset(tmp_path):
    from pypdf import PdfReader

    site = _math_site(tmp_path / "site", "_static/mathjax/tex-chtml.js")
    made = book_pdf(site, tmp_path / "out" / "book.pdf")
    reader = PdfReader(tmp_path / "out" / "book.pdf")
    assert made == {**made, "pages": 2, "chapters": 2, "bytes": (tmp_path / "out" / "book.pdf").stat().st_size}
    assert [item.title for item in reader.outline] == ["Introduction", "Methods"]
    first, second = (_plain(page.extract_text()) for page in reader.pages)
    assert first.startswith("Introduction") and second.startswith("Methods")
    assert "V_t" not in second and "\\(" not in second and "\\[" not in second   # typeset, not TeX


@needs_chromium
def test_the_pdf_is_printed_without_the_network(tmp_path):
    site = _math_site(tmp_path / "site", MATHJAX_CDN)
    book_pdf(site, tmp_path / "book.pdf")
    assert "\\(V_t" in _plain(pdf_text(tmp_path / "book.pdf"))    # MathJax could not come from its CDN



def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Check a built book page by page in Chromium.")
    parser.add_argument("html", type=Path, help="the built book, e.g. book/_build/html")
    parser.add_argument("--summary", default=SUMMARY_PAGE, help=f"the page with the forest plot ({SUMMARY_PAGE})")
    parser.add_argument("--chapter", default=CHAPTER_PAGE, help=f"a chapter to screenshot ({CHAPTER_PAGE})")
    parser.add_argument("--methods", default=METHODS_PAGE,
                        help=f"the page that must show typeset equations ({METHODS_PAGE})")
    parser.add_argument("--screenshots", type=Path, default=ROOT / "build" / "screenshots",
                        help="where the screenshots go (build/screenshots)")
    args = parser.parse_args(argv)
    problems = check_book(args.html, summary=args.summary, screenshots=args.screenshots, chapter=args.chapter,
                          methods=args.methods)
    for problem in problems:
        print(problem)
    print(f"{len(pages(args.html))} pages checked, {len(problems)} problem(s); screenshots in {args.screenshots}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
