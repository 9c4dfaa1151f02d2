"""Jobs and their merge: rows back in the table's order, each row once, or a message naming what went wrong."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from planning.jobs import Job, in_turn, merge_in_order, positions_in_order


def _parts() -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    table = pd.DataFrame({"x": [10.0, 11.0, 12.0, 13.0, 14.0], "ok": [True, False, True, True, False]})
    table.index = [7, 3, 9, 1, 5]  # not sorted: the order is the table's, not the keys'
    return table, [table.loc[[9, 7]], table.loc[[5]], table.loc[[1, 3]]]


def test_merge_in_order_keeps_the_tables_order_and_dtypes() -> None:
    table, parts = _parts()
    merged = merge_in_order(parts, table.index, what="villages per county")
    pd.testing.assert_frame_equal(merged, table)
    assert merged["ok"].dtype == bool


def test_merge_in_order_leaves_empty_parts_out() -> None:
    table, parts = _parts()
    empty = pd.DataFrame({"x": pd.Series([], dtype=object), "ok": pd.Series([], dtype=object)})
    merged = merge_in_order([empty, *parts, empty], table.index, what="villages per county")
    pd.testing.assert_frame_equal(merged, table)  # bool stays bool, float stays float
    only_empty = merge_in_order([empty], pd.Index([]), what="schools per county")
    assert list(only_empty.columns) == ["x", "ok"]
    assert only_empty.empty


def test_a_row_in_two_parts_is_refused_naming_what_and_the_row() -> None:
    table, parts = _parts()
    with pytest.raises(RuntimeError, match=r"coverage of the villages per county: row 9 comes 2 times"):
        merge_in_order([*parts, table.loc[[9]]], table.index, what="coverage of the villages per county")


def test_a_missing_part_is_refused() -> None:
    table, parts = _parts()
    with pytest.raises(RuntimeError, match=r"fibre reach per province: 2 of the 5 rows are in no part \(first 3\)"):
        merge_in_order(parts[:2], table.index, what="fibre reach per province")
    with pytest.raises(RuntimeError, match=r"status of the schools per county: no parts to merge for 5 rows"):
        merge_in_order([], table.index, what="status of the schools per county")


def test_a_row_not_asked_for_is_refused() -> None:
    table, parts = _parts()
    with pytest.raises(RuntimeError, match=r"demand rows: 1 rows that were not asked for \(first 3\)"):
        merge_in_order(parts, table.index.drop(3), what="demand rows")
    with pytest.raises(RuntimeError, match=r"demand rows: the table's row 7 is in its index twice"):
        merge_in_order(parts, pd.Index([7, 3, 9, 1, 5, 7]), what="demand rows")


def test_positions_in_order_index_the_stacked_keys() -> None:
    keys = ["b", "c", "a"]
    pos = positions_in_order(keys, ["a", "b", "c"], what="rows")
    np.testing.assert_array_equal(pos, [2, 0, 1])
    assert [keys[i] for i in pos] == ["a", "b", "c"]


def test_in_turn_runs_jobs_in_order_with_the_shared_arguments() -> None:
    def add(a: int, *, b: int, c: int) -> int:
        return 100 * a + 10 * b + c

    jobs = [Job("one", add, (1,), {"b": 2}), Job("two", add, (3,), {"b": 4})]
    assert in_turn(jobs, shared={"c": 5}) == [125, 345]
