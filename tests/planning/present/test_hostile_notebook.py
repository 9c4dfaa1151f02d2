"""Text from data in the notebook is inert: county, operator and other names put into the notebook's Markdown
through :func:`planning.present.notebook.md_text` show exactly as written and never become HTML, links, images,
emphasis or LaTeX; tables (:func:`table_html`) escape them too. The exported page (Markdown rendered with raw HTML
allowed, as a notebook export does) is opened in headless Chromium: every payload shows as text and nothing runs.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd
import pytest
from markdown_it import MarkdownIt
from selenium.webdriver.common.by import By

from planning.present.notebook import map_iframe, md_text, nothing_to_plan_text, table_html
from tests.conftest import CHROMEDRIVER, CHROMIUM, ROOT, headless_chromium

#: Payloads as a county, operator or village name might carry them (each sets window.__xss if it runs).
PAYLOADS = (
    '<img src=x onerror="window.__xss=1">',
    "<img src=x onerror=window.__xss=2>",
    "</script><script>window.__xss=3</script>",
    "<svg/onload=window.__xss=4>",
    '"><iframe srcdoc="<script>parent.__xss=5</script>">',
    "{{7*7}}",
    '=HYPERLINK("http://evil.example/","点击")',
    "[x](javascript:window.__xss=6)",
    "![x](javascript:window.__xss=7)",
    "<a href='javascript:window.__xss=8'>县</a>",
    "**粗** _斜_ `码` $x^2$ # 标题 | 表 |",
    "临江市\n<script>window.__xss=9</script>",
    'Tom & Jerry\'s "县" a\\b <b>石河村</b>',
)
MD = MarkdownIt("commonmark")  # raw HTML on, as nbconvert's and JupyterLab's renderers


@pytest.mark.parametrize("payload", PAYLOADS)
def test_md_text_renders_back_to_the_text_and_no_markup(payload: str) -> None:
    text = md_text(payload)
    assert "<" not in text
    assert ">" not in text
    assert "\n" not in text
    rendered = MD.renderInline(text)
    tokens = MD.parseInline(text)[0].children
    assert [t.type for t in tokens] == ["text"] * len(tokens)  # no link, image, html, emphasis, code
    assert html.unescape(rendered) == " ".join(payload.splitlines())


@pytest.mark.parametrize("payload", PAYLOADS[:5])
def test_md_text_inside_a_list_item_in_bold_stays_text(payload: str) -> None:
    page = MD.render(f"- **申报区域**：{md_text(payload)}，面积 12 平方公里。\n")
    assert "<img" not in page
    assert "<script" not in page
    assert "<svg" not in page
    assert "<iframe" not in page


def test_md_text_neutralises_control_characters() -> None:
    assert md_text("a\x00b\x1b[31mc") == "a b [31mc".replace("[", "\\[")


def test_nothing_to_plan_text_only_for_an_empty_plan() -> None:
    assert nothing_to_plan_text({"nothing_to_plan": True}, language="en").startswith("Nothing to plan")
    assert nothing_to_plan_text({"nothing_to_plan": True}, language="zh").startswith("无需建设")
    assert nothing_to_plan_text({"nothing_to_plan": False}, language="en") == ""
    assert nothing_to_plan_text({}, language="zh") == ""


def test_table_html_escapes_payload_names() -> None:
    frame = pd.DataFrame({"county": list(PAYLOADS), "villages": range(len(PAYLOADS))})
    out = table_html(frame, table_id="counties", language="en")
    for bad in ("<img", "<script>", "<svg", "<iframe", "<a href"):
        assert bad not in out


def test_the_notebook_puts_data_into_markdown_only_through_md_text() -> None:
    """The county list and the operator names reach ``Markdown(...)`` only through md_text."""
    nb = json.loads((ROOT / "notebooks" / "pilot_proposal.ipynb").read_text(encoding="utf-8"))
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    assert 'area = md_text(", ".join(sorted(set(gaps.targets["county"])' in code
    assert "md_text(code_text(k, 'operator', LANG))" in code
    assert "`{OUT.name}" not in code


# ---------------------------------------------------------------- the exported page in headless Chromium


def exported_page(names: tuple[str, ...]) -> str:
    """What a notebook export holds for these names: the overview Markdown (as the notebook builds it), a table and
    the embedded map page carrying them, in one HTML page."""
    area = md_text(", ".join(names))
    operators = "、".join(f"{md_text(n)} 1 个" for n in names)
    markdown = (
        f"- **申报区域**：{area}，面积 12 平方公里。\n"
        f"- **现有网络**：4G 基站 2 个（{operators}）。\n\n"
        f"**{md_text(names[0])}**：{md_text(names[-1])}\n"
    )
    table = table_html(
        pd.DataFrame({"county": list(names), "villages": range(len(names))}), table_id="c", language="zh"
    )
    page = "<!DOCTYPE html><html><body>" + "".join(f"<p class='n'>{md_text(n)}</p>" for n in names) + "</body></html>"
    frame = map_iframe(page, title=names[0])
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>"
        f"<div id='md'>{MD.render(markdown)}</div>{table}{frame}</body></html>"
    )


@pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="Chromium and chromedriver are absent")
def test_exported_notebook_page_is_inert_in_chromium(tmp_path: Path) -> None:
    page = tmp_path / "proposal.html"
    page.write_text(exported_page(PAYLOADS), encoding="utf-8")
    driver = headless_chromium("--no-first-run")
    try:
        driver.get(page.as_uri())
        ran = driver.execute_script(
            "var f = document.querySelector('iframe');"
            "return [window.__xss || null, (f && f.contentWindow && f.contentWindow.__xss) || null];"
        )
        assert ran == [None, None]
        assert driver.find_elements(By.CSS_SELECTOR, "#md img, #md a, #md script, #md svg, #md iframe, #md em") == []
        shown = driver.find_element(By.ID, "md").text
        for payload in PAYLOADS:
            assert " ".join(payload.splitlines()) in shown
        cells = [td.text for td in driver.find_elements(By.CSS_SELECTOR, "table td")]
        for payload in PAYLOADS:
            assert payload.replace("\n", " ") in " ".join(c.replace("\n", " ") for c in cells)
        driver.switch_to.frame(driver.find_element(By.TAG_NAME, "iframe"))
        assert driver.find_elements(By.CSS_SELECTOR, "img, script, svg, iframe") == []
        assert len(driver.find_elements(By.CSS_SELECTOR, "p.n")) == len(PAYLOADS)
    finally:
        driver.quit()


@pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="Chromium and chromedriver are absent")
def test_coverplans_own_export_of_a_hostile_notebook_is_inert_in_chromium(tmp_path: Path) -> None:
    """`coverplan notebook export`'s page (planning.present.notebook_page) of a notebook whose Markdown cell,
    Markdown output, table and map carry every payload: nothing runs, no element comes from data, every payload
    shows as written; an HTML output not made by coverplan shows as its text."""
    import nbformat  # noqa: PLC0415 - only this test needs it

    from planning.present import notebook_page  # noqa: PLC0415

    names = list(PAYLOADS)
    markdown = f"**区县**：{md_text(', '.join(names))}"
    table = table_html(pd.DataFrame({"county": names, "villages": range(len(names))}), table_id="c", language="zh")
    frame = map_iframe(
        "<!DOCTYPE html><html><body>" + "".join(f"<p class='n'>{md_text(n)}</p>" for n in names) + "</body></html>",
        title=names[0],
    )
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 申报书\n\n" + markdown), nbformat.v4.new_code_cell("x")]
    nb.cells[1].outputs = [
        nbformat.v4.new_output("display_data", data={"text/markdown": markdown, "text/plain": "md"}),
        nbformat.v4.new_output("display_data", data={"text/html": table, "text/plain": "table"}),
        nbformat.v4.new_output("display_data", data={"text/html": frame, "text/plain": "map"}),
        nbformat.v4.new_output("display_data", data={"text/html": names[0], "text/plain": names[0]}),
    ]
    page = tmp_path / "application.html"
    page.write_text(notebook_page(nb), encoding="utf-8")
    driver = headless_chromium("--no-first-run")
    try:
        driver.get(page.as_uri())
        ran = driver.execute_script(
            "var f = document.querySelector('iframe');"
            "return [window.__xss || null, (f && f.contentWindow && f.contentWindow.__xss) || null];"
        )
        assert ran == [None, None]
        text = ("section.md", ".output > p", ".output > pre")
        tags = ("img", "a", "script", "svg", "em", "iframe")
        assert driver.find_elements(By.CSS_SELECTOR, ", ".join(f"{t} {g}" for t in text for g in tags)) == []
        shown = " ".join(e.text for e in driver.find_elements(By.CSS_SELECTOR, "section.md p, .output p"))
        for payload in PAYLOADS:
            assert shown.count(" ".join(payload.splitlines())) == 2  # the cell and the Markdown output
        cells = " ".join(td.text.replace("\n", " ") for td in driver.find_elements(By.CSS_SELECTOR, "table td"))
        for payload in PAYLOADS:
            assert payload.replace("\n", " ") in cells
        assert driver.find_elements(By.CSS_SELECTOR, "pre")[-1].text == names[0]
        driver.switch_to.frame(driver.find_element(By.TAG_NAME, "iframe"))
        assert driver.find_elements(By.CSS_SELECTOR, "img, script, svg, iframe") == []
        assert len(driver.find_elements(By.CSS_SELECTOR, "p.n")) == len(PAYLOADS)
    finally:
        driver.quit()
