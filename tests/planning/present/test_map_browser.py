"""The demo map in real headless Chromium (Debian's chromium + chromium-driver, installed by .ci/run): it loads
offline, shows its layers and legend, requests nothing from the network, and shows hostile names as text; its
legend and layer control never overlap at laptop and desktop sizes; an online map opened with the network blocked
shows its layers on the local hillshade with a visible note.

Screenshots are saved under outputs/screenshots/ (demo_map.png, demo_map_<W>x<H>.png, online_map_no_network.png,
online_map_silent_proxy.png).
"""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest
from affine import Affine
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from planning.plan.hops import backhaul_layer
from planning.present.labels import label, verify_text
from planning.present.map_raster import Raster
from planning.present.maps import build_map, save_map
from tests.conftest import CHROMEDRIVER, CHROMIUM, ROOT, headless_chromium
from tests.planning.present.test_maps import CRS, EVIL, EVIL_IMG, X0, Y0, small_run, with_evidence

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="Chromium and chromedriver are absent (Debian packages chromium, chromium-driver; .ci/run installs them)",
)
LOCAL_SCHEMES = {"file", "data", "about", "blob"}


SHOTS = ROOT / "outputs" / "screenshots"


def _chromium(*extra: str):
    """A headless Chromium (``extra``: its network settings) that logs every request the page makes."""
    return headless_chromium(
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,1000",
        *extra,
        log_requests=True,
    )


@pytest.fixture(scope="module")
def browser():
    driver = _chromium()
    yield driver
    driver.quit()


def _requests(driver) -> list[str]:
    """The URLs the page requested since the last call."""
    urls = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg["method"] == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
    return urls


def _open(driver, page: Path) -> list[str]:
    """Load ``page``, wait for the map's layers and legend; return the URLs the page requested."""

    driver.get_log("performance")  # drop what came before
    driver.get(page.resolve().as_uri())
    WebDriverWait(driver, 30).until(
        lambda d: d.execute_script(
            "return document.readyState === 'complete' && !!(window.coverplanLayers"
            " && window.coverplanLayers.villages && document.querySelector('.coverplan-legend')"
            " && document.querySelector('.leaflet-control-layers'))"
        )
    )
    return _requests(driver)


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
    assert (
        counts["verify"] == len(result.gaps.verification) == 8
    )  # P.1812 with three-sector sites and the uplink: 7 fibre disagreements and one reported-4G teaching point
    n_batches = int(result.proposal.interventions["batch"].max())
    assert sum(counts[f"batch_{b}"] for b in range(1, n_batches + 1)) == (
        len(result.proposal.interventions) + len(result.proposal.routes)
    )
    # every microwave hop and relay of the proposal (the layer of proposal.gpkg) is drawn
    assert counts["backhaul"] == len(backhaul_layer(result.proposal.interventions)) > 0
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
        "待核实",
        "建设方案 · 第 1 批",
    ):
        assert expected in labels, labels
    shown = browser.execute_script(
        "return Object.keys(window.coverplanLayers).filter(function (k) { return !!window.coverplanLayers[k]._map; });"
    )
    assert "verify" in shown  # on at first: the statuses a planner checks before signing the numbers
    legend = browser.execute_script("return document.querySelector('.coverplan-legend').textContent;")
    assert "图例" in legend
    assert "未通宽带" in legend
    assert "上报与模型不一致或缺少上报" in legend
    assert "教学点" not in legend
    # the hillshade and the coverage overlay are drawn, the scale bar is there
    assert browser.execute_script("return document.querySelectorAll('img.leaflet-image-layer').length;") >= 2
    assert browser.execute_script("return !!document.querySelector('.leaflet-control-scale');")
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(SHOTS / "demo_map.png"))
    assert (SHOTS / "demo_map.png").stat().st_size > 10_000


#: The cells of each open popup's table.
_CELLS = """
return Array.from(document.querySelectorAll('.leaflet-popup')).map(function (p) {
  return Array.from(p.querySelectorAll('.cp-popup td')).map(function (c) { return c.textContent; });
});
"""


