"""The documentation site builds offline in strict mode, from the pages just run.

The ``docs_run`` fixture (conftest.py) has run every page into a copy of docs/, so the copy
holds the pictures the pages made; this builds that copy with the repository's mkdocs.yml and
checks the result: no warning, every tutorial there, every picture found, nothing loaded from
the internet, the reference generated from the docstrings.
"""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

import mkdocs_hooks
from tests.docs_pages import DOCS, ROOT

yaml = pytest.importorskip("yaml", reason="the site needs mkdocs: pip install -e .[dev]")
pytest.importorskip("mkdocs", reason="the site needs mkdocs: pip install -e .[dev]")
pytest.importorskip("mkdocstrings_handlers.python", reason="needs mkdocstrings-python")

TUTORIALS = sorted((DOCS / "tutorials").glob("*.md"))


def site_config(docs_dir: Path, site_dir: Path) -> dict:
    """mkdocs.yml with the docs and site folders moved and its own paths made absolute."""
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    config["docs_dir"] = str(docs_dir)
    config["site_dir"] = str(site_dir)
    config["hooks"] = [str(ROOT / hook) for hook in config["hooks"]]
    for plugin in config["plugins"]:
        if isinstance(plugin, dict) and "mkdocstrings" in plugin:
            python = plugin["mkdocstrings"]["handlers"]["python"]
            python["paths"] = [str(ROOT / path) for path in python["paths"]]
            options = python["options"]
            options["extensions"] = [str(ROOT / ext) for ext in options["extensions"]]
    return config


@pytest.fixture(scope="module")
def site(docs_run, tmp_path_factory):
    """The site built from the run copy of docs/: (site folder, mkdocs's log)."""
    where = tmp_path_factory.mktemp("site")
    config_file = where / "mkdocs.yml"
    config_file.write_text(yaml.safe_dump(site_config(docs_run.root, where / "site")))
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config_file)],
        capture_output=True,
        text=True,
        cwd=where,
        timeout=300,
    )
    log = build.stdout + build.stderr
    assert build.returncode == 0, f"mkdocs build --strict failed:\n{log}"
    return where / "site", log


def built_pages(site_dir: Path) -> list[Path]:
    return sorted(site_dir.rglob("*.html"))


class _Refs(HTMLParser):
    """The images, scripts and stylesheets an HTML page loads."""

    def __init__(self):
        super().__init__()
        self.images: list[str] = []
        self.loads: list[str] = []  # scripts and stylesheets

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img" and attrs.get("src"):
            self.images.append(attrs["src"])
        if tag == "script" and attrs.get("src"):
            self.loads.append(attrs["src"])
        if tag == "link" and attrs.get("href") and "stylesheet" in (attrs.get("rel") or ""):
            self.loads.append(attrs["href"])
        if tag == "link" and attrs.get("href") and "preload" in (attrs.get("rel") or ""):
            self.loads.append(attrs["href"])


def refs(page: Path) -> _Refs:
    parser = _Refs()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def is_external(url: str) -> bool:
    return urlsplit(url).scheme in ("http", "https") or url.startswith("//")


def test_site_builds_without_warnings(site):
    _, log = site
    warnings = [line for line in log.splitlines() if line.startswith(("WARNING", "ERROR"))]
    assert warnings == []


def test_every_page_is_in_the_site(site):
    site_dir, _ = site
    for built in ["index.html", "cli/index.html", "hiker/index.html", "reference/index.html"]:
        assert (site_dir / built).is_file(), built
    home = (site_dir / "index.html").read_text(encoding="utf-8")
    for tutorial in TUTORIALS:
        built = site_dir / "tutorials" / tutorial.stem / "index.html"
        assert built.is_file(), f"{tutorial.name} is not in the site"
        # the home page lists every tutorial (the hook's <!-- tutorials --> list)
        assert f'href="tutorials/{tutorial.stem}/"' in home, f"home does not link {tutorial.name}"


