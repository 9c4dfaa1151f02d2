"""planning.present.notebook: report tables formatted for a notebook, a map page embedded in an iframe's srcdoc."""

from __future__ import annotations

import html
import re

import pandas as pd
import pytest

from planning.present.notebook import map_iframe, table_html

PAGE = (
    "<!DOCTYPE html><html><head><script>var s = \"</iframe><script>alert('x')</script>\"; var t = 'a&amp;b';"
    '</script></head><body><div title="q">&lt;村&gt;</div></body></html>'
)


def test_map_iframe_carries_the_whole_page_as_one_escaped_attribute():
    frame = map_iframe(PAGE, height_px=500, title='方案图 "1"')
    assert frame.count("<iframe") == 1
    assert frame.count("</iframe>") == 1  # the page's own `</iframe>` is escaped
    assert "<script>" not in frame
    (value,) = re.findall(r'srcdoc="([^"]*)"', frame)
    assert html.unescape(value) == PAGE  # what the browser decodes is the page, byte for byte
    assert 'title="方案图 &quot;1&quot;"' in frame
    assert "height:500px" in frame
    assert " src=" not in frame


@pytest.mark.parametrize(
    ("page", "height", "match"),
    [("map.html", 600, "expected the text of an HTML page"), (PAGE, 20, "`height_px` = 20")],
)
def test_map_iframe_refuses_what_is_not_a_page(page, height, match):
    with pytest.raises(ValueError, match=match):
        map_iframe(page, height_px=height)


def test_table_html_formats_as_the_report_and_scopes_its_style():
    frame = pd.DataFrame(
        {
            "county": ["临江市", "(region)"],
            "poor_broadband_share": [0.7868852459016393, 0.5],
            "cost_cny": [1435367.104718045, 0.0],
            "kind": ["new_site", "fibre"],
            "name": ["<b>村</b>", "x"],
        }
    )
    text = table_html(frame, table_id="t1", language="zh")
    assert text.startswith('<div class="coverplan-table"><style>')
    assert all(
        rule.strip().startswith(".coverplan-table")
        for rule in re.findall(r"[^{}]+(?=\{)", text.split("</style>")[0].split("<style>")[1])
    )
    cells = re.findall(r"<t[dh][^>]*>([^<]*)</t[dh]>", text)
    assert cells[:5] == ["区县", "贫困村宽带通达率", "投资（元）", "类型", "名称"]
    assert cells[5:10] == ["临江市", "78.7%", "1,435,367", "新建基站", "&lt;b&gt;村&lt;/b&gt;"]
    assert "全区合计" in cells
    assert "1.435367e+06" not in text
    assert 'id="t1"' in text
    en = table_html(frame, table_id="t2", language="en", share_cols=())
    assert "New site" in en
    assert "78.7%" in en  # a share by its metadata, whatever share_cols says