def test_search_and_hostile_names_show_as_text(browser, tmp_path: Path):
    run = small_run()
    verification = with_evidence(run)
    page = save_map(
        build_map(**run, verification=verification, language="en", offline=True, title=EVIL), tmp_path / "evil.html"
    )
    urls = _open(browser, page)
    assert all(urlparse(u).scheme in LOCAL_SCHEMES for u in urls), urls  # `<img src=x>` never became a request
    assert browser.execute_script("return window.__xss === undefined;")
    title = browser.execute_script("return document.querySelector('.coverplan-title').textContent;")
    assert title == EVIL
    # search by name, click the hit: its popup opens with the name as text

    box = browser.find_element(By.CSS_SELECTOR, ".cp-search input")
    box.send_keys("onerror")
    hits = browser.find_elements(By.CSS_SELECTOR, ".cp-search li")
    assert [h.text for h in hits] == [f"{EVIL_IMG} (V2)", f"{EVIL_IMG} (V2) · To verify"]
    hits[0].click()
    popup = browser.execute_script("var p = document.querySelector('.cp-popup-title'); return p && p.textContent;")
    assert popup == EVIL_IMG
    assert browser.execute_script("return window.__xss === undefined;")
    assert not browser.execute_script("return document.querySelector('.leaflet-popup img');")
    # the same village in the layer to verify: what to check (with a script in it) is text, line by line
    browser.find_elements(By.CSS_SELECTOR, ".cp-search li")[1].click()
    WebDriverWait(browser, 10).until(lambda d: len(d.execute_script(_CELLS)) == 1)  # the village's popup fades out
    cells = browser.execute_script(_CELLS)[0]
    note = browser.execute_script("return document.querySelector('.leaflet-popup .cp-popup-note').innerText;")
    assert note == f"To check\nfibre: reported no, model yes (fibre 120 m away along roads)\nname {EVIL}"
    assert cells[:2] == ["Layer", "Village"]
    assert "Fibre" in cells
    assert cells[cells.index("Fibre") + 1] == "Reported no; Predicted – → no (Reported)"
    assert browser.execute_script("return window.__xss === undefined;")
    assert not browser.execute_script("return document.querySelector('.leaflet-popup img, .leaflet-popup script');")


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


_BOXES = """
function box(sel) {
  var e = document.querySelector(sel);
  if (!e) { return null; }
  var r = e.getBoundingClientRect();
  return [r.left, r.top, r.right, r.bottom];
}
return {layers: box('.leaflet-control-layers'), legend: box('.coverplan-legend'), title: box('.coverplan-title'),
        search: box('.cp-search'), view: [0, 0, window.innerWidth, window.innerHeight]};
"""

#: Each layer toggle and legend row, scrolled into view inside its panel: those that another element covers.
_COVERED = """
var out = [];
document.querySelectorAll('.leaflet-control-layers label, .coverplan-legend .cp-row').forEach(function (el) {
  el.scrollIntoView({block: 'nearest'});
  var r = el.getBoundingClientRect();
  var hit = document.elementFromPoint(r.left + Math.min(r.width / 2, 24), r.top + r.height / 2);
  if (!hit || !el.contains(hit)) { out.push(el.textContent.trim()); }
});
return out;
"""


def _overlap(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (1366, 625), (1920, 1080)])
def test_legend_and_layer_control_never_overlap(browser, demo_run, width: int, height: int):
    """1366 x 768 (a laptop screen), 1366 x 625 (the same laptop's browser window under tabs and toolbars),
    1920 x 1080: the layer control and legend stay apart and inside the window, and every layer toggle and legend
    row can be seen and clicked (scrolled to inside its panel)."""
    result, out = demo_run
    n_batches = int(result.proposal.interventions["batch"].max())
    metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    try:
        _open(browser, out / "map.html")
        b = browser.execute_script(_BOXES)
        assert b["view"] == [0, 0, width, height]
        assert not _overlap(b["layers"], b["legend"]), b
        assert not _overlap(b["title"], b["layers"]), b
        assert not _overlap(b["search"], b["layers"]), b
        for key in ("layers", "legend", "title"):
            left, top, right, bottom = b[key]
            assert min(left, top) >= 0, (key, b)
            assert right <= width, (key, b)
            assert bottom <= height, (key, b)
        labels = browser.execute_script(
            "return Array.from(document.querySelectorAll('.leaflet-control-layers label')).length;"
        )
        # hillshade, admin, 4G, 5G, roads, fibre, sites, villages, schools, to verify; the batches; microwave hops
        assert labels == 10 + n_batches + 1
        SHOTS.mkdir(parents=True, exist_ok=True)
        assert browser.save_screenshot(str(SHOTS / f"demo_map_{width}x{height}.png"))  # as the page opens
        assert browser.execute_script(_COVERED) == []
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


