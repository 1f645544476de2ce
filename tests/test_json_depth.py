"""`limits.json_depth` (rewritten for speed by the benchmark work) against a plain recursive
reference, on arbitrary JSON values."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from cds_service.gather.limits import json_depth

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=3), children, max_size=4)
    ),
    max_leaves=40,
)


def reference_depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((reference_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((reference_depth(v) for v in value), default=0)
    return 0


@given(json_values)
def test_depth_matches_the_recursive_definition(value: Any) -> None:
    assert json_depth(value) == reference_depth(value)


@given(json_values, st.integers(min_value=0, max_value=6))
def test_stop_above_answers_early_but_still_passes_the_limit(value: Any, limit: int) -> None:
    depth = json_depth(value, stop_above=limit)
    assert (depth > limit) == (reference_depth(value) > limit)
    if reference_depth(value) <= limit:
        assert depth == reference_depth(value)


def test_a_hostile_nesting_is_cut_short() -> None:
    hostile: Any = []
    for _ in range(100_000):
        hostile = [hostile]
    assert json_depth(hostile, stop_above=64) == 65
