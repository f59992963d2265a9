"""Progress bars drawn on the terminal that launched a run, never into a notebook's output.

``terminal_bar(total, desc, unit="run", initial=0, reused=None, **kw)`` returns a tqdm bar.

Where it writes. A notebook executed by papermill runs in an IPython kernel, a child process that inherits
the terminal's file descriptor 2. ipykernel then replaces ``sys.stderr`` by a stream sent to the notebook
*and* redirects descriptor 2 itself into a pipe that also ends in the notebook; it keeps a copy of the
original descriptor as ``sys.stderr._original_stdstream_copy``. So ``sys.stderr``, ``sys.__stderr__`` and
``os.dup(2)`` all land in the executed notebook (checked with papermill 2.7 and ipykernel 7); only that
saved copy reaches the terminal. :func:`terminal_stream` opens a duplicate of it, or of
``sys.__stderr__`` outside a kernel (a script, ``python -m snnlib``, a kernel run without fd capture).

How it writes. On an interactive terminal (``isatty``) the bar is tqdm's usual one-line bar::

    runs:  40%|████      | 4/10 [00:12<00:18,  3.0s/run, reused=3]

done/total, elapsed < time left, and the runs reused from records as a postfix. Anywhere else (CI, a log
file, no terminal at all) it writes plain lines, one when it starts, one each time another tenth of the
total is done and one when it closes, with no carriage returns::

    runs: 4/10 (40%) [00:12<00:18, reused=3]
"""

from __future__ import annotations

import os
import sys

from tqdm import tqdm

from snnlib.checks import check_int

LINE_FORMAT = "{desc}: {n_fmt}/{total_fmt} ({percentage:.0f}%) [{elapsed}<{remaining}{postfix}]"
_terminal = None


def terminal_stream():
    """A text stream on the terminal that launched this process (see the module docstring).

    Opened once per process and kept open; ``os.devnull`` when there is no such terminal.
    """
    global _terminal
    if _terminal is not None and not _terminal.closed:
        return _terminal
    fd = getattr(sys.stderr, "_original_stdstream_copy", None)  # ipykernel: the terminal before capture
    try:
        if fd is None:
            fd = sys.__stderr__.fileno()
        _terminal = open(os.dup(fd), "w", buffering=1, encoding="utf-8", errors="replace")
    except (AttributeError, OSError, ValueError):  # no stderr at all (pythonw, closed descriptor)
        _terminal = open(os.devnull, "w", encoding="utf-8")
    return _terminal


class LineBar(tqdm):
    """A tqdm bar for non-interactive output: a whole line at the start, at every tenth of ``total`` and
    at the end (or where it stopped), never a carriage return."""

    def __init__(self, *args, **kw):
        self._shown = None  # (tenth, n) of the last line written
        kw.setdefault("bar_format", LINE_FORMAT)
        super().__init__(*args, mininterval=0, miniters=1, **kw)

    def _tenth(self) -> int:
        return 10 * self.n // self.total if self.total else 0

    def display(self, msg=None, pos=None):
        if msg == "":  # tqdm clearing its line: there is nothing to clear
            return False
        if self._shown is None or self._shown[0] != self._tenth():
            self._write()
        return True

    def _write(self):
        self._shown = (self._tenth(), self.n)
        self.fp.write(self.__str__() + "\n")
        self.fp.flush()

    def close(self):
        if not self.disable and getattr(self, "_shown", None) is not None:
            if self._shown[1] != self.n:  # stopped between two tenths: say where
                self._write()
            self.leave = False  # the last line is written: tqdm must not redraw or clear it
        super().close()


def terminal_bar(total: int, desc: str, unit: str = "run", initial: int = 0, reused: int | None = None, **kw):
    """A tqdm progress bar over ``total`` items on the launching terminal (never in a notebook).

    Args:
        total: number of items to do (``initial`` of them already done).
        desc: what is counted, shown first ("runs").
        unit: the unit of the rate ("run" -> "3.0s/run").
        reused: shown as the postfix ``reused=N`` (runs read back from records, not counted in ``total``).
        **kw: passed to tqdm (``disable=True`` for no bar; ``file=`` to write elsewhere, e.g. in tests).

    An interactive terminal gets tqdm's redrawn bar; anything else plain lines at every tenth
    (see the module docstring).
    """
    check_int("total", total, minimum=0)
    check_int("initial", initial, minimum=0)
    if initial > total:
        raise ValueError(f"initial must be at most total ({total}), got {initial}")
    stream = kw.pop("file", None) or terminal_stream()
    if reused is not None:
        kw.setdefault("postfix", {"reused": reused})
    try:
        interactive = stream.isatty()
    except (AttributeError, ValueError):
        interactive = False
    common = dict(total=total, desc=desc, unit=unit, initial=initial, file=stream)
    if interactive:
        kw.setdefault("dynamic_ncols", True)
        kw.setdefault("mininterval", 0.5)
        return tqdm(**common, **kw)
    return LineBar(**common, **kw)