_POPUP = """
var p = document.querySelector('.leaflet-popup');
if (!p) { return null; }
var r = p.getBoundingClientRect();
return [r.left, r.top, r.right, r.bottom];
"""


#: Open the popup of a village that lies under the panels on the right (at zoom 12); its x on the screen.
_RIGHT_VILLAGE = """
var v = window.coverplanLayers.villages, map = v._map, found = null;
map.closePopup();
map.setZoom(12, {animate: false});
var edge = document.querySelector('.leaflet-control-layers').getBoundingClientRect().left;
v.eachLayer(function (l) {
  var p = map.latLngToContainerPoint(l.getLatLng());
  var size = map.getSize();
  if (!found && p.x > edge + 20 && p.x < size.x - 10 && p.y > 100 && p.y < size.y - 100) { found = l; }
});
if (!found) { return -1; }
found.openPopup();
return map.latLngToContainerPoint(found.getLatLng()).x;
"""


def test_demo_school_to_verify_opens_its_popup_beside_the_panels(browser, demo_run):
    """At 1366 x 768: search a school of the verification list by its id, open the hit tagged 待核实: the popup says
    what to check, reported against predicted and whether the outlet counts, and stays clear of the panels."""
    result, out = demo_run
    row = result.gaps.verification.iloc[0]
    school = result.gaps.schools.set_index("school_id").loc[row["id"].split(":", 1)[1]]
    metrics = {"width": 1366, "height": 768, "deviceScaleFactor": 1, "mobile": False}
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    try:
        _open(browser, out / "map.html")
        box = browser.find_element(By.CSS_SELECTOR, ".cp-search input")
        box.send_keys(school.name)
        hits = [h for h in browser.find_elements(By.CSS_SELECTOR, ".cp-search li") if h.text.endswith("· 待核实")]
        assert [h.text for h in hits] == [f"{row['name']} ({school.name}) · 待核实"]
        hits[0].click()
        settled = "return !document.querySelector('.leaflet-zoom-anim, .leaflet-pan-anim');"
        WebDriverWait(browser, 10).until(lambda d: len(d.execute_script(_CELLS)) == 1 and d.execute_script(settled))
        cells = browser.execute_script(_CELLS)[0]
        facts = dict(zip(cells[::2], cells[1::2], strict=True))
        note = browser.execute_script("return document.querySelector('.leaflet-popup .cp-popup-note').innerText;")
        assert note == "需核实内容\n" + verify_text(row["what"], "zh")
        assert "reported" not in note  # the demo's notes read in Chinese
        assert facts["编号"] == school.name
        assert facts["上报接入"].startswith({"fibre": "光纤", "4g": "4G"}[school["reported_access"]])
        assert facts["依据"] == "上报"
        assert facts["出口带宽计入达标"] in ("是", "否", "否（该接入方式按政策不计入）")
        assert (facts["出口带宽计入达标"] == "是") == bool(school["meets_outlet"])
        popup, b = browser.execute_script(_POPUP), browser.execute_script(_BOXES)
        for key in ("layers", "legend", "title", "search"):
            assert not _overlap(popup, b[key]), (key, popup, b)
        assert min(popup[:2]) >= 0, popup
        assert popup[2] <= 1366, popup
        assert popup[3] <= 768, popup
        SHOTS.mkdir(parents=True, exist_ok=True)
        assert browser.save_screenshot(str(SHOTS / "demo_map_verify_1366x768.png"))
        # a village under the panels: its popup pans into view left of them
        x = browser.execute_script(_RIGHT_VILLAGE)
        assert x > b["layers"][0], x
        WebDriverWait(browser, 10).until(lambda d: len(d.execute_script(_CELLS)) == 1 and d.execute_script(settled))
        popup = browser.execute_script(_POPUP)
        assert popup[2] <= b["layers"][0], (popup, b)
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_legend_and_layer_control_fold_and_unfold(browser, demo_run):
    _, out = demo_run
    _open(browser, out / "map.html")
    heads = browser.find_elements(By.CSS_SELECTOR, ".cp-panel .cp-toggle")
    assert [h.text for h in heads] == ["图层", "图例"]
    body = "return getComputedStyle(document.querySelector('.coverplan-legend .cp-body')).display;"
    assert browser.execute_script(body) != "none"
    heads[1].click()
    assert browser.execute_script(body) == "none"
    assert browser.find_element(By.CSS_SELECTOR, ".leaflet-control-layers-list").is_displayed()
    heads[1].click()
    assert browser.execute_script(body) != "none"
    heads[0].click()
    assert not browser.find_element(By.CSS_SELECTOR, ".leaflet-control-layers-list").is_displayed()