def test_every_picture_resolves(site):
    site_dir, _ = site
    missing = []
    for page in built_pages(site_dir):
        for src in refs(page).images:
            if src.startswith("data:"):
                continue
            assert not is_external(src), f"{page.relative_to(site_dir)} loads {src}"
            target = (page.parent / unquote(urlsplit(src).path)).resolve()
            if not target.is_file():
                missing.append(f"{page.relative_to(site_dir)}: {src}")
    assert missing == []


def test_pictures_made_by_the_pages_are_in_the_site(docs_run, site):
    site_dir, _ = site
    made = sorted(p.relative_to(docs_run.root) for p in docs_run.root.rglob("images/*.*"))
    assert [p for p in made if not (site_dir / p).is_file()] == []


def test_nothing_is_loaded_from_the_internet(site):
    site_dir, _ = site
    external = [
        f"{page.relative_to(site_dir)}: {url}"
        for page in built_pages(site_dir)
        for url in refs(page).loads
        if is_external(url)
    ]
    # stylesheets pull fonts and other sheets with url(...) and @import
    css_url = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])((?:https?:)?//[^'")\s]+)""")
    for sheet in sorted(site_dir.rglob("*.css")):
        external += [
            f"{sheet.relative_to(site_dir)}: {url}"
            for url in css_url.findall(sheet.read_text(encoding="utf-8", errors="replace"))
        ]
    assert external == []


@pytest.mark.parametrize(
    ("page", "names"),
    [
        ("func", ["value_and_grad", "jacobian", "hessian", "hvp", "derivative"]),
        ("tensor", ["Tensor", "backward", "zeros", "manual_seed"]),
        ("scalar", ["Scalar", "sigmoid", "topological_order"]),
        ("numeric", ["gradcheck", "numerical_grad"]),
        ("nn", ["Linear", "CrossEntropyLoss", "Sequential", "fit"]),
        ("optim", ["Adam", "SGD", "StepLR"]),
        ("descent", ["descend", "Trajectory", "lr_sweep"]),
        ("io", ["save", "load"]),
        ("data", ["DataLoader", "make_moons"]),
    ],
)
def test_reference_pages_document_the_api(site, page, names):
    site_dir, _ = site
    html = (site_dir / "reference" / page / "index.html").read_text(encoding="utf-8")
    for name in names:
        # mkdocstrings gives each documented object an anchor with its dotted path
        assert re.search(rf'id="chainrule\.[\w.]*\b{name}"', html), f"{name} not in {page}"
    # the docstrings' examples are shown as code, not as Markdown quotes
    assert 'class="language-pycon"' in html
    assert "<blockquote>\n<blockquote>" not in html


# -- the hooks, without a build ----------------------------------------------------------------


def test_fence_doctests_wraps_each_run_of_examples():
    text = "Sum.\n\n    >>> 1 + 1\n    2\n    >>> x = 3\n\nAnd more.\n\n```\n>>> kept\n```"
    fenced = mkdocs_hooks.fence_doctests(text).splitlines()
    assert fenced[2:7] == ["    ```pycon", "    >>> 1 + 1", "    2", "    >>> x = 3", "    ```"]
    assert fenced[-3:] == ["```", ">>> kept", "```"]  # already in a code block: untouched


def test_a_page_whose_pictures_are_missing_is_found_to_be_run_first(tmp_path):
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "page.md").write_text("# P\n\n![a curve](images/curve.png)\n")
    (tmp_path / "plain.md").write_text("# No pictures\n\n[a link](t/page.md)\n")
    assert mkdocs_hooks.pages_missing_pictures(tmp_path) == [tmp_path / "t" / "page.md"]
    (tmp_path / "t" / "images").mkdir()
    (tmp_path / "t" / "images" / "curve.png").write_bytes(b"drawn")
    assert mkdocs_hooks.pages_missing_pictures(tmp_path) == []
