"""Shard order: repeated copies of a row are spread apart, and writing a shard slice by
slice gives the same order as ordering it in one pass."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cleanpipe.runner.shard import spread_keys


def test_repeated_copies_are_never_neighbours() -> None:
    ids = ["a", "a", "b", "c", "c", "c", "d", "e", "f", "g"]
    order, settled = spread_keys([("s", i) for i in ids])
    assert settled == len(ids)
    assert sorted(order) == list(range(len(ids)))
    arranged = [ids[i] for i in order]
    assert all(x != y for x, y in zip(arranged, arranged[1:], strict=False))


def _spread_in_slices(keys: list[tuple[str, str]], cuts: list[int]) -> list[tuple[str, str]]:
    """Order ``keys`` as a shard task does: slice by slice, carrying unsettled rows."""
    bounds = [0, *sorted(cuts), len(keys)]
    pieces = [keys[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if b > a]
    written: list[tuple[str, str]] = []
    carry: list[tuple[str, str]] = []
    for n, piece in enumerate(pieces):
        rows = carry + piece
        order, settled = spread_keys(
            rows, written[-1] if written else None, final=n == len(pieces) - 1
        )
        written += [rows[i] for i in order[:settled]]
        carry = [rows[i] for i in order[settled:]]
    return written


def test_slice_by_slice_gives_the_same_order_as_one_pass() -> None:
    # the last two rows of the first slice are copies: the fix is the next slice's first row
    keys = [("s", k) for k in ["a", "b", "c", "c", "d", "e"]]
    whole = [keys[i] for i in spread_keys(keys)[0]]
    assert [k for _, k in whole] == ["a", "b", "c", "d", "c", "e"]
    assert _spread_in_slices(keys, [4]) == whole
    # the first row of a slice repeats the last row written
    assert _spread_in_slices(keys, [3]) == whole


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from("aabbcdefg"), max_size=40),
    st.lists(st.integers(0, 40), max_size=6),
)
def test_any_cut_into_slices_gives_the_one_pass_order(ids: list[str], cuts: list[int]) -> None:
    keys = [("s", i) for i in ids]
    whole = [keys[i] for i in spread_keys(keys)[0]]
    assert _spread_in_slices(keys, [c for c in cuts if c <= len(keys)]) == whole
