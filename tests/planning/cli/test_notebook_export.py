"""`coverplan notebook export`: a notebook executed in a fresh kernel and written as one HTML page without code;
a failing cell, a bad notebook or an existing --out refuse (exit 2) and write nothing."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from planning.cli import cli


def invoke(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def _notebook(path: Path, *code: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 申报书 <b>x</b>\n\n- **区县**：临江")]
    nb.cells += [nbformat.v4.new_code_cell(c) for c in code]
    nbformat.write(nb, path)
    return path


GOOD = (
    "import os, pathlib\n"
    "import pandas as pd\n"
    "from IPython.display import HTML, display\n"
    "from planning.present import table_html\n"
    "pathlib.Path(os.environ['COVERPLAN_NOTEBOOK_OUT'], 'report.txt').write_text('r')\n"
    "display(HTML(table_html(pd.DataFrame({'county': ['<i>临江</i>'], 'n': [3]}), table_id='t', language='zh')))\n"
    "display(HTML('<script>alert(1)</script>'))\n"
    "print('written_to', pathlib.Path(os.environ['COVERPLAN_NOTEBOOK_OUT']).name,"
    " 'kept', os.environ['COVERPLAN_NOTEBOOK_FILES_KEPT'])"
)


def test_export_writes_the_page_without_code_and_files_only_where_asked(tmp_path: Path):
    nb = _notebook(tmp_path / "app.ipynb", GOOD)
    out = tmp_path / "app.html"
    res = invoke("notebook", "export", nb, "--out", out, "--files", tmp_path / "files")
    assert res.exit_code == 0, res.output
    page = out.read_text(encoding="utf-8")
    assert "<title>申报书 &lt;b&gt;x&lt;/b&gt;</title>" in page
    assert "<li><strong>区县</strong>：临江</li>" in page
    assert '<div class="coverplan-table">' in page
    assert "&lt;i&gt;临江&lt;/i&gt;" in page
    assert "<script>" not in page  # HTML not made by coverplan shows as its text
    assert "table_html(" not in page
    assert "import pandas" not in page
    assert "<pre>written_to files kept 1\n</pre>" in page  # the notebook is told its files are kept
    assert (tmp_path / "files" / "report.txt").read_text() == "r"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.html", "app.ipynb", "files"]
    # again without --overwrite: refused; with it: replaced, and without --files nothing else is kept
    res = invoke("notebook", "export", nb, "--out", out)
    assert res.exit_code == 2
    assert "pass --overwrite" in res.output
    res = invoke("notebook", "export", nb, "--out", out, "--overwrite")
    assert res.exit_code == 0, res.output
    assert "kept 0\n</pre>" in out.read_text(encoding="utf-8")  # ... and here that they are not
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.html", "app.ipynb", "files"]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("x = 1", None),
        ("raise ValueError('no such county')", "cell 3 raised ValueError: no such county"),
    ],
)
def test_a_failing_cell_refuses_and_writes_nothing(tmp_path: Path, code: str, expected: str | None):
    nb = _notebook(tmp_path / "app.ipynb", "y = 2", code)
    res = invoke("notebook", "export", nb, "--out", tmp_path / "app.html", "--files", tmp_path / "files")
    if expected is None:
        assert res.exit_code == 0, res.output
        return
    assert res.exit_code == 2, res.output
    assert expected in res.output
    assert "nothing written" in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.ipynb"]


def test_a_bad_notebook_or_out_is_refused(tmp_path: Path):
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{not json", encoding="utf-8")
    res = invoke("notebook", "export", bad, "--out", tmp_path / "a.html")
    assert res.exit_code == 2
    assert "not a readable Jupyter notebook" in res.output
    res = invoke("notebook", "export", tmp_path / "missing.ipynb", "--out", tmp_path / "a.html")
    assert res.exit_code == 2
    assert "does not exist" in res.output
    res = invoke("notebook", "export", bad, "--out", tmp_path / "a.pdf")
    assert res.exit_code == 2
    assert "ending in .html" in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.ipynb"]
