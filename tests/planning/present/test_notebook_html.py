"""planning.present.notebook_html: an executed notebook as an HTML page without code, every text from the notebook
escaped (no template engine): a small Markdown subset, coverplan's own HTML kept, other HTML as text, PNGs checked."""

from __future__ import annotations

import base64
import html

import nbformat
import pandas as pd

from planning.present.notebook import md_text, table_html
from planning.present.notebook_html import markdown_html, notebook_page, output_html

PNG_1PX = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000 1f15c4890000000d49444154789c6360000002000154a24f5d"
        "0000000049454e44ae426082".replace(" ", "")
    )
).decode()


def test_the_markdown_subset():
    assert markdown_html("# 申报书\n\n## 一、概况") == "<h1>申报书</h1>\n<h2>一、概况</h2>"
    assert markdown_html("- **村**：3 个\n- 学校 `s.csv`") == (
        "<ul><li><strong>村</strong>：3 个</li><li>学校 <code>s.csv</code></li></ul>"
    )
    assert markdown_html("1. 甲\n2. 乙") == "<ol><li>甲</li><li>乙</li></ol>"
    assert (
        markdown_html("> **说明**：数据\n> 为合成")
        == "<blockquote><p><strong>说明</strong>：数据为合成</p></blockquote>"
    )
    # a line break inside a Chinese sentence is not a space; between Latin words it is one
    assert markdown_html("沿道路\n光纤") == "<p>沿道路光纤</p>"
    assert markdown_html("fibre\nreach") == "<p>fibre\nreach</p>"
    assert markdown_html("is_poor and *em*") == "<p>is_poor and <em>em</em></p>"


def test_text_from_data_stays_text():
    """Raw HTML, links, images and entities in a cell show as the characters written; md_text's escapes undone
    exactly once."""
    hostile = "<script>alert(1)</script> [x](javascript:alert(1)) ![i](http://e/x.png) <img src=x onerror=alert(1)>"
    out = markdown_html(hostile)
    assert "<script" not in out
    assert "<img" not in out
    assert "<a " not in out
    assert "&lt;script&gt;" in out
    for value in (hostile, "A & B **c** `d` &#60;b&#62; \\*", "临江市\n第二行"):
        shown = markdown_html("名称：" + md_text(value))
        assert "<strong>" not in shown
        assert "<code>" not in shown
        assert "<script" not in shown
        expected = " ".join(value.splitlines())
        assert html.unescape(shown.removeprefix("<p>").removesuffix("</p>")) == "名称：" + expected


def test_outputs_coverplans_html_kept_other_html_as_text_png_checked():
    table = table_html(pd.DataFrame({"county": ["<b>临江</b>"], "n": [3]}), table_id="t", language="zh")
    assert output_html({"output_type": "display_data", "data": {"text/html": table}}) == table
    other = {"output_type": "display_data", "data": {"text/html": "<b onclick=x>hi</b>", "text/plain": "<b>hi</b>"}}
    assert output_html(other) == "<pre>&lt;b&gt;hi&lt;/b&gt;</pre>"
    assert output_html({"output_type": "display_data", "data": {"image/png": PNG_1PX}}).startswith(
        '<img alt="" src="data:image/png;base64,iVBORw0KGgo'
    )
    fake = base64.b64encode(b"<svg onload=alert(1)>").decode()
    assert output_html({"output_type": "display_data", "data": {"image/png": fake, "text/plain": "fig"}}) == (
        "<pre>fig</pre>"
    )
    assert output_html({"output_type": "stream", "name": "stderr", "text": "UserWarning"}) == ""
    assert output_html({"output_type": "stream", "name": "stdout", "text": "a<b\n"}) == "<pre>a&lt;b\n</pre>"
    assert output_html({"output_type": "error", "ename": "X", "evalue": "y", "traceback": []}) == ""


def test_the_page_has_no_code_and_its_title_is_the_first_heading():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# 试点 <申报书>\n\n正文"),
        nbformat.v4.new_code_cell("secret_code_line = 1\nprint('shown')"),
    ]
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="shown\n")]
    page = notebook_page(nb)
    assert page.startswith("<!DOCTYPE html>")
    assert "<title>试点 &lt;申报书&gt;</title>" in page
    assert "<h1>试点 &lt;申报书&gt;</h1>" in page
    assert "secret_code_line" not in page
    assert "<pre>shown\n</pre>" in page