#: Boxes of the labels shown (in view, visible), of the markers of every point layer and of the controls.
_LABEL_BOXES = """
var c = document.querySelector('.leaflet-container').getBoundingClientRect();
function box(r) { return [r.left - c.left, r.top - c.top, r.right - c.left, r.bottom - c.top]; }
var shown = Array.from(document.querySelectorAll('.leaflet-tooltip.cp-label')).filter(function (e) {
  return getComputedStyle(e).display !== 'none' && getComputedStyle(e).visibility === 'visible';
});
var map = window.coverplanLayers.villages._map;
var points = [];
Object.keys(window.coverplanLayers).forEach(function (k) {
  var layer = window.coverplanLayers[k];
  if (!layer._map) { return; }
  layer.eachLayer(function (l) {
    if (!l.getLatLng) { return; }
    var p = map.latLngToContainerPoint(l.getLatLng());
    points.push([p.x, p.y, l.getTooltip ? (l.getTooltip() ? l.getTooltip().getElement() : null) : null]);
  });
});
return {
  labels: shown.map(function (e) {
    var own = points.filter(function (p) { return p[2] === e; })[0];
    return {box: box(e.getBoundingClientRect()), text: e.textContent, at: own ? [own[0], own[1]] : null};
  }),
  points: points.map(function (p) { return [p[0], p[1]]; }),
  controls: Array.from(document.querySelectorAll('.leaflet-control')).map(function (e) {
    return box(e.getBoundingClientRect()); }),
  hidden: document.querySelectorAll('.leaflet-tooltip.cp-label.cp-label-hidden').length,
  zoom: map.getZoom()
};
"""


@pytest.mark.parametrize("zoom", [13, 14])
def test_names_at_zoom_never_cover_each_other_a_marker_or_a_panel(browser, demo_run, zoom: int):
    """The demo map zoomed in on its villages' middle (the densest part): names show from zoom 13; no two names
    overlap, no name covers another point's marker (a proposal's ring on the named point itself aside) or a
    panel, and each name sits beside its own point; the names that found no room are hidden, not stacked. The
    legend has the roads' row (a thin grey line) under 现有网络与道路."""
    result, out = demo_run
    _open(browser, out / "map.html")
    v = result.gaps.villages.to_crs(4326)
    lat, lon = float(v.geometry.y.median()), float(v.geometry.x.median())
    browser.execute_script(f"window.coverplanLayers.villages._map.setView([{lat}, {lon}], {zoom}, {{animate: false}});")
    placed = "return document.querySelector('.leaflet-container').getAttribute('data-labels-zoom');"
    WebDriverWait(browser, 10).until(lambda d: d.execute_script(placed) == str(zoom))
    seen = browser.execute_script(_LABEL_BOXES)
    labels = seen["labels"]
    assert len(labels) >= (30 if zoom == 13 else 8), len(labels)
    for i, a in enumerate(labels):
        for b in labels[i + 1 :]:
            assert not _overlap(a["box"], b["box"]), (a, b)
        for ctl in seen["controls"]:
            assert not _overlap(a["box"], ctl), (a, ctl)
        x, y = a["at"]
        for px, py in seen["points"]:
            if abs(px - x) < 3 and abs(py - y) < 3:
                continue  # the named point itself, or a marker drawn on it
            assert not _overlap(a["box"], [px - 6, py - 6, px + 6, py + 6]), (a, px, py)
        # beside its point: right of it or left of it, within a few pixels vertically
        left, top, right, bottom = a["box"]
        assert top - 2 <= y <= bottom + 2, a
        assert 0 <= left - x <= 20 or 0 <= x - right <= 20, a
    if zoom == 13:
        SHOTS.mkdir(parents=True, exist_ok=True)
        assert browser.save_screenshot(str(SHOTS / "demo_map_labels_z13.png"))
    legend = browser.execute_script(
        "return Array.from(document.querySelectorAll('.coverplan-legend .cp-sec, .coverplan-legend .cp-row'))"
        ".map(function (e) { return e.textContent.trim(); });"
    )
    network = legend.index("现有网络与道路")
    assert legend[network + 1 : network + 5] == ["4G", "5G", "现有光缆", "道路"]


