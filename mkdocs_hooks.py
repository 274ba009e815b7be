"""What the documentation site needs beyond mkdocs and mkdocstrings (see mkdocs.yml).

- ``on_config`` (an mkdocs hook): pages written in parallel branches (the tutorials, the
  gallery) and reference pages of modules not in this tree yet (``chainrule.viz``) are left
  out of the nav and the build, each named in the log, so the site builds in strict mode at
  every stage of a merge. Nothing else is forgiven: a broken link still fails the build.
- ``on_page_markdown``: a page's ``<!-- tutorials -->`` line becomes the list of the
  tutorials in the nav, so the home page links to each one that is there and to none that
  is not; a line linking to a page left out (a row of the reference's table) is dropped.
- ``DoctestAsCode`` (a Griffe extension, named in mkdocs.yml): docstrings hold ``>>>``
  examples in plain doctest form, which Markdown would read as nested quotes; it fences each
  run of examples as a ``pycon`` code block before the docstring is rendered.
"""

from __future__ import annotations

import logging
import posixpath
import re
from pathlib import Path

log = logging.getLogger("mkdocs.hooks.chainrule")

# `::: chainrule.viz.plots` in a reference page: the module it documents
_DIRECTIVE = re.compile(r"^:::\s+([\w.]+)", re.MULTILINE)


def module_exists(name: str, src: Path) -> bool:
    """Whether the dotted module ``name`` (or a package, or an object in one) is under ``src``."""
    parts = name.split(".")
    while parts:
        path = src.joinpath(*parts)
        if path.with_suffix(".py").is_file() or (path / "__init__.py").is_file():
            return True
        parts = parts[:-1]  # chainrule.nn.Linear: an object in chainrule/nn
        if len(parts) == 1:
            return False
    return False


def missing_reason(page: Path, src: Path) -> str | None:
    """Why ``page`` cannot be built here (it does not exist, or documents a missing module)."""
    if not page.is_file():
        return "the page does not exist yet"
    for name in _DIRECTIVE.findall(page.read_text(encoding="utf-8")):
        if not module_exists(name, src):
            return f"it documents {name}, which is not in this tree"
    return None


def prune_nav(nav: list, docs_dir: Path, src: Path, left_out: list[str]) -> list:
    """``nav`` without the pages that cannot be built (recorded in ``left_out``) and sections
    left empty."""
    kept = []
    for entry in nav:
        title, target = next(iter(entry.items())) if isinstance(entry, dict) else (None, entry)
        if isinstance(target, list):
            children = prune_nav(target, docs_dir, src, left_out)
            if children:
                kept.append({title: children})
            continue
        if isinstance(target, str) and not re.match(r"^[a-z]+://", target):
            reason = missing_reason(docs_dir / target, src)
            if reason is not None:
                left_out.append(f"{target} ({reason})")
                continue
        kept.append(entry)
    return kept


def on_config(config, **kwargs):
    docs_dir = Path(config["docs_dir"])
    src = Path(__file__).resolve().parent / "src"  # the sources beside this file
    left_out: list[str] = []
    if config["nav"]:
        config["nav"] = prune_nav(config["nav"], docs_dir, src, left_out)
    # a reference page of a missing module is also kept out of the build itself
    for page in sorted((docs_dir / "reference").glob("*.md")):
        reason = missing_reason(page, src)
        if reason is not None and str(page.relative_to(docs_dir)) not in " ".join(left_out):
            left_out.append(f"{page.relative_to(docs_dir)} ({reason})")
    excluded = [entry.split(" (")[0] for entry in left_out]
    _LEFT_OUT[:] = excluded
    if excluded:
        config["exclude_docs"] = _with_excluded(config.get("exclude_docs"), excluded)
    for entry in left_out:
        log.info("left out of the site: %s", entry)
    _TUTORIALS[:] = [
        next(iter(entry.items()))
        for section in config["nav"] or []
        if isinstance(section, dict) and "Tutorials" in section
        for entry in section["Tutorials"]
    ]
    return config


# (title, path) of each tutorial in the nav, in order, and the pages left out (paths under
# docs/); set by on_config
_TUTORIALS: list[tuple[str, str]] = []
_LEFT_OUT: list[str] = []
TUTORIALS_MARKER = "<!-- tutorials -->"


def tutorial_list(page_path: str) -> str:
    """The tutorials as a Markdown list of links relative to the page at ``page_path``."""
    here = posixpath.dirname(page_path)
    return "\n".join(
        f"- [{title}]({posixpath.relpath(path, here or '.')})" for title, path in _TUTORIALS
    )


def on_page_markdown(markdown: str, page, **kwargs) -> str:
    if TUTORIALS_MARKER in markdown:
        listed = tutorial_list(page.file.src_uri) or "(The tutorials are being written.)"
        markdown = markdown.replace(TUTORIALS_MARKER, listed)
    here = posixpath.dirname(page.file.src_uri) or "."
    targets = [posixpath.relpath(path, here) for path in _LEFT_OUT]
    if targets:
        links = re.compile("|".join(rf"\]\({re.escape(t)}[)#]" for t in targets))
        markdown = "\n".join(line for line in markdown.split("\n") if not links.search(line))
    return markdown


def _with_excluded(exclude_docs, paths: list[str]):
    """mkdocs's exclude_docs (a gitignore-style pattern list) with ``paths`` added."""
    from pathspec.gitignore import GitIgnoreSpec  # mkdocs's own type for exclude_docs

    lines = list(exclude_docs.patterns) if exclude_docs is not None else []
    lines += ["/" + path for path in paths]
    return GitIgnoreSpec.from_lines(lines)


# -- docstrings: doctest examples as code blocks ------------------------------------------------

_FENCE = re.compile(r"^\s*(```|~~~)")


def fence_doctests(text: str) -> str:
    """``text`` with each run of doctest lines (``>>>`` and what follows up to a blank line)
    inside a ``pycon`` fence, at the run's own indentation.

    >>> print(fence_doctests("Twice x.\\n\\n>>> 2 * 3\\n6\\n\\nMore."))
    Twice x.
    <BLANKLINE>
    ```pycon
    >>> 2 * 3
    6
    ```
    <BLANKLINE>
    More.
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
