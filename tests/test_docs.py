"""Every example in docs/ runs and prints what the page says it prints: a wrong number fails."""

from __future__ import annotations

import pytest

from tests.docs_pages import DOCS, pages, run_page

pytest.importorskip("matplotlib", reason="the docs draw pictures: pip install chainrule[viz]")


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(DOCS)))
def test_page_examples(page, tmp_path):
    failed, attempted = run_page(page, tmp_path)
    assert failed == 0, f"{failed} of {attempted} examples in {page.relative_to(DOCS)} failed"