def _online_map(tmp_path: Path, **options) -> Path:
    """The small run as an online (AMap) map over a hill, as ``coverplan synth`` projects are by default."""
    rows, cols = np.mgrid[0:120, 0:120]
    height_m = 300.0 + 250.0 * np.exp(-((rows - 60.0) ** 2 + (cols - 50.0) ** 2) / 900.0)
    dem = Raster(height_m.astype(np.float32), Affine(100.0, 0, X0 - 6000, 0, -100.0, Y0 + 6000), CRS)
    m = build_map(**small_run(), dem=dem, language="zh", offline=False, basemap="amap", **options)
    return save_map(m, tmp_path / "online.html")


def _check_fallback(driver, page: Path, shot: str) -> list[str]:
    """Open an online map whose tiles cannot load: it switches to the local hillshade, shows the note, and draws
    its layers; returns the remote URLs it tried."""
    urls = _open(driver, page)
    WebDriverWait(driver, 30).until(lambda d: d.execute_script("return !!window.coverplanTilesFailed;"))
    note = driver.find_element(By.CSS_SELECTOR, ".coverplan-note")
    assert note.is_displayed()
    assert note.text.startswith(label("tiles_failed", "zh"))
    checked = driver.execute_script(
        "return Array.from(document.querySelectorAll('.leaflet-control-layers-base input'))"
        ".filter(function (i) { return i.checked; }).map(function (i) { return i.parentNode.textContent.trim(); });"
    )
    assert checked == [label("hillshade", "zh")]
    assert driver.execute_script("return document.querySelectorAll('img.leaflet-image-layer').length;") == 1
    counts = driver.execute_script(
        "var o = {}; Object.keys(window.coverplanLayers).forEach(function (k) {"
        " o[k] = window.coverplanLayers[k].getLayers().length; }); return o;"
    )
    assert counts == {"admin": 1, "villages": 5, "schools": 3, "batch_1": 2}
    on_map = driver.execute_script(
        "return Object.keys(window.coverplanLayers).filter(function (k) { return !!window.coverplanLayers[k]._map; });"
    )
    assert sorted(on_map) == ["admin", "batch_1", "schools", "villages"]
    assert driver.find_elements(By.CSS_SELECTOR, ".leaflet-overlay-pane canvas")  # drawn (prefer_canvas)
    b = driver.execute_script(_BOXES.replace("box('.cp-search')", "box('.coverplan-note')"))
    assert not _overlap(b["search"], b["layers"]), b  # the note stacks under the search box, clear of the panels
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(SHOTS / shot))
    urls += _requests(driver)
    remote = [u for u in urls if urlparse(u).scheme not in LOCAL_SCHEMES]
    # nothing but tiles was asked of the network: Leaflet and the map's code are in the page
    assert remote, "the tiles were never tried"
    assert all(re.fullmatch(r"webrd0[1-4]\.is\.autonavi\.com", urlparse(u).hostname or "") for u in remote), remote
    return remote


def test_online_map_with_no_network_shows_layers_on_the_hillshade_with_a_note(tmp_path: Path):
    """Every host name unresolvable (as on an intranet without DNS to the outside): tile errors."""
    driver = _chromium("--host-resolver-rules=MAP * ~NOTFOUND")
    try:
        _check_fallback(driver, _online_map(tmp_path), "online_map_no_network.png")
    finally:
        driver.quit()


def test_online_map_behind_a_silent_proxy_falls_back_after_the_wait(tmp_path: Path):
    """A proxy that accepts connections and never answers (a firewall that drops): no tile error ever comes, the
    page falls back when no tile has loaded within ``tile_wait_ms``."""
    with socket.create_server(("127.0.0.1", 0)) as silent:
        driver = _chromium(f"--proxy-server=http://127.0.0.1:{silent.getsockname()[1]}")
        try:
            page = _online_map(tmp_path, tile_wait_ms=1500)
            _check_fallback(driver, page, "online_map_silent_proxy.png")
        finally:
            driver.quit()
