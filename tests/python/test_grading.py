"""The bench's grading (bench/grading.py): which wildcard prefixes a viewer path starts with."""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from grading import wildcard_prefixes

PATHS = st.text(alphabet="/ab.", max_size=12).map(lambda text: "/" + text)


@given(path=PATHS, prefixes=st.sets(st.text(alphabet="/ab.", max_size=8).map(lambda t: "/" + t), max_size=6))
def test_wildcard_prefixes_are_every_prefix_of_the_path_that_is_a_wildcard(
    path: str, prefixes: set[str]
) -> None:
    lengths = sorted({len(prefix) for prefix in prefixes})
    expected = {prefix for prefix in prefixes if path.startswith(prefix)}
    assert set(wildcard_prefixes(path, dict.fromkeys(prefixes), lengths)) == expected
