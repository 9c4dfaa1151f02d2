"""The ``layer:id`` key (gis.schema.unit_key): one spelling for Series and arrays."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gis.schema import unit_key


def test_unit_key_of_a_series_keeps_its_index_and_turns_ids_to_text() -> None:
    ids = pd.Series(["V1", 7, "甲"], index=[10, 11, 12])
    key = unit_key("villages", ids)
    assert key.tolist() == ["villages:V1", "villages:7", "villages:甲"]
    assert key.index.tolist() == [10, 11, 12]
    per_row = unit_key(pd.Series(["villages", "schools"]), pd.Series(["V1", "S1"]))
    assert per_row.tolist() == ["villages:V1", "schools:S1"]


def test_unit_key_of_arrays_is_an_object_array() -> None:
    key = unit_key(np.array(["roads", "fibre"]), np.array(["R1", "F2"], dtype=object))
    assert key.dtype == object
    assert key.tolist() == ["roads:R1", "fibre:F2"]
    assert unit_key("schools", np.array([3, 4])).tolist() == ["schools:3", "schools:4"]
    assert unit_key("schools", np.array([], dtype=object)).tolist() == []
