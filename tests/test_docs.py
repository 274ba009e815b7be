"""Every example in docs/ runs and prints what the page says it prints: a wrong number fails.

The pages run once per session (the ``docs_run`` fixture in conftest.py), into a copy of
docs/ that tests/test_docs_site.py then builds into the site.
"""

from __future__ import annotations

import pytest

from tests.docs_pages import DOCS, pages


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(DOCS)))
def test_page_examples(page, docs_run):
    failed, attempted = docs_run.results[page]
    assert failed == 0, (
        f"{failed} of {attempted} examples in {page.relative_to(DOCS)} failed:\n"
        + docs_run.reports[page]
    )
