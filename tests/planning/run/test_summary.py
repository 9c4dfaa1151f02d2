"""The run's summary files: valid JSON without NaN or Infinity, Markdown where data text is never markup."""

from __future__ import annotations

import json

import numpy as np

from planning.run.runner import json_safe
from planning.run.summary import summary_markdown


def test_non_finite_numbers_become_null():
    data = {"share": float("nan"), "km": np.float64(np.inf), "n": np.int64(3), "rows": [1.5, -np.inf, {"x": np.nan}]}
    text = json.dumps(json_safe(data), allow_nan=False)
    assert json.loads(text) == {"share": None, "km": None, "n": 3, "rows": [1.5, None, {"x": None}]}


def test_markdown_escapes_pipes_and_html_of_names():
    md = summary_markdown(
        {"project": "县|<script>alert(1)</script>", "schools": {"by_kind": {"a|b": 2, "`code`": 1}}}, {"inputs": 1.0}
    )
    lines = md.splitlines()
    assert lines[0] == "# coverplan run: 县\\|&lt;script&gt;alert(1)&lt;/script&gt;"
    assert "| schools.by_kind.a\\|b | 2 |" in lines
    assert "| schools.by_kind.&#96;code&#96; | 1 |" in lines
    assert all(line.count("|") - line.count("\\|") in (0, 3) for line in lines)  # every row has two cells
