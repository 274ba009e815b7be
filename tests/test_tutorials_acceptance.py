"""The newcomer's path: ten tutorials whose examples, run by test_docs.py, make the journey.

A reader who follows them computes a gradient, explains it, draws it, descends a surface,
opens the hiker, and trains and saves a network. These tests check that the pages exist, that
each teaches through enough runnable examples, that those examples (not the prose) make the
journey's key calls, and that every link and picture a page shows has something behind it.
"""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

TUTORIALS = Path(__file__).resolve().parent.parent / "docs" / "tutorials"
NAMES = [
    "01-derivative",
    "02-gradient",
    "03-chain-rule",
    "04-backpropagation",
    "05-gradient-descent",
    "06-fitting-data",
    "07-optimizers",
    "08-curvature",
    "09-vanishing-gradients",
    "10-real-network",
]
MIN_EXAMPLES = 10  # `>>>` examples per page
MIN_SHOWN = 5  # of which print a result: the numbers are the lesson

# what the journey needs, and a pattern that finds it in the code a page runs
JOURNEY = {
    "compute a gradient": r"cr\.grad\(|\.backward\(\)",
    "explain it": r"cr\.explain\(",
    "descend a surface": r"cr\.descend\(\s*\w*(rosenbrock|ellipse|surface|saddle)",
    "train a network": r"cr\.nn\.fit\(",
    "save it": r"cr\.save\(",
}
DRAW = r"cr\.viz\.(draw|save_graph)\("


def page(name: str) -> str:
    return (TUTORIALS / f"{name}.md").read_text(encoding="utf-8")


def example_code(name: str) -> str:
    """The source of every ``>>>`` example of a page, in order: what test_docs.py runs."""
    examples = doctest.DocTestParser().get_examples(page(name))
    return "\n".join(example.source for example in examples)


def all_example_code() -> str:
    return "\n".join(example_code(name) for name in NAMES)


def test_the_ten_tutorials_are_there_and_nothing_else():
    assert sorted(p.stem for p in TUTORIALS.glob("*.md")) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_each_page_teaches_through_runnable_examples(name):
    examples = doctest.DocTestParser().get_examples(page(name))
    assert len(examples) >= MIN_EXAMPLES, f"{name} has {len(examples)} examples"
    shown = [example for example in examples if example.want.strip()]
    assert len(shown) >= MIN_SHOWN, f"{name}: only {len(shown)} examples print a result"


@pytest.mark.parametrize("step", JOURNEY)
def test_the_examples_make_the_journey(step):
    assert re.search(JOURNEY[step], all_example_code()), f"no tutorial example does: {step}"


def test_the_examples_draw_a_graph():
    assert re.search(DRAW, all_example_code()), "no tutorial example draws a computational graph"


def test_a_page_says_how_to_open_the_hiker():
    text = page("07-optimizers")
    block = re.search(r"```bash\n(.*?)```", text[text.index("hiker") :], re.S)
    assert block and "chainrule hiker" in block.group(1)
    assert "http://127.0.0.1:8000" in block.group(1)
    # the doctests never start a server
    assert "hiker" not in all_example_code()


@pytest.mark.parametrize("name", NAMES)
def test_links_between_pages_resolve(name):
    links = re.findall(r"\]\(([^)#]+\.md)(?:#[^)]*)?\)", page(name))
    for link in links:
        assert not link.startswith(("http:", "https:", "/")), f"{name}: {link} leaves the docs"
        assert (TUTORIALS / link).resolve().is_file(), f"{name} links to missing {link}"
    if name != NAMES[-1]:
        following = NAMES[NAMES.index(name) + 1]
        assert f"({following}.md)" in page(name), f"{name} does not link to {following}"


@pytest.mark.parametrize("name", NAMES)
def test_every_picture_shown_is_made_by_the_page(name):
    shown = re.findall(r"!\[[^\]]*\]\((images/[^)]+)\)", page(name))
    code = example_code(name)
    for path in shown:
        assert path in code, f"{name} shows {path} but none of its examples saves it"
