"""The built book as one PDF, printed offline by the system Chromium: ``book_pdf(html_dir, out)``.

From the command line (``make pdf`` runs it on ``book/_build/html``)::

    python -m snnlib.study.pdf book/_build/html book/_build/pdf/book.pdf

1. The pages, in the order of the toc (:func:`reading_order`): the root page (``index.html``, or the page
   its meta refresh names), then each page's ``<link rel="next">``, which Sphinx writes in toctree order,
   until a page has none. The index, search and module-index pages are not in the toc and not printed.
2. Each page is printed by ``chromium --headless --print-to-pdf`` from a local HTTP server of
   ``html_dir`` (:func:`serve`). Nothing else can be reached: every host name but the local one resolves
   to nothing and every request not to the local server goes to a proxy that does not exist, so a page
   that needs the network (MathJax from a CDN) prints without it. ``--virtual-time-budget`` lets the
   page's scripts run -- MathJax typesets every equation -- before the page is printed.
3. The pages' PDFs are merged with pypdf into one file, with one bookmark per page named by its title.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import html
import http.server
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag

#: Chromium's executable names, the first one found on ``PATH`` is used.
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: Milliseconds of virtual time a page's scripts get before it is printed (MathJax typesets in well under 1 s).
DEFAULT_BUDGET_MS = 15_000
#: Seconds one page may take to print before Chromium is stopped.
PAGE_TIMEOUT_S = 180


def find_chromium() -> str | None:
    """The system Chromium (Debian's ``chromium``), or ``None``."""
    for name in CHROMIUM_NAMES:
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


class _Head(HTMLParser):
    """What :func:`reading_order` needs from a page: its title, its ``<link rel="next">`` and the target of a
    ``<meta http-equiv="refresh">``."""

    def __init__(self):
        super().__init__()
        self.title, self.next, self.refresh, self._in_title = "", None, None, False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "title":
            self._in_title = True
        elif tag == "link" and (attrs.get("rel") or "").lower() == "next" and attrs.get("href"):
            self.next = self.next or attrs["href"]
        elif tag == "meta" and (attrs.get("http-equiv") or "").lower() == "refresh":
            content = attrs.get("content") or ""
            if "url=" in content.lower():
                self.refresh = content[content.lower().index("url=") + 4:].strip().strip("'\"")

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data


def _head(page: Path) -> _Head:
    parser = _Head()
    parser.feed(page.read_text(encoding="utf-8", errors="replace"))
    return parser


def page_title(page) -> str:
    """The title of the HTML page at ``page``: its ``<title>`` without the book's title after the last
    " — " (Sphinx writes ``Page — Book``)."""
    title = html.unescape(_head(Path(page)).title).strip()
    return title.rsplit(" \u2014 ", 1)[0].strip() if " \u2014 " in title else title


def _resolve(html_dir: Path, page: str, href: str) -> str:
    """``href``, relative to ``page``, as a path relative to ``html_dir``; ``ValueError`` when it leaves it."""
    target = (html_dir / page).parent / unquote(urldefrag(href)[0])
    try:
        return target.resolve().relative_to(html_dir.resolve()).as_posix()
    except ValueError:
        raise ValueError(f"{page} links to {href!r}, outside the book {html_dir}") from None


def reading_order(html_dir) -> list[tuple[str, str]]:
    """The book's pages in toc order, each as ``(path relative to html_dir, its page_title)``: the root
    page, then every ``<link rel="next">`` in turn."""
    html_dir = Path(html_dir)
    if not (html_dir / "index.html").is_file():
        raise FileNotFoundError(f"html_dir {html_dir} is not a built book: it has no index.html")
    name, order, seen = "index.html", [], set()
    head = _head(html_dir / name)
    if head.refresh:                                   # Jupyter Book's index.html redirects to the root page
        name = _resolve(html_dir, name, head.refresh)
    while name is not None:
        if name in seen:
            raise ValueError(f"the pages' next links loop back to {name}")
        if not (html_dir / name).is_file():
            raise FileNotFoundError(f"{name} is named as the next page but is not in {html_dir}")
        seen.add(name)
        order.append((name, page_title(html_dir / name)))
        head = _head(html_dir / name)
        name = _resolve(html_dir, name, head.next) if head.next else None
    return order


def chromium_command(chromium: str, url: str, out: Path, profile: Path, budget_ms: int) -> list[str]:
    """The command that prints ``url`` to ``out`` headless and offline (see the module docstring)."""
    return [chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
            "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-sync",
            "--disable-background-networking", "--disable-component-update", "--disable-default-apps",
            "--disable-domain-reliability", "--no-pings",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",   # no name but the local one resolves
            "--proxy-server=http://127.0.0.1:9",   # any request not to 127.0.0.1 (which bypasses it) fails
            f"--virtual-time-budget={budget_ms}", "--run-all-compositor-stages-before-draw",
            "--no-pdf-header-footer", f"--print-to-pdf={out}", url]


def book_pdf(html_dir, out, chromium: str | None = None, budget_ms: int = DEFAULT_BUDGET_MS,
             log=None) -> dict:
    """Print every page of the built book ``html_dir`` in toc order and merge them into ``out`` (one PDF, a
    bookmark per page). ``log`` (e.g. ``print``) is told each page as it is printed. Returns
    ``{"pages": pages of the PDF, "chapters": pages of the book, "bytes": size of out, "seconds": wall time}``."""
    from pypdf import PdfReader, PdfWriter

    if isinstance(budget_ms, bool) or not isinstance(budget_ms, int) or budget_ms <= 0:
        raise ValueError(f"budget_ms must be a positive integer (milliseconds of virtual time), got {budget_ms!r}")
    chromium = chromium or find_chromium()
    if chromium is None:
        raise RuntimeError("no Chromium found: install it (apt-get install -y chromium)")
    html_dir, out = Path(html_dir), Path(out)
    order = reading_order(html_dir)
    started = time.perf_counter()
    writer = PdfWriter()
    with tempfile.TemporaryDirectory(prefix="book-pdf-") as tmp, serve(html_dir) as base:
        for i, (name, title) in enumerate(order):
            part = Path(tmp) / f"{i:03d}.pdf"
            command = chromium_command(chromium, base + name, part, Path(tmp) / "profile", budget_ms)
            try:
                done = subprocess.run(command, capture_output=True, text=True, timeout=PAGE_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                raise RuntimeError(f"Chromium took over {PAGE_TIMEOUT_S} s to print {name}") from None
            if done.returncode != 0 or not part.is_file() or part.stat().st_size == 0:
                raise RuntimeError(f"Chromium could not print {name} (exit status {done.returncode}):\n"
                                   f"{done.stderr[-2000:]}")
            writer.append(str(part), outline_item=title)
            if log is not None:
                log(f"{name}: {len(PdfReader(part).pages)} page(s)")
        writer.add_metadata({"/Title": order[0][1]})       # the root page's title is the book's
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "wb") as stream:
            writer.write(stream)
    return {"pages": len(PdfReader(out).pages), "chapters": len(order), "bytes": out.stat().st_size,
            "seconds": time.perf_counter() - started}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m snnlib.study.pdf",
                                     description="Print a built Jupyter Book to one PDF, offline, with Chromium.")
    parser.add_argument("html_dir", type=Path, help="the built book, e.g. book/_build/html")
    parser.add_argument("out", type=Path, help="the PDF to write, e.g. book/_build/pdf/book.pdf")
    parser.add_argument("--chromium", help="Chromium's executable (default: the first of %s on PATH)"
                        % ", ".join(CHROMIUM_NAMES))
    parser.add_argument("--budget-ms", type=int, default=DEFAULT_BUDGET_MS,
                        help=f"virtual time for a page's scripts before it is printed ({DEFAULT_BUDGET_MS})")
    args = parser.parse_args(argv)
    try:
        made = book_pdf(args.html_dir, args.out, chromium=args.chromium, budget_ms=args.budget_ms,
                        log=lambda line: print(line, file=sys.stderr))
    except (FileNotFoundError, ValueError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{args.out}: {made['pages']} pages from {made['chapters']} book pages, "
          f"{made['bytes'] / 1e6:.1f} MB, in {made['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
