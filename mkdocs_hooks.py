"""What the documentation site needs beyond mkdocs and mkdocstrings (see mkdocs.yml).

- ``on_config`` and ``on_page_markdown`` (mkdocs hooks): a page's ``<!-- tutorials -->``
  line becomes the list of the tutorials in the nav, so the home page's list cannot drift
  from the nav.
- ``on_pre_build``: the pictures are not committed, the pages draw them. A page that shows a
  picture missing from its ``images/`` folder is run first (its examples, as the tests run
  them), so ``mkdocs build`` and ``mkdocs serve`` work on a fresh clone. The folders are
  ignored by git.
- ``DoctestAsCode`` (a Griffe extension, named in mkdocs.yml): docstrings hold ``>>>``
  examples in plain doctest form, which Markdown would read as nested quotes; it fences each
  run of examples as a ``pycon`` code block before the docstring is rendered.
"""

from __future__ import annotations

import logging
import posixpath
import re
import shutil
import sys
import tempfile
from pathlib import Path

log = logging.getLogger("mkdocs.hooks.chainrule")

_PICTURE = re.compile(r"!\[[^\]]*\]\((images/[^)\s]+)\)")


def pages_missing_pictures(docs_dir: Path) -> list[Path]:
    """The pages under ``docs_dir`` that show a picture not yet drawn."""
    return [
        page
        for page in sorted(docs_dir.rglob("*.md"))
        if any(
            not (page.parent / name).is_file()
            for name in _PICTURE.findall(page.read_text(encoding="utf-8"))
        )
    ]


def on_pre_build(config, **kwargs):
    docs_dir = Path(config["docs_dir"])
    missing = pages_missing_pictures(docs_dir)
    if not missing:
        return
    root = Path(__file__).resolve().parent
    sys.path.insert(0, str(root))  # the runner lives with the tests
    from tests.docs_pages import DOCS, run_page

    # run in a scratch folder (pages also write checkpoints and tour folders); keep the pictures
    with tempfile.TemporaryDirectory() as scratch:
        for page in missing:
            where = page.parent.relative_to(docs_dir)
            log.info("drawing the pictures of %s", page.relative_to(docs_dir))
            failed, _ = run_page(DOCS / page.relative_to(docs_dir), Path(scratch), out=log.warning)
            if failed:
                log.warning("%s: %d examples failed", page.relative_to(docs_dir), failed)
            shutil.copytree(
                Path(scratch) / where / "images", docs_dir / where / "images", dirs_exist_ok=True
            )


def on_config(config, **kwargs):
    _TUTORIALS[:] = [
        next(iter(entry.items()))
        for section in config["nav"] or []
        if isinstance(section, dict) and "Tutorials" in section
        for entry in section["Tutorials"]
    ]
    return config


# (title, path) of each tutorial in the nav, in order; set by on_config
_TUTORIALS: list[tuple[str, str]] = []
TUTORIALS_MARKER = "<!-- tutorials -->"


def tutorial_list(page_path: str) -> str:
    """The tutorials as a Markdown list of links relative to the page at ``page_path``."""
    here = posixpath.dirname(page_path)
    return "\n".join(
        f"- [{title}]({posixpath.relpath(path, here or '.')})" for title, path in _TUTORIALS
    )


def on_page_markdown(markdown: str, page, **kwargs) -> str:
    if TUTORIALS_MARKER in markdown:
        markdown = markdown.replace(TUTORIALS_MARKER, tutorial_list(page.file.src_uri))
    return markdown


# -- docstrings: doctest examples as code blocks ------------------------------------------------

_FENCE = re.compile(r"^\s*(```|~~~)")


def fence_doctests(text: str) -> str:
    """``text`` with each run of doctest lines (``>>>`` and what follows up to a blank line)
    inside a ``pycon`` fence, at the run's own indentation.

    >>> fence_doctests("Twice x.\\n\\n>>> 2 * 3\\n6\\n\\nMore.").splitlines()
    ['Twice x.', '', '```pycon', '>>> 2 * 3', '6', '```', '', 'More.']
    """
    out: list[str] = []
    lines = text.splitlines()
    in_fence = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if _FENCE.match(line):
            in_fence = not in_fence
        if in_fence or not line.lstrip().startswith(">>>"):
            out.append(line)
            i += 1
            continue
        indent = line[: len(line) - len(line.lstrip())]
        out.append(indent + "```pycon")
        while i < len(lines) and lines[i].strip():
            out.append(lines[i])
            i += 1
        out.append(indent + "```")
    return "\n".join(out)


try:
    import griffe
except ImportError:  # the hooks above do not need it
    griffe = None

if griffe is not None:

    class DoctestAsCode(griffe.Extension):
        """Fence every docstring's doctest examples (see ``fence_doctests``)."""

        def on_object(self, *, obj, **kwargs) -> None:
            if obj.docstring is not None and ">>>" in obj.docstring.value:
                obj.docstring.value = fence_doctests(obj.docstring.value)
