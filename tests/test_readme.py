"""The README's promises: its two commands, its examples, and CI running the same test command."""

from __future__ import annotations

import doctest
import re
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.docs_pages import working_directory

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def first_commands() -> list[str]:
    block = re.search(r"```bash\n(.*?)```", README, re.S)
    assert block, "the README opens with a bash block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_opens_with_the_two_commands():
    assert README.index("```bash") < 40, "the commands come first"
    install_and_tour, install_and_test = first_commands()
    assert install_and_tour.startswith("pip install ") and install_and_tour.endswith(
        "chainrule tour"
    )
    assert install_and_test.startswith("pip install ") and "pytest" in install_and_test


def test_ci_runs_exactly_the_readmes_test_command():
    test_command = first_commands()[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test_command in ci.splitlines()
    assert "set -euo pipefail" in ci  # any failure fails CI
    assert 'torch==2.13.0"' in ci


def run_readme_examples(where: Path) -> doctest.TestResults:
    """Run the README's examples with ``where`` as the working directory (they save pictures)."""
    import matplotlib

    matplotlib.use("Agg")
    parser = doctest.DocTestParser()
    test = parser.get_doctest(README, {}, "README.md", str(ROOT / "README.md"), 0)
    assert len(test.examples) >= 10
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    with working_directory(where):
        runner.run(test)
    return runner.summarize(verbose=False)


def test_readme_examples_run_and_draw_the_pictures_it_shows(tmp_path):
    """The examples pass, and each picture the README shows (committed under
    docs/assets/readme/ so that it displays where the README is read) is one the examples
    draw, of the same size: regenerate with ``python tests/test_readme.py``."""
    pytest.importorskip(
        "matplotlib", reason="the README draws pictures: pip install chainrule[viz]"
    )
    if shutil.which("dot") is None:
        pytest.skip("the README draws a graph with Graphviz's dot (apt-get install graphviz)")
    failed, _ = run_readme_examples(tmp_path)
    assert failed == 0
    shown = re.findall(r"!\[[^\]]*\]\((docs/assets/readme/[^)]+)\)", README)
    assert len(shown) >= 3
    for path in shown:
        committed, drawn = ROOT / path, tmp_path / Path(path).name
        assert committed.is_file(), f"{path} is shown but not committed"
        assert drawn.is_file(), f"{path} is shown but the README's code does not draw it"
        assert picture_size(committed) == picture_size(drawn), f"{path} is stale"


def picture_size(path: Path) -> tuple:
    """Width and height of a PNG (Pillow) or an SVG (its width and height attributes)."""
    if path.suffix == ".svg":
        head = path.read_text(encoding="utf-8")[:2000]
        return tuple(
            re.search(rf'{side}="([\d.]+)pt"', head).group(1) for side in ("width", "height")
        )
    from PIL import Image

    with Image.open(path) as image:
        return image.size


if __name__ == "__main__":  # redraw the README's pictures into docs/assets/readme/
    with tempfile.TemporaryDirectory() as folder:
        assert run_readme_examples(Path(folder)).failed == 0
        target = ROOT / "docs" / "assets" / "readme"
        target.mkdir(parents=True, exist_ok=True)
        for path in re.findall(r"!\[[^\]]*\]\((docs/assets/readme/[^)]+)\)", README):
            shutil.copy(Path(folder) / Path(path).name, ROOT / path)
            print("wrote", path)
