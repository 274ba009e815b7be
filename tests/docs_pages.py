"""Run the ``>>>`` examples of a Markdown page the way a reader would: in order, one namespace.

Each page runs in a working directory of its own that mirrors its place under ``docs/``, with
an ``images/`` folder beside it, so a page that saves ``images/tangent.png`` and shows
``![...](images/tangent.png)`` finds its picture there. The site build runs every page into a
copy of ``docs/`` and builds that copy, so the site shows the pictures the pages just made.
"""

from __future__ import annotations

import contextlib
import doctest
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def pages() -> list[Path]:
    """Every Markdown page under docs/, in a stable order."""
    return sorted(DOCS.rglob("*.md"))


@contextlib.contextmanager
def working_directory(path: Path):
    previous = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def run_page(page: Path, out_root: Path, out=None) -> doctest.TestResults:
    """Run ``page``'s examples with ``out_root/<its folder under docs>`` as the working directory.

    Returns doctest's (failed, attempted); a failure's report goes to ``out`` (a function
    taking text), by default stdout, where pytest shows it.
    """
    import matplotlib

    matplotlib.use("Agg")  # no screen on the test machines
    import matplotlib.pyplot as plt

    where = out_root / page.parent.relative_to(DOCS)
    (where / "images").mkdir(parents=True, exist_ok=True)
    text = page.read_text(encoding="utf-8")
    test = doctest.DocTestParser().get_doctest(text, {}, page.name, str(page), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    with working_directory(where):
        try:
            runner.run(test, out=out)
        finally:
            plt.close("all")
    return runner.summarize(verbose=False)


@dataclass
class DocsRun:
    """Every page run once into a copy of docs/ (``root``): the copy then holds the pictures
    the pages made, ready for the site build; ``results`` maps each page to doctest's
    (failed, attempted) and ``reports`` to the text of its failures."""

    root: Path
    results: dict[Path, doctest.TestResults] = field(default_factory=dict)
    reports: dict[Path, str] = field(default_factory=dict)


def run_all_pages(copy_root: Path) -> DocsRun:
    """Copy docs/ to ``copy_root`` and run every page's examples there, each in its folder."""
    shutil.copytree(DOCS, copy_root, dirs_exist_ok=True)
    run = DocsRun(copy_root)
    for page in pages():
        report: list[str] = []
        run.results[page] = run_page(page, copy_root, out=report.append)
        run.reports[page] = "".join(report)
    return run
