"""The built book, checked page by page in a real browser (Playwright driving the system Chromium).

:func:`check_book` serves a built HTML book on a local port, opens every page and returns the problems it
finds (an empty list when there are none):

- a page that does not load, or logs a console error or an uncaught exception;
- an ``<img>`` that does not load (no ``src``, a missing file: natural size 0);
- a glued value (myst-nb renders ``{glue:text}`` as ``<span class="pasted-text">``) that is empty, and any
  rendering error left in the page (``.problematic``, ``.system-message``, a raw ``{glue:`` role);
- a same-site link whose page is missing (HTTP 404) or whose ``#anchor`` is not on the page it names;
- progress-bar text (``it/s]``, ``%|``, ``s/run]``) or a ``parameters`` / ``injected-parameters`` cell;
- a summary page without its forest plot: a ``<figure id="forest-plot">`` holding a loaded image (myst-nb's
  ``{glue:figure} forest_plot`` with ``:name: "forest-plot"``).

It saves full-page screenshots of the summary page and of one chapter when asked. From the command line::

    python tests/test_browser.py book/_build/html [--screenshots build/screenshots]

The test builds the ``smoke`` book into a temporary folder (every notebook run with ``python -m snnlib run
NB --profile smoke``, then ``jupyter-book build``), or checks the book at ``$SNNLIB_BOOK_HTML`` if set. It is
skipped, saying why, only when no Chromium is installed (``apt-get install -y chromium``; Playwright's own
browser download is not used).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urldefrag, urljoin

import pytest

ROOT = Path(__file__).resolve().parent.parent
SUMMARY_PAGE = "executed/05_summary.html"
CHAPTER_PAGE = "executed/01_dynamics_and_baseline.html"
PROGRESS_MARKERS = ("it/s]", "%|", "s/it]", "run/s]", "s/run]", "cell/s]")
HIDDEN_CELL_TAGS = ("parameters", "injected-parameters")
# Console errors of the theme itself, on every Jupyter Book 1.0.4 page, harmless: not the book's defects.
KNOWN_CONSOLE_ERRORS = (
    "Identifier 'THEBE_JS_URL' has already been declared",  # sphinx-thebe 0.3.1 emits its config script twice
    "Got invalid theme mode: . Resetting to auto.",          # pydata-sphinx-theme, first page of a session
)

_PAGE_FACTS = """async () => {
  const images = [...document.images];
  for (const img of images) img.loading = "eager";
  await Promise.all(images.map(img => img.complete ? null : new Promise(done => {
    img.addEventListener("load", done); img.addEventListener("error", done); setTimeout(done, 5000); })));
  const main = document.querySelector("main") || document.body || document.documentElement;
  const forest = document.querySelector("#forest-plot");
  const forestImg = forest && (forest.tagName === "IMG" ? forest : forest.querySelector("img"));
  return {
    images: images.map(img => ({src: img.getAttribute("src"), width: img.naturalWidth, height: img.naturalHeight})),
    glued: [...document.querySelectorAll(".pasted-text, .pasted-inline")].map(e => e.textContent.trim()),
    errors: [...document.querySelectorAll(".problematic, .system-message")].map(e => e.textContent.trim().slice(0, 120)),
    text: main.textContent,
    hiddenCells: %s.map(tag => [tag, document.querySelectorAll(".tag_" + tag).length]),
    links: [...document.querySelectorAll("a[href]")].map(a => a.href),
    ids: [...document.querySelectorAll("[id]")].map(e => e.id),
    forest: forestImg ? forestImg.naturalWidth * forestImg.naturalHeight : null,
  };
}""" % list(HIDDEN_CELL_TAGS)


def find_chromium() -> str | None:
    """The system Chromium (Debian's ``chromium``), or ``None``."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if found := shutil.which(name):
            return found
    return None


@contextlib.contextmanager
def serve(directory: Path):
    """A quiet HTTP server of ``directory`` on a free local port; yields its base URL."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


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
               chromium: str | None = None) -> list[str]:
    """Open every page of the built book in ``html_dir`` in Chromium; return the problems found (see the
    module docstring), each as ``"page: what"``. ``summary`` (a path relative to ``html_dir``, or ``None``)
    is the page that must show the forest plot; with ``screenshots`` (a folder), full-page PNGs of the
    summary page and of ``chapter`` are saved there."""
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
        page.route(lambda url: not url.startswith(base), lambda route: route.abort())
        page.on("console", lambda message: logged.append(_console_text(message, base))
                if message.type == "error" else None)
        page.on("pageerror", lambda error: logged.append(
            None if any(known in str(error) for known in KNOWN_CONSOLE_ERRORS) else f"uncaught {error}"))
        for name in names:
            logged.clear()
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
            if name == summary and not facts["forest"]:
                problems.append(f"{name}: no forest plot (a figure named 'forest-plot' with a loaded image)")
            links[name], ids[base + name] = facts["links"], set(facts["ids"])
            if screenshots is not None and name in (summary, chapter):
                Path(screenshots).mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(Path(screenshots) / f"{Path(name).stem}.png"), full_page=True)
        browser.close()
        if summary is not None and summary not in names:
            problems.append(f"{summary}: the summary page is missing")
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


@needs_chromium
def test_the_smoke_book_passes_every_page_check(tmp_path_factory):
    given = os.environ.get("SNNLIB_BOOK_HTML")
    html = Path(given) if given else _build_smoke_book(tmp_path_factory.mktemp("smoke-book"))
    shots = ROOT / "build" / "screenshots"
    problems = check_book(html, screenshots=shots)
    assert problems == [], "\n".join(problems)
    assert (shots / f"{Path(SUMMARY_PAGE).stem}.png").is_file()
    assert (shots / f"{Path(CHAPTER_PAGE).stem}.png").is_file()


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
                      screenshots=tmp_path / "shots") == []
    assert sorted(p.name for p in (tmp_path / "shots").iterdir()) == ["chapter.png", "summary.png"]


@needs_chromium
def test_every_kind_of_defect_is_reported(tmp_path):
    bad = ('<h1 id="other">Results</h1><img alt="figure without a source"><img src="../gone.png">'
           '<span class="pasted-text"> </span><pre>runs:  40%|####      | 4/10 [00:01&lt;00:02, 2.0it/s]</pre>'
           '<div class="cell tag_injected-parameters"><pre>profile = "smoke"</pre></div>'
           '<script>console.error("boom")</script><a href="missing.html">dead link</a>')
    site = _site(tmp_path / "site", bad)
    (site / "executed" / "summary.html").write_text("<html><body><main>no figure</main></body></html>")
    problems = check_book(site, summary="executed/summary.html", chapter=None)
    expected = ["executed/chapter.html: console error: boom",
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
    problems = check_book(site, summary="executed/summary.html", chapter=None)
    assert problems and all("image" in p for p in problems), problems


def test_a_folder_without_a_book_is_refused(tmp_path):
    if find_chromium() is None:
        pytest.skip("no Chromium found")
    with pytest.raises(FileNotFoundError, match="has no index.html"):
        check_book(tmp_path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Check a built book page by page in Chromium.")
    parser.add_argument("html", type=Path, help="the built book, e.g. book/_build/html")
    parser.add_argument("--summary", default=SUMMARY_PAGE, help=f"the page with the forest plot ({SUMMARY_PAGE})")
    parser.add_argument("--chapter", default=CHAPTER_PAGE, help=f"a chapter to screenshot ({CHAPTER_PAGE})")
    parser.add_argument("--screenshots", type=Path, default=ROOT / "build" / "screenshots",
                        help="where the screenshots go (build/screenshots)")
    args = parser.parse_args(argv)
    problems = check_book(args.html, summary=args.summary, screenshots=args.screenshots, chapter=args.chapter)
    for problem in problems:
        print(problem)
    print(f"{len(pages(args.html))} pages checked, {len(problems)} problem(s); screenshots in {args.screenshots}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
