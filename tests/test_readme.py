"""The README's promises: its two commands, its examples, and CI running the same test command."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

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


def test_readme_examples_run():
    parser = doctest.DocTestParser()
    test = parser.get_doctest(README, {}, "README.md", str(ROOT / "README.md"), 0)
    assert len(test.examples) >= 10
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.failures == 0
