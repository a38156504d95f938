"""README's generated tables match the registry (they are generated, never hand-copied)."""

from __future__ import annotations

import pytest

from harness.docs import README, render

pytestmark = pytest.mark.unit


def test_readme_tables_are_up_to_date() -> None:
    text = README.read_text()
    assert text == render(text), "README.md is out of date: run `python -m harness.docs`"
