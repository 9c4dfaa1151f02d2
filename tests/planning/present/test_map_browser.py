"""The demo map in real headless Chromium (Debian's chromium + chromium-driver, installed by .ci/run): it loads
offline, shows its layers and legend, requests nothing from the network, and shows hostile names as text.

A screenshot is saved as outputs/screenshots/demo_map.png.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from planning.present.maps import build_map, save_map
from tests.conftest import ROOT
from tests.planning.present.test_maps import EVIL, EVIL_IMG, small_run

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="Chromium and chromedriver are absent (Debian packages chromium, chromium-driver; .ci/run installs them)",
)
LOCAL_SCHEMES = {"file", "data", "about", "blob"}


@pytest.fixture(scope="module")
def browser():

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,1000",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    yield driver
    driver.quit()


def _open(driver, page: Path) -> list[str]:
    """Load ``page``, wait for the map's layers and legend; return the URLs the page requested."""

    driver.get_log("performance")  # drop what came before
    driver.get(page.resolve().as_uri())
    WebDriverWait(driver, 30).until(
        lambda d: d.execute_script(
            "return !!(window.coverplanLayers && window.coverplanLayers.villages"
            " && document.querySelector('.coverplan-legend') && document.querySelector('.leaflet-control-layers'))"
        )
    )
    urls = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg["method"] == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
    return urls


def test_demo_map_offline_in_chromium(browser, demo_run):
    result, out = demo_run
    urls = _open(browser, out / "map.html")
    remote = [u for u in urls if urlparse(u).scheme not in LOCAL_SCHEMES]
    assert not remote, f"network requests from an offline map: {remote[:5]}"
    counts = browser.execute_script(
        "var o = {}; Object.keys(window.coverplanLayers).forEach(function (k) {"
        " o[k] = window.coverplanLayers[k].getLayers().length; }); return o;"
    )
    assert counts["villages"] == len(result.gaps.villages) == 300
    assert counts["schools"] == len(result.gaps.schools) == 110
    n_batches = int(result.proposal.interventions["batch"].max())
    assert sum(counts[f"batch_{b}"] for b in range(1, n_batches + 1)) == (
        len(result.proposal.interventions) + len(result.proposal.routes)
    )
    labels = browser.execute_script(
        "return Array.from(document.querySelectorAll('.leaflet-control-layers label'))"
        ".map(function (e) { return e.textContent.trim(); });"
    )
    for expected in (
        "地形晕渲（本地）",
        "行政区划",
        "4G 覆盖（RSRP）",
        "村庄（按接入状态）",
        "学校（按出口带宽）",
        "现有光缆",
        "建设方案 · 第 1 批",
    ):
        assert expected in labels, labels
    legend = browser.execute_script("return document.querySelector('.coverplan-legend').textContent;")
    assert "图例" in legend
    assert "未通宽带" in legend
    assert "教学点" not in legend
    # the hillshade and the coverage overlay are drawn, the scale bar is there
    assert browser.execute_script("return document.querySelectorAll('img.leaflet-image-layer').length;") >= 2
    assert browser.execute_script("return !!document.querySelector('.leaflet-control-scale');")
    shots = ROOT / "outputs" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(shots / "demo_map.png"))
    assert (shots / "demo_map.png").stat().st_size > 10_000


def test_search_and_hostile_names_show_as_text(browser, tmp_path: Path):
    page = save_map(build_map(**small_run(), language="en", offline=True, title=EVIL), tmp_path / "evil.html")
    urls = _open(browser, page)
    assert all(urlparse(u).scheme in LOCAL_SCHEMES for u in urls), urls  # `<img src=x>` never became a request
    assert browser.execute_script("return window.__xss === undefined;")
    title = browser.execute_script("return document.querySelector('.coverplan-title').textContent;")
    assert title == EVIL
    # search by name, click the hit: its popup opens with the name as text

    box = browser.find_element(By.CSS_SELECTOR, ".cp-search input")
    box.send_keys("onerror")
    hits = browser.find_elements(By.CSS_SELECTOR, ".cp-search li")
    assert [h.text for h in hits] == [f"{EVIL_IMG} (V2)"]
    hits[0].click()
    popup = browser.execute_script("var p = document.querySelector('.cp-popup-title'); return p && p.textContent;")
    assert popup == EVIL_IMG
    assert browser.execute_script("return window.__xss === undefined;")
    assert not browser.execute_script("return document.querySelector('.leaflet-popup img');")


def test_template_payloads_are_literal_text_in_the_dom(browser, tmp_path: Path, monkeypatch):
    """Names and a title that are Jinja templates: nothing is evaluated while the map is written (no file is
    created, no 49 appears), and Chromium shows them as the literal text in the title, the search and the popup."""
    monkeypatch.chdir(tmp_path)
    run = small_run()
    jinja = "{{ cycler.__init__.__globals__.os.popen('touch PWNED').read() }}"
    loop = "{% for i in range(3) %}{{ i }}{% endfor %} {{ 7 * 7 }} \u202e村😀"
    run["villages"].loc[0, "name"] = jinja
    run["villages"].loc[3, "name"] = loop
    page = save_map(build_map(**run, language="zh", offline=True, title=jinja + " {%"), tmp_path / "jinja.html")
    assert not (tmp_path / "PWNED").exists()
    _open(browser, page)
    assert browser.execute_script("return document.querySelector('.coverplan-title').textContent;") == jinja + " {%"

    for name, query, vid in ((jinja, "cycler", "V0"), (loop, "range(3)", "V3")):
        box = browser.find_element(By.CSS_SELECTOR, ".cp-search input")
        box.clear()
        box.send_keys(query)
        hits = browser.find_elements(By.CSS_SELECTOR, ".cp-search li")
        assert [h.get_attribute("textContent") for h in hits] == [f"{name} ({vid})"]
        hits[0].click()

        WebDriverWait(browser, 10).until(
            lambda d, name=name: (
                d.execute_script(
                    "return Array.from(document.querySelectorAll('.cp-popup-title')).map(function (p) {"
                    " return p.textContent; });"
                )
                == [name]
            )
        )
    assert browser.execute_script("return window.__xss === undefined;")
    shown = browser.execute_script("return document.body.innerText;")
    assert "{{ 7 * 7 }}" in shown
    assert not re.search(r"\b49\b", shown)
