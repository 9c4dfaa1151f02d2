"""The planner's folium map of a run: status of villages and schools, existing network, the proposal by batch.

One HTML file with a layer control, legend, scale, search box (name or ID) and popups of each row's key facts,
labelled in Chinese or English (``[project] language``). Every string taken from input data (names, ids,
operators) reaches the page only as JSON data with ``<``, ``>`` and ``&`` escaped, and is put into popups and
search results with ``textContent``: a village called ``<script>alert(1)</script>`` shows as that text.

Backgrounds
    Leaflet 1.9.4 (vendored from the npm package ``leaflet``, BSD-2-Clause, in ``planning/present/_assets/leaflet``)
    and the map's own script and style are always inlined: the page never loads code from a CDN. ``offline=True``
    draws only a hillshade rendered from the DEM plus the admin boundaries: the file opens with no network at
    all (intranets). Online a tile background is added: AMap (高德, GCJ-02 tiles: every layer and the hillshade are
    shifted from WGS84 to GCJ-02 so they sit on the streets), Tianditu (天地图, CGCS2000 ~ WGS84, needs a token;
    Chinese or English annotation by language) or OpenStreetMap, with the hillshade as an alternative. When the
    tiles cannot load (no network, an intranet: tile errors, or no tile within :data:`TILE_WAIT_MS`) the page
    switches to the hillshade by itself and says so in a visible note.

Layout
    The layer control and the legend stack in the top-right corner under the title, each with a header that
    collapses it; their lists are sized to the window and scroll (``coverplanPanels`` in ``coverplan_map.js``),
    so they never overlap, at 1366 x 768 as at 1920 x 1080 (tested in headless Chromium).

Rasters (hillshade, 4G/5G best-server RSRP) are warped to Web Mercator with rasterio before they are laid on
the map, so they line up with the vectors at every zoom.
"""

from __future__ import annotations

import base64
import html
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from branca.element import Element, MacroElement
from pyproj import CRS
from rasterio.warp import Resampling, reproject, transform_bounds

from gis.crs import wgs84_to_gcj02
from gis.errors import LayerError
from gis.settings import Basemap
from planning.present.labels import (
    FIBRE_COLOUR,
    INTERVENTION_COLOURS,
    OUTLET_COLOURS,
    ROUTE_COLOUR,
    RSRP_CLASSES,
    SITE_COLOURS,
    STATUS_COLOURS,
    Language,
    code_text,
    label,
    point_names,
    served_text,
    verify_text,
)

logger = logging.getLogger(__name__)

ASSETS = Path(__file__).parent / "_assets"
#: An online map whose tiles have not loaded after this long (ms) switches to the local hillshade.
TILE_WAIT_MS = 8000
_TILES = {
    "amap": (
        "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
        "1234",
        "&copy; 高德地图 AutoNavi",
    ),
    "osm": ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "abc", "&copy; OpenStreetMap contributors"),
}
_TIANDITU = (
    "https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER={layer}"
    "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
)


@dataclass(frozen=True)
class Raster:
    """A raster on the map: bands (rows, cols) or (bands, rows, cols), its affine transform and metric CRS."""

    data: np.ndarray
    transform: Affine
    crs: Any


# ---------------------------------------------------------------- rasters


def hillshade(
    height_m: np.ndarray, *, cell_x_m: float, cell_y_m: float, azimuth_deg: float = 315.0, altitude_deg: float = 45.0
) -> np.ndarray:
    """Lambertian hillshade of a DEM, in [0, 1] (NaN where the height is NaN).

    Parameters
    ----------
    height_m : ndarray (rows, cols)
        Heights in metres; row 0 is the north edge.
    cell_x_m, cell_y_m : float
        Cell width and height in metres (positive).
    azimuth_deg, altitude_deg : float
        Sun direction, clockwise from north, and elevation above the horizon, in degrees.

    Returns
    -------
    ndarray of float
        ``sin(alt) cos(slope) + cos(alt) sin(slope) cos(az - aspect)`` clipped at 0: a flat cell is
        ``sin(alt)``, a slope facing the sun at ``90 - alt`` degrees is 1.
    """
    if cell_x_m <= 0 or cell_y_m <= 0:
        msg = f"`cell_x_m`, `cell_y_m` = {cell_x_m!r}, {cell_y_m!r}; expected positive cell sizes in metres"
        raise ValueError(msg)
    z = np.asarray(height_m, dtype=float)
    dz_row, dz_col = np.gradient(z, cell_y_m, cell_x_m)
    dzdx, dzdy = dz_col, -dz_row  # east and north slopes (rows grow southwards)
    slope = np.arctan(np.hypot(dzdx, dzdy))
    aspect = np.arctan2(-dzdx, -dzdy)  # direction the surface faces, clockwise from north
    alt, az = np.radians(altitude_deg), np.radians(azimuth_deg)
    shade = np.sin(alt) * np.cos(slope) + np.cos(alt) * np.sin(slope) * np.cos(az - aspect)
    return np.clip(shade, 0.0, 1.0)


def to_web_mercator(
    raster: Raster, *, max_px: int = 1600, resampling: Literal["bilinear", "nearest"] = "bilinear"
) -> tuple[np.ndarray, list[list[float]]]:
    """Warp a raster to EPSG:3857 (at most ``max_px`` pixels a side) for a Leaflet image overlay.

    Returns the warped array (bands, rows, cols), NaN outside the source, and its bounds as
    ``[[south, west], [north, east]]`` in degrees.
    """
    data = np.asarray(raster.data, dtype=np.float32)
    if data.ndim == 2:
        data = data[None]
    bands, rows, cols = data.shape
    src_crs = CRS.from_user_input(raster.crs)
    left, top = raster.transform.c, raster.transform.f
    right = raster.transform.c + raster.transform.a * cols + raster.transform.b * rows
    bottom = raster.transform.f + raster.transform.d * cols + raster.transform.e * rows
    west, south, east, north = transform_bounds(
        src_crs, "EPSG:3857", min(left, right), min(bottom, top), max(left, right), max(bottom, top), densify_pts=21
    )
    res = max((east - west) / cols, (north - south) / rows, max(east - west, north - south) / max_px)
    w, h = max(int(np.ceil((east - west) / res)), 1), max(int(np.ceil((north - south) / res)), 1)
    dst_transform = Affine(res, 0.0, west, 0.0, -res, north)
    out = np.full((bands, h, w), np.nan, dtype=np.float32)
    for b in range(bands):
        reproject(
            data[b],
            out[b],
            src_transform=raster.transform,
            src_crs=src_crs,
            src_nodata=np.nan,
            dst_transform=dst_transform,
            dst_crs="EPSG:3857",
            dst_nodata=np.nan,
            resampling=Resampling[resampling],
        )
    x1, y1 = west + w * res, north - h * res
    lon, lat = _mercator_to_lonlat(np.array([west, x1]), np.array([y1, north]))
    return out, [[float(lat[0]), float(lon[0])], [float(lat[1]), float(lon[1])]]


def _mercator_to_lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r = 6378137.0
    return np.degrees(x / r), np.degrees(2 * np.arctan(np.exp(y / r)) - np.pi / 2)


def hillshade_rgba(dem: Raster, *, max_px: int = 1600) -> tuple[np.ndarray, list[list[float]]]:
    """Grey RGBA hillshade of a DEM in Web Mercator (transparent outside the DEM) and its bounds."""
    crs = CRS.from_user_input(dem.crs)
    cx, cy = abs(dem.transform.a), abs(dem.transform.e)
    if crs.is_geographic:  # degrees: metres at the grid's mid latitude
        rows = dem.data.shape[-2]
        lat = np.radians(dem.transform.f + dem.transform.e * rows / 2)
        cx, cy = cx * 111_320.0 * np.cos(lat), cy * 110_574.0
    shade = hillshade(np.asarray(dem.data, dtype=float), cell_x_m=cx, cell_y_m=cy)
    warped, bounds = to_web_mercator(Raster(shade.astype(np.float32), dem.transform, dem.crs), max_px=max_px)
    s = warped[0]
    ok = np.isfinite(s)
    grey = np.where(ok, 60 + 195 * np.nan_to_num(s), 0).astype(np.uint8)
    rgba = np.dstack([grey, grey, grey, np.where(ok, 255, 0).astype(np.uint8)])
    return rgba, bounds


def rsrp_rgba(band: Raster, *, threshold_dbm: float, max_px: int = 1600) -> tuple[np.ndarray, list[list[float]]]:
    """RGBA classes of a best-server RSRP band (dBm) in Web Mercator: >= -90, >= -100, >= threshold; clear below."""
    warped, bounds = to_web_mercator(band, max_px=max_px, resampling="nearest")
    r = warped[0]
    rgba = np.zeros((*r.shape, 4), dtype=np.uint8)
    filled = np.zeros(r.shape, dtype=bool)
    with np.errstate(invalid="ignore"):
        for lower, colour in RSRP_CLASSES:
            cut = threshold_dbm if lower is None else max(lower, threshold_dbm)
            sel = ~filled & (r >= cut)
            rgba[sel] = colour
            filled |= sel
    return rgba, bounds


# ---------------------------------------------------------------- vector data as escaped GeoJSON


def json_for_script(obj: Any) -> str:
    """JSON that is safe inside ``<script>``: no ``<``, ``>`` or ``&`` can close the element or open a comment."""
    text = json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _fmt(value: Any, language: Language) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)) or value is pd.NA:
        return "–"
    if isinstance(value, bool | np.bool_):
        return label("yes" if value else "no", language)
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.4g}"
    return str(value)


def _lonlat(geoms: np.ndarray, crs: Any, *, gcj02: bool) -> np.ndarray:
    out = gpd.GeoSeries(geoms, crs=crs).to_crs(4326).to_numpy()

    def shift(xy: np.ndarray) -> np.ndarray:
        if gcj02:
            lon, lat = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
            xy = np.column_stack([lon, lat])
        return np.round(xy, 6)

    return shapely.transform(out, shift)


def features(
    frame: gpd.GeoDataFrame,
    *,
    title: pd.Series,
    facts: list[tuple[str, pd.Series]],
    marker: list[dict[str, Any]] | None = None,
    style: list[dict[str, Any]] | None = None,
    search: pd.Series | None = None,
    tag: str | None = None,
    note: tuple[str, pd.Series] | None = None,
    gcj02: bool = False,
    language: Language = "zh",
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection in WGS84 (or GCJ-02) with the properties the map's script reads.

    ``title`` and ``facts`` (label, values) become the popup; ``marker`` (points) and ``style`` (lines,
    polygons) are Leaflet path options per row; ``search`` is the ID the search box matches besides the title;
    ``tag`` is shown after this layer's search hits (``甲村 (V1) · 待核实``), to tell them from another layer's;
    ``note`` (heading, texts) is a highlighted block above the facts (what to check).
    """
    if frame.crs is None:
        msg = "map layer has no CRS; expected a GeoDataFrame in a projected metric CRS"
        raise LayerError(msg)
    geoms = _lonlat(np.asarray(frame.geometry.values), frame.crs, gcj02=gcj02)
    cols = [(name, s.to_numpy()) for name, s in facts]
    titles = title.to_numpy()
    ids = search.to_numpy() if search is not None else None
    notes = note[1].to_numpy() if note is not None else None
    out = []
    for i, geom in enumerate(geoms):
        if geom is None or shapely.is_empty(geom):
            continue
        props: dict[str, Any] = {
            "title": _fmt(titles[i], language),
            "facts": [[name, _fmt(vals[i], language)] for name, vals in cols],
        }
        if note is not None and notes is not None:
            props["note"] = [note[0], _fmt(notes[i], language)]
        if marker is not None:
            props["marker"] = marker[i]
        if style is not None:
            props["style"] = style[i]
        if ids is not None:
            props["search"] = str(ids[i])
            if tag:
                props["tag"] = tag
        out.append({"type": "Feature", "geometry": json.loads(shapely.to_geojson(geom)), "properties": props})
    return {"type": "FeatureCollection", "features": out}


class _Raw(Element):
    """Text placed into the page exactly as given.

    branca turns the output of every ``MacroElement`` macro into a new Jinja template and renders it again, so
    text inside it is evaluated: a village called ``{{ cycler.__init__.__globals__.os.popen('...') }}`` would run
    code. Nothing of coverplan's goes through a template: every script and asset is built in Python (data as
    escaped JSON literals) and added as a ``_Raw`` element, whose ``render`` returns its text untouched.
    """

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "CoverplanRaw"
        self._text = text

    def render(self, **kwargs: Any) -> str:
        return self._text


class _RawScript(MacroElement):
    """A map element whose script is built in Python by :meth:`script` and never passes through Jinja."""

    def script(self) -> str:
        raise NotImplementedError

    def render(self, **kwargs: Any) -> None:
        self.get_root().script.add_child(_Raw(self.script()), name=self.get_name())
        for element in list(self._children.values()):
            element.render(**kwargs)


class GeoJsonLayer(folium.map.Layer):
    """A GeoJSON layer drawn by the map's own script (escaped data, DOM-built popups, search index).

    Its script is built in Python (the data as a JSON literal safe inside ``<script>``) and added without any
    template, so nothing in the data is evaluated.
    """

    def __init__(self, key: str, data: dict[str, Any], *, name: str, overlay: bool = True, show: bool = True):
        super().__init__(name=name, overlay=overlay, control=True, show=show)
        self._name = "CoverplanLayer"
        self.key = key
        self.data_json = json_for_script(data)
        self.n_features = len(data["features"])

    def render(self, **kwargs: Any) -> None:
        parent = self._parent.get_name()
        self.get_root().script.add_child(
            _Raw(f"var {self.get_name()} = coverplanLayer({json_for_script(self.key)}, {self.data_json}, {parent});"),
            name=self.get_name(),
        )
        if self.show:
            self.get_root().script.add_child(_Raw(f"{self.get_name()}.addTo({parent});"), name=self.get_name() + "_add")


class _Search(_RawScript):
    def __init__(self, placeholder: str, no_match: str):
        super().__init__()
        self._name = "CoverplanSearch"
        self.placeholder = placeholder
        self.no_match = no_match

    def script(self) -> str:
        return (
            f"coverplanSearch({self._parent.get_name()}, {json_for_script(self.placeholder)}, "
            f"{json_for_script(self.no_match)});"
        )


class _TextControl(_RawScript):
    """A Leaflet control showing a text (set with ``textContent``: a title from the project file stays text)."""

    def __init__(self, text: str, *, css_class: str, position: str):
        super().__init__()
        self._name = "CoverplanText"
        self.text, self.css_class, self.position = text, css_class, position

    def script(self) -> str:
        return (
            f"coverplanControl({self._parent.get_name()}, {json_for_script(self.position)}, "
            f"{json_for_script(self.css_class)}, {json_for_script(self.text)}, false);"
        )


class _HtmlControl(_RawScript):
    """A Leaflet control holding fixed HTML built in Python from coverplan's own labels (escaped)."""

    def __init__(self, html_text: str, *, css_class: str, position: str):
        super().__init__()
        self._name = "CoverplanControl"
        self.html, self.css_class, self.position = html_text, css_class, position

    def script(self) -> str:
        return (
            f"coverplanControl({self._parent.get_name()}, {json_for_script(self.position)}, "
            f"{json_for_script(self.css_class)}, {json_for_script(self.html)}, true);"
        )


class _TileFallback(_RawScript):
    """Switches an online map to the local hillshade, with a visible note, when its tiles cannot load."""

    def __init__(
        self,
        tiles: tuple[folium.map.Layer, list[folium.TileLayer]],
        local: folium.map.Layer,
        note: str,
        *,
        wait_ms: int,
    ):
        super().__init__()
        self._name = "CoverplanTileFallback"
        self.base, self.parts = tiles
        self.local, self.note, self.wait_ms = local, note, int(wait_ms)

    def script(self) -> str:
        parts = ", ".join(t.get_name() for t in self.parts)
        return (
            f"coverplanTileFallback({self._parent.get_name()}, {self.base.get_name()}, [{parts}], "
            f"{self.local.get_name()}, {json_for_script(self.note)}, {self.wait_ms});"
        )


class _Panels(_RawScript):
    """Collapsible headers for the layer control and legend, and their heights fitted to the window."""

    def __init__(self, layers_title: str):
        super().__init__()
        self._name = "CoverplanPanels"
        self.layers_title = layers_title

    def script(self) -> str:
        return f"coverplanPanels({self._parent.get_name()}, {json_for_script(self.layers_title)});"


# ---------------------------------------------------------------- the map


#: Outlines of the proposal's star and diamond markers (as ``coverplanPoint`` draws them), for the legend.
_SHAPES = {
    "star": "0,-10 2.4,-3.1 9.5,-3.1 3.8,1.2 5.9,8.1 0,3.8 -5.9,8.1 -3.8,1.2 -9.5,-3.1 -2.4,-3.1",
    "diamond": "0,-9 9,0 0,9 -9,0",
}


def _badge_svg(fill: str) -> str:
    """The warning badge of a point to verify (as ``coverplanPoint`` draws it), in a -10..10 view box."""
    return (
        f'<polygon points="0,-9 9.5,8 -9.5,8" fill="{fill}" stroke="#222" stroke-width="1.5" '
        'stroke-linejoin="round"/><line x1="0" y1="-3.2" x2="0" y2="2.2" stroke="#222" stroke-width="2.4" '
        'stroke-linecap="round"/><circle cx="0" cy="5.2" r="1.4" fill="#222"/>'
    )


def _legend_html(language: Language, *, title: str, sections: list[tuple[str, list[tuple[str, str, str]]]]) -> str:
    """Legend rows: (kind: dot|ring|poor|line|box|star|diamond|badge, colour, text)."""
    parts = [f'<div class="cp-toggle">{html.escape(title)}</div><div class="cp-body">']
    for head, rows in sections:
        parts.append(f'<div class="cp-sec">{html.escape(head)}</div>')
        for kind, colour, text in rows:
            c = html.escape(colour)
            if kind == "dot":
                sw = f'<span class="cp-sw" style="background:{c}"></span>'
            elif kind == "ring":
                sw = f'<span class="cp-sw" style="border:3px solid {c};width:7px;height:7px"></span>'
            elif kind == "poor":
                sw = f'<span class="cp-sw" style="border:2px solid #000;background:{c}"></span>'
            elif kind == "line":
                sw = f'<span class="cp-line" style="border-color:{c}"></span>'
            elif kind == "badge":
                sw = f'<svg class="cp-shape" width="14" height="14" viewBox="-10 -10 20 20">{_badge_svg(c)}</svg>'
            elif kind in _SHAPES:
                sw = (
                    f'<svg class="cp-shape" width="14" height="14" viewBox="-10 -10 20 20">'
                    f'<polygon points="{_SHAPES[kind]}" fill="{c}" stroke="#222" stroke-width="1.5"/></svg>'
                )
            else:
                sw = f'<span class="cp-box" style="background:{c}"></span>'
            parts.append(f'<div class="cp-row">{sw}<span>{html.escape(text)}</span></div>')
    parts.append("</div>")
    return "".join(parts)


def _inline_assets(m: folium.Map) -> None:
    """Inline Leaflet's script and style (images as data URIs) into the page head."""
    root = ASSETS / "leaflet"
    css = (root / "leaflet.css").read_text(encoding="utf-8")
    for png in sorted((root / "images").glob("*.png")):
        uri = "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode("ascii")
        css = css.replace(f"url(images/{png.name})", f"url({uri})")
    js = (root / "leaflet.js").read_text(encoding="utf-8")
    js = js.replace("//# sourceMappingURL=leaflet.js.map", "")
    header = m.get_root().header
    header.add_child(_Raw(f"<style>{css}</style>"), name="leaflet_css_inline")
    header.add_child(_Raw(f"<script>{js}</script>"), name="leaflet_js_inline")


def _own_assets(m: folium.Map) -> None:
    css = (ASSETS / "coverplan_map.css").read_text(encoding="utf-8")
    js = (ASSETS / "coverplan_map.js").read_text(encoding="utf-8")
    header = m.get_root().header
    header.add_child(_Raw(f"<style>{css}</style>"), name="coverplan_css")
    header.add_child(_Raw(f"<script>{js}</script>"), name="coverplan_js")


def _basemaps(
    m: folium.Map, basemap: Basemap, *, language: Language, tianditu_key: str
) -> tuple[folium.map.Layer, list[folium.TileLayer]] | None:
    """The tile background (the base layer and its tile layers), or None for ``basemap = "none"``."""
    if basemap in _TILES:
        url, subs, attr = _TILES[basemap]
        tiles = folium.TileLayer(
            url, attr=attr, name=label(f"basemap_{basemap}", language), subdomains=subs, max_zoom=18, overlay=False
        )
        tiles.add_to(m)
        return tiles, [tiles]
    if basemap == "tianditu":
        if not tianditu_key:
            msg = "`basemap` = 'tianditu' needs `tianditu_key`; expected a Tianditu token"
            raise ValueError(msg)
        name = label("basemap_tianditu", language)
        base = folium.FeatureGroup(name=name, overlay=False)
        parts = []
        for layer in ("vec", "cva" if language == "zh" else "eva"):
            tiles = folium.TileLayer(
                _TIANDITU.format(layer=layer, key=tianditu_key),
                attr="&copy; 天地图 Tianditu",
                subdomains="01234567",
                max_zoom=18,
                name=f"{name} {layer}",
                control=False,
            )
            tiles.add_to(base)
            parts.append(tiles)
        base.add_to(m)
        return base, parts
    return None


def build_map(
    *,
    admin: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    schools: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame | None = None,
    fibre: gpd.GeoDataFrame | None = None,
    interventions: gpd.GeoDataFrame | None = None,
    routes: gpd.GeoDataFrame | None = None,
    verification: pd.DataFrame | None = None,
    coverage: Raster | None = None,
    dem: Raster | None = None,
    language: Language = "zh",
    offline: bool = False,
    basemap: Basemap = "amap",
    tianditu_key: str = "",
    title: str = "",
    outlet_target_mbps: float = 100.0,
    rsrp_threshold_dbm: tuple[float, float] = (-110.0, -105.0),
    hillshade_max_px: int = 1600,
    tile_wait_ms: int = TILE_WAIT_MS,
) -> folium.Map:
    """The folium map of a run.

    Parameters
    ----------
    admin : GeoDataFrame
        Admin areas (``name``); drawn as outlines.
    villages, schools : GeoDataFrame
        Village and school status from :func:`planning.status.evidence.village_status` and ``school_status``
        (``village_id``/``school_id``, ``name``, ``broadband``, ``is_poor``, ``lacks``; ``kind``, ``access``,
        ``outlet_mbps``, ``connected``, ``meets_outlet`` (the outlet class when present); the popups show what
        else they have: ``county``, ``population``, ``students`` and the evidence columns).
    sites, fibre : GeoDataFrame, optional
        Existing base stations and fibre lines.
    interventions, routes : GeoDataFrame, optional
        The proposal's chosen interventions (``kind``, ``cost_cny``, ``batch``, ``serves``) and new fibre route
        segments (``serves``, ``length_m``, ``cost_cny``); one layer per batch.
    verification : DataFrame, optional
        The verification list (:func:`planning.status.evidence.verification_list`: ``id`` as ``villages:ID`` or
        ``schools:ID``, ``layer``, ``name``, ``county``, ``what``): a layer 待核实 (To verify), shown at first,
        an amber badge beside each of these villages and schools, popup with what to check and the evidence.
    coverage : Raster, optional
        Best-server RSRP bands (4G, 5G) in dBm.
    dem : Raster, optional
        Heights in metres, for the hillshade background.
    language : {"zh", "en"}
        Labels of layers, legend, popups and search.
    offline : bool
        The hillshade as the only background (no network request at all). Leaflet is inlined either way.
    basemap : {"amap", "tianditu", "osm", "none"}
        Tile background when online; ``amap`` shifts all layers to GCJ-02.
    outlet_target_mbps : float
        School outlet target that splits "at target" from "below" when ``schools`` has no ``meets_outlet``.
    rsrp_threshold_dbm : (float, float)
        4G and 5G coverage thresholds; weaker cells stay clear.
    tile_wait_ms : int
        Online: with no tile loaded after this long the page switches to the hillshade (as on a tile error).

    All layers must be in a CRS (projected metric in a run); the map is in Web Mercator.

    Raises
    ------
    LayerError
        A layer without a CRS (the layers named).
    ValueError
        A ``verification`` id that is in neither ``villages`` nor ``schools``.
    """
    _check_crs(
        admin=admin,
        villages=villages,
        schools=schools,
        sites=sites,
        fibre=fibre,
        interventions=interventions,
        routes=routes,
    )
    bounds = admin.to_crs(4326).total_bounds if len(admin) else villages.to_crs(4326).total_bounds
    ctx = _MapContext(
        m=folium.Map(tiles=None, control_scale=True, prefer_canvas=True, font_size="0.75rem"),  # Leaflet's 12 px
        lang=language,
        gcj02=(not offline) and basemap == "amap",
        max_px=hillshade_max_px,
        tile_wait_ms=tile_wait_ms,
    )
    _backgrounds(ctx, dem, offline=offline, basemap=basemap, tianditu_key=tianditu_key)
    _admin_layer(ctx, admin)
    if coverage is not None:
        _coverage_overlays(ctx, coverage, rsrp_threshold_dbm)
    _network_layers(ctx, fibre, sites)
    _status_and_proposal_layers(
        ctx, villages, schools, interventions, routes, verification, outlet_target_mbps=outlet_target_mbps
    )
    _controls(ctx, coverage, title, verify=verification is not None)
    m = ctx.m
    m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    m.coverplan_layers = {layer.key: layer.n_features for layer in ctx.layers}  # type: ignore[attr-defined]
    return m


def _admin_layer(ctx: _MapContext, admin: gpd.GeoDataFrame) -> None:
    """The admin areas as dashed outlines."""
    ctx.add(
        GeoJsonLayer(
            "admin",
            features(
                admin,
                title=admin["name"],
                facts=[(label("id", ctx.lang), admin["area_id"])],
                search=None,
                gcj02=ctx.gcj02,
                language=ctx.lang,
                style=[{"color": "#333333", "weight": 2, "fill": False, "dashArray": "6 4"}] * len(admin),
            ),
            name=label("admin", ctx.lang),
        )
    )


def _check_crs(**frames: gpd.GeoDataFrame | None) -> None:
    """LayerError naming the map layers without a CRS."""
    no_crs = [name for name, frame in frames.items() if frame is not None and frame.crs is None]
    if no_crs:
        msg = f"map layers {no_crs} have no CRS; expected GeoDataFrames in a projected metric CRS"
        raise LayerError(msg)


def _status_and_proposal_layers(
    ctx: _MapContext,
    villages: gpd.GeoDataFrame,
    schools: gpd.GeoDataFrame,
    interventions: gpd.GeoDataFrame | None,
    routes: gpd.GeoDataFrame | None,
    verification: pd.DataFrame | None,
    *,
    outlet_target_mbps: float,
) -> None:
    """Villages by access status, schools by outlet, those to verify, and one layer per yearly batch of the
    proposal.

    The layer to verify is shown at first: its rows are statuses the KPIs count on a report the model disagrees
    with (or on the model alone), which a planner checks before signing the numbers; its badges sit beside the
    points, so the status colours stay visible, and there are few of them (10 of 410 on the demo).
    """
    language = ctx.lang
    ctx.add(
        GeoJsonLayer(
            "villages", _village_features(villages, language, gcj02=ctx.gcj02), name=label("villages", language)
        )
    )
    ctx.add(
        GeoJsonLayer(
            "schools",
            _school_features(schools, language, gcj02=ctx.gcj02, target=outlet_target_mbps),
            name=label("schools", language),
        )
    )
    if verification is not None:
        data = _verify_features(verification, villages, schools, language, gcj02=ctx.gcj02, target=outlet_target_mbps)
        ctx.add(GeoJsonLayer("verify", data, name=label("verify", language)))
    names = point_names(villages, schools)
    for batch, inter, segs in _batches(interventions, routes):
        data = _proposal_features(inter, segs, language, names=names, gcj02=ctx.gcj02)
        ctx.add(
            GeoJsonLayer(
                f"batch_{batch}", data, name=f"{label('proposal', language)} · {label('batch', language, n=batch)}"
            )
        )


@dataclass
class _MapContext:
    """The map being built: its language, whether layers are shifted to GCJ-02, the raster size limit, the
    GeoJSON layers added so far and the tile background (online)."""

    m: folium.Map
    lang: Language
    gcj02: bool
    max_px: int
    tile_wait_ms: int = TILE_WAIT_MS
    layers: list[GeoJsonLayer] = field(default_factory=list)
    tiles: Any = None

    def add(self, layer: GeoJsonLayer) -> None:
        layer.add_to(self.m)
        self.layers.append(layer)


def _backgrounds(ctx: _MapContext, dem: Raster | None, *, offline: bool, basemap: Basemap, tianditu_key: str) -> None:
    """Leaflet inlined, the tile background online (with its fallback to the hillshade), the hillshade."""
    m = ctx.m
    m.default_js, m.default_css = [], []
    _inline_assets(m)
    _own_assets(m)
    if not offline:
        ctx.tiles = _basemaps(m, basemap, language=ctx.lang, tianditu_key=tianditu_key)
    local: folium.map.Layer
    if dem is not None:
        rgba, b = hillshade_rgba(dem, max_px=ctx.max_px)
        if ctx.gcj02:
            b = _shift_bounds(b)
        local = folium.raster_layers.ImageOverlay(
            rgba,
            bounds=b,
            name=label("hillshade", ctx.lang),
            overlay=False,
            show=offline or ctx.tiles is None,
            z_index=1,
        )
    else:
        local = folium.FeatureGroup(name=label("hillshade", ctx.lang), overlay=False, show=ctx.tiles is None)
    local.add_to(m)
    if ctx.tiles is not None:
        _TileFallback(ctx.tiles, local, label("tiles_failed", ctx.lang), wait_ms=ctx.tile_wait_ms).add_to(m)


def _coverage_overlays(ctx: _MapContext, coverage: Raster, thresholds_dbm: tuple[float, float]) -> None:
    """The best-server RSRP classes of 4G and 5G as image overlays (4G shown at first)."""
    for b, key in enumerate(("cov_4g", "cov_5g")):
        band = np.asarray(coverage.data)[b]
        if not np.isfinite(band).any():
            continue
        rgba, bb = rsrp_rgba(
            Raster(band, coverage.transform, coverage.crs), threshold_dbm=thresholds_dbm[b], max_px=ctx.max_px
        )
        if ctx.gcj02:
            bb = _shift_bounds(bb)
        folium.raster_layers.ImageOverlay(
            rgba, bounds=bb, name=label(key, ctx.lang), overlay=True, show=(b == 0), z_index=2
        ).add_to(ctx.m)


def _network_layers(ctx: _MapContext, fibre: gpd.GeoDataFrame | None, sites: gpd.GeoDataFrame | None) -> None:
    """The existing fibre lines and sites (sites hidden at first)."""
    lang = ctx.lang
    if fibre is not None and len(fibre):
        length_km = pd.Series(shapely.length(np.asarray(fibre.geometry.values)) / 1000, index=fibre.index).round(2)
        ctx.add(
            GeoJsonLayer(
                "fibre",
                features(
                    fibre,
                    title=fibre["route_id"],
                    search=None,
                    gcj02=ctx.gcj02,
                    language=lang,
                    facts=[
                        (label("kind", lang), _codes(_col(fibre, "kind", ""), "kind", lang)),
                        (label("operator", lang), _codes(_col(fibre, "operator", ""), "operator", lang)),
                        (label("length_km", lang), length_km),
                    ],
                    style=[{"color": FIBRE_COLOUR, "weight": 2, "opacity": 0.9}] * len(fibre),
                ),
                name=label("fibre", lang),
            )
        )
    if sites is not None and len(sites):
        tech = sites["tech"].astype(str)
        ctx.add(
            GeoJsonLayer(
                "sites",
                features(
                    sites,
                    title=sites["site_id"],
                    search=sites["site_id"],
                    gcj02=ctx.gcj02,
                    language=lang,
                    facts=[
                        (label("tech", lang), tech.str.upper()),
                        (label("band_mhz", lang), sites["band_mhz"]),
                        (label("height_m", lang), sites["height_m"]),
                        (label("operator", lang), _codes(_col(sites, "operator", ""), "operator", lang)),
                    ],
                    marker=[
                        {
                            "radius": 3,
                            "color": SITE_COLOURS.get(t, "#404040"),
                            "weight": 1,
                            "fillOpacity": 0.9,
                            "fillColor": SITE_COLOURS.get(t, "#404040"),
                        }
                        for t in tech
                    ],
                ),
                name=label("sites", lang),
                show=False,
            )
        )


def _controls(ctx: _MapContext, coverage: Raster | None, title: str, *, verify: bool = False) -> None:
    """Title, search box, layer control and legend; the layer control and legend stack under the title in the
    top-right corner, collapsible and sized to the window (``coverplanPanels``)."""
    lang = ctx.lang
    if title:
        _TextControl(title, css_class="coverplan-title", position="topright").add_to(ctx.m)
    _Search(label("search", lang), label("no_match", lang)).add_to(ctx.m)
    folium.LayerControl(collapsed=False, position="topright").add_to(ctx.m)
    _HtmlControl(
        _legend_html(lang, title=label("legend", lang), sections=_legend_sections(lang, coverage, verify=verify)),
        css_class="coverplan-legend",
        position="topright",
    ).add_to(ctx.m)
    _Panels(label("layers_button", lang)).add_to(ctx.m)


def _shift_bounds(b: list[list[float]]) -> list[list[float]]:
    lon, lat = wgs84_to_gcj02(np.array([b[0][1], b[1][1]]), np.array([b[0][0], b[1][0]]))
    return [[float(lat[0]), float(lon[0])], [float(lat[1]), float(lon[1])]]


def _col(frame: pd.DataFrame, name: str, default: Any = None) -> pd.Series:
    return frame[name] if name in frame else pd.Series(default, index=frame.index, dtype=object)


def _codes(values: pd.Series, codes: str, lang: Language) -> pd.Series:
    """The planner's words for a column of codes (``broadband;4g`` -> 宽带、4G), empty where there is none."""
    return pd.Series([code_text(v, codes, lang) for v in values], index=values.index, dtype=object)


def _village_facts(v: pd.DataFrame, lang: Language) -> list[tuple[str, pd.Series]]:
    """Popup facts of villages: id, county, population, access, poor, the evidence per attribute, lacks."""
    status = _col(v, "broadband", "unknown").fillna("unknown").astype(str)
    status_text = status.map(lambda s: label(f"bb_{s}" if f"bb_{s}" in _STATUS_KEYS else "bb_unknown", lang))
    return [
        (label("id", lang), v["village_id"]),
        (label("county", lang), _col(v, "county")),
        (label("population", lang), _col(v, "population")),
        (label("status", lang), status_text),
        (label("is_poor", lang), _col(v, "is_poor", False).fillna(False).astype(bool)),
        *_village_evidence(v, lang),
        (label("lacks", lang), _codes(_col(v, "lacks", ""), "lacks", lang)),
    ]


#: The village attributes whose evidence a popup shows (``reported_a``, ``predicted_a``, ``status_a``,
#: ``evidence_a`` of :func:`planning.status.evidence.village_status`).
_ATTRIBUTES = ("fibre", "4g", "5g")


def _village_evidence(v: pd.DataFrame, lang: Language) -> list[tuple[str, pd.Series]]:
    """Per attribute (fibre, 4G, 5G) with a status: ``上报 是；模型预测 否 → 是（上报）`` (reported, predicted, the
    status the KPIs count and the evidence it rests on: measured > reported > predicted)."""
    words = {e: code_text(e, "evidence", lang) for e in ("measured", "reported", "predicted", "unknown")}
    sep = "；" if lang == "zh" else "; "
    out = []
    for a in _ATTRIBUTES:
        if f"status_{a}" not in v:
            continue
        rep, pre, sta = (_col(v, f"{k}_{a}").to_numpy() for k in ("reported", "predicted", "status"))
        evi = _col(v, f"evidence_{a}", "unknown").fillna("unknown").astype(str).to_numpy()
        text = [
            f"{words['reported']} {_fmt(r, lang)}{sep}{words['predicted']} {_fmt(p, lang)} → {_fmt(s, lang)}"
            + (f"（{words.get(e, e)}）" if lang == "zh" else f" ({words.get(e, e)})")
            for r, p, s, e in zip(rep, pre, sta, evi, strict=True)
        ]
        out.append((code_text(a, "access", lang), pd.Series(text, index=v.index, dtype=object)))
    return out


def _village_features(v: gpd.GeoDataFrame, lang: Language, *, gcj02: bool) -> dict[str, Any]:
    status = _col(v, "broadband", "unknown").fillna("unknown").astype(str)
    poor = _col(v, "is_poor", False).fillna(False).astype(bool)
    marker = [
        {
            "radius": 5,
            "color": "#000000" if p else "#ffffff",
            "weight": 2 if p else 1,
            "fillOpacity": 0.9,
            "fillColor": STATUS_COLOURS.get(s, STATUS_COLOURS["unknown"]),
        }
        for s, p in zip(status, poor, strict=True)
    ]
    return features(
        v,
        title=v["name"],
        search=v["village_id"],
        gcj02=gcj02,
        language=lang,
        marker=marker,
        facts=_village_facts(v, lang),
    )


#: Label key of each intervention kind (the others are their own key).
_KIND_LABEL = {"fibre": "fibre_ext", "satellite": "satellite_link"}
_STATUS_KEYS = {"bb_fibre", "bb_5g", "bb_4g", "bb_none", "bb_unknown"}


def outlet_class(schools: pd.DataFrame, *, target_mbps: float) -> pd.Series:
    """``outlet_ok`` (the outlet counts at the target), ``outlet_low`` (connected, it does not) or
    ``not_connected`` per school.

    With a ``meets_outlet`` column (:func:`planning.status.evidence.school_status`) the outlet counts as the KPI
    counts it, by the programme's policy too: a 5G CPE at 150 Mbps for a primary school where fixed wireless
    counts only for teaching points is ``outlet_low``. Without one, ``outlet_mbps >= target_mbps``.
    """
    connected = _col(schools, "connected", False).fillna(False).astype(bool)
    if "meets_outlet" in schools:
        ok = schools["meets_outlet"].astype("boolean").fillna(False).astype(bool)
    else:
        ok = pd.to_numeric(_col(schools, "outlet_mbps", np.nan), errors="coerce").fillna(0.0) >= target_mbps
    return pd.Series(
        np.where(~connected, "not_connected", np.where(ok, "outlet_ok", "outlet_low")), index=schools.index
    )


def _school_facts(s: pd.DataFrame, lang: Language, *, target: float) -> list[tuple[str, pd.Series]]:
    """Popup facts of schools: id, kind, county, students, the access and outlet counted and their evidence,
    what was reported, what the models predict, the measured outlet, whether the outlet counts, lacks."""
    kind = s["kind"].astype(str)
    kind_text = kind.map(lambda k: label(k, lang) if k in ("primary", "secondary", "teaching_point") else k)
    cls = outlet_class(s, target_mbps=target)
    facts = [
        (label("id", lang), s["school_id"]),
        (label("kind", lang), kind_text),
        (label("county", lang), _col(s, "county")),
        (label("students", lang), _col(s, "students")),
        (label("access", lang), _codes(_col(s, "access"), "access", lang)),
        (label("outlet_mbps", lang), _mbps(s, "outlet_mbps")),
        (label("status", lang), cls.map(lambda c: label(c, lang))),
    ]
    if "evidence" in s:
        facts.append((label("evidence", lang), _codes(s["evidence"], "evidence", lang)))
    for key in ("reported", "predicted"):
        if f"{key}_access" in s:
            facts.append((label(f"{key}_access", lang), _link_text(s, key, lang)))
    if "measured_mbps" in s:
        facts.append((label("measured_mbps", lang), _mbps(s, "measured_mbps")))
    if "meets_outlet" in s:
        facts.append((label("meets_outlet", lang), _counts_text(s, cls, lang, target=target)))
    if "lacks" in s:
        facts.append((label("lacks", lang), _codes(s["lacks"], "lacks", lang)))
    return facts


def _mbps(s: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(_col(s, column, np.nan), errors="coerce").round(1)


def _link_text(s: pd.DataFrame, key: str, lang: Language) -> pd.Series:
    """``光纤，100 Mbps`` of the reported or predicted link (``{key}_access``, ``{key}_mbps``); ``–`` if none."""
    sep = "，" if lang == "zh" else ", "
    mbps = _mbps(s, f"{key}_mbps").to_numpy()
    out = []
    for acc, bw in zip(_col(s, f"{key}_access").to_numpy(), mbps, strict=True):
        word = code_text(acc, "access", lang)
        out.append((word + (f"{sep}{_fmt(float(bw), lang)} Mbps" if np.isfinite(bw) else "")) if word else "–")
    return pd.Series(out, index=s.index, dtype=object)


def _counts_text(s: pd.DataFrame, cls: pd.Series, lang: Language, *, target: float) -> pd.Series:
    """Whether the outlet counts at the target; a connected outlet at the target's speed that does not count is
    said to be ruled out by the policy (fixed wireless or satellite)."""
    outlet = pd.to_numeric(_col(s, "outlet_mbps", np.nan), errors="coerce").fillna(0.0).to_numpy()
    keys = np.where(
        cls.to_numpy() == "outlet_ok",
        "yes",
        np.where((cls.to_numpy() == "outlet_low") & (outlet >= target), "not_counted", "no"),
    )
    out = [label(str(k), lang) for k in keys]
    return pd.Series(out, index=s.index, dtype=object)


def _school_features(s: gpd.GeoDataFrame, lang: Language, *, gcj02: bool, target: float) -> dict[str, Any]:
    cls = outlet_class(s, target_mbps=target)
    kind = s["kind"].astype(str)
    marker = [
        {
            "radius": 4 if k == "teaching_point" else 6,
            "color": OUTLET_COLOURS[c],
            "weight": 3,
            "fillColor": "#ffffff",
            "fillOpacity": 1.0,
        }
        for k, c in zip(kind, cls, strict=True)
    ]
    return features(
        s,
        title=s["name"],
        search=s["school_id"],
        gcj02=gcj02,
        language=lang,
        marker=marker,
        facts=_school_facts(s, lang, target=target),
    )


#: The badge of a village or school to verify: an amber warning triangle up and to the right of the point, so
#: the point's own marker stays visible and clickable.
VERIFY_MARKER = {"shape": "badge", "radius": 8, "color": "#222222", "fillColor": "#ffb000"}


def _verify_features(
    verification: pd.DataFrame,
    villages: gpd.GeoDataFrame,
    schools: gpd.GeoDataFrame,
    lang: Language,
    *,
    gcj02: bool,
    target: float,
) -> dict[str, Any]:
    """The villages and schools of the verification list as badges: popup with the name, what to check, the id,
    the county and the row's evidence; found by the search box (tagged 待核实)."""
    layers = verification["layer"].astype(str).to_numpy()
    ids = verification["id"].astype(str).to_numpy()
    known = {}  # position of each `layer:id` in its layer (the first, should an id repeat)
    for layer, frame, idc in (("villages", villages, "village_id"), ("schools", schools, "school_id")):
        pos = pd.Series(np.arange(len(frame)), index=(layer + ":" + frame[idc].astype(str)).to_numpy())
        known[layer] = pos[~pos.index.duplicated()]
    unknown = [i for i, layer in zip(ids, layers, strict=True) if layer not in known or i not in known[layer].index]
    if unknown:
        msg = (
            f"`verification` names {unknown[:5]} that are not in the villages or schools layers; expected ids "
            "`villages:ID` / `schools:ID` of these layers (planning.status.evidence.verification_list)"
        )
        raise ValueError(msg)
    out: list[dict[str, Any]] = []
    for layer, frame, idc in (("villages", villages, "village_id"), ("schools", schools, "school_id")):
        sel = layers == layer
        pos = known[layer]
        part = frame.iloc[pos.loc[ids[sel]].to_numpy()]
        what = [verify_text(w, lang) for w in verification["what"].fillna("").to_numpy()[sel]]
        own = _village_facts(part, lang) if layer == "villages" else _school_facts(part, lang, target=target)
        facts = [(label("layer", lang), pd.Series(code_text(layer, "layer", lang), index=part.index, dtype=object))]
        out += features(
            part,
            title=part["name"],
            search=part[idc],
            tag=label("verify", lang),
            note=(label("what", lang), pd.Series(what, index=part.index, dtype=object)),
            gcj02=gcj02,
            language=lang,
            marker=[VERIFY_MARKER] * len(part),
            facts=facts + own,
        )["features"]
    return {"type": "FeatureCollection", "features": out}


def _batches(inter: gpd.GeoDataFrame | None, routes: gpd.GeoDataFrame | None):
    """(batch, interventions, route segments) per batch; a segment belongs to the first batch that needs it."""
    if inter is None or not len(inter):
        return []
    batch_of = {}
    for b, serves, kind in zip(inter["batch"], inter["serves"], inter["kind"], strict=True):
        if kind != "fibre" and not str(kind).startswith("new_site"):
            continue
        for label_ in str(serves).split(";"):
            batch_of[label_] = min(int(b), batch_of.get(label_, 10**9))
    seg_batch = pd.Series(dtype=float)
    if routes is not None and len(routes):
        seg_batch = (
            routes["serves"]
            .astype(str)
            .map(lambda s: min((batch_of.get(x, 10**9) for x in s.split(";")), default=10**9))
        )
    out = []
    for b in sorted(int(x) for x in inter["batch"].unique()):
        segs = routes[seg_batch.to_numpy() == b] if routes is not None and len(routes) else None
        out.append((b, inter[inter["batch"] == b], segs))
    return out


def _proposal_features(
    inter: gpd.GeoDataFrame, segs: gpd.GeoDataFrame | None, lang: Language, *, names: Mapping[str, str], gcj02: bool
) -> dict[str, Any]:
    def served(s: str) -> str:
        return served_text(s, names, limit=8, sep="、")

    kinds = inter["kind"].astype(str)
    kind_text = kinds.map(
        lambda k: label(_KIND_LABEL.get(k, k), lang) if k in INTERVENTION_COLOURS else code_text(k, "kind", lang)
    )
    back = _col(inter, "backhaul", "").fillna("").astype(str)
    back_text = back.map(
        lambda b: label(b if b in ("microwave", "satellite", "existing") else "fibre_backhaul", lang) if b else "–"
    )
    marker = []
    for k in kinds:
        colour = INTERVENTION_COLOURS.get(k, "#7b3294")
        if k in ("fibre", "satellite"):
            marker.append(
                {
                    "radius": 7,
                    "color": colour,
                    "weight": 2,
                    "fill": False,
                    "dashArray": "3 2" if k == "fibre" else "1 3",
                }
            )
        else:
            marker.append(
                {
                    "shape": "star" if k == "new_site" else "diamond",
                    "radius": 9,
                    "color": "#222222",
                    "fillColor": colour,
                }
            )
    pts = features(
        inter,
        title=kind_text + " " + inter["candidate_id"].astype(str),
        search=inter["candidate_id"],
        gcj02=gcj02,
        language=lang,
        marker=marker,
        facts=[
            (label("kind", lang), kind_text),
            (label("cost_cny", lang), inter["cost_cny"].round(0)),
            (label("backhaul", lang), back_text),
            (label("batch_no", lang), inter["batch"]),
            (label("serves", lang), inter["serves"].map(served)),
        ],
    )
    if segs is not None and len(segs):
        lines = features(
            segs,
            title=pd.Series(label("route", lang), index=segs.index),
            search=None,
            gcj02=gcj02,
            language=lang,
            style=[{"color": ROUTE_COLOUR, "weight": 4, "opacity": 0.9}] * len(segs),
            facts=[
                (label("route_id", lang), segs["segment_id"]),
                (label("length_km", lang), (segs["length_m"] / 1000).round(2)),
                (label("cost_cny", lang), segs["cost_cny"].round(0)),
                (label("serves", lang), segs["serves"].map(served)),
            ],
        )
        pts["features"] = lines["features"] + pts["features"]
    return pts


def _legend_sections(
    lang: Language, coverage: Raster | None, *, verify: bool = False
) -> list[tuple[str, list[tuple[str, str, str]]]]:
    sec = [
        (
            label("villages", lang),
            [("dot", STATUS_COLOURS[k], label(f"bb_{k}", lang)) for k in ("fibre", "5g", "4g", "none", "unknown")]
            + [("poor", "#ffffff", label("poor", lang))],
        ),
        (
            label("schools", lang),
            [("ring", OUTLET_COLOURS[k], label(k, lang)) for k in ("outlet_ok", "outlet_low", "not_connected")],
        ),
        (
            label("proposal", lang),
            [
                ("star", INTERVENTION_COLOURS["new_site"], label("new_site", lang)),
                ("diamond", INTERVENTION_COLOURS["upgrade_5g"], label("upgrade_5g", lang)),
                ("diamond", INTERVENTION_COLOURS["share"], label("share", lang)),
                ("diamond", INTERVENTION_COLOURS["share_5g"], label("share_5g", lang)),
                ("diamond", INTERVENTION_COLOURS["line_upgrade"], label("line_upgrade", lang)),
                ("ring", INTERVENTION_COLOURS["fibre"], label("fibre_ext", lang)),
                ("ring", INTERVENTION_COLOURS["satellite"], label("satellite_link", lang)),
                ("line", ROUTE_COLOUR, label("route", lang)),
            ],
        ),
        (
            label("sites", lang),
            [
                ("dot", SITE_COLOURS["4g"], "4G"),
                ("dot", SITE_COLOURS["5g"], "5G"),
                ("line", FIBRE_COLOUR, label("fibre", lang)),
            ],
        ),
    ]
    if verify:  # after the schools: the badges sit beside villages and schools
        sec.insert(2, (label("verify", lang), [("badge", VERIFY_MARKER["fillColor"], label("verify_row", lang))]))
    if coverage is not None:
        keys = ("rsrp_good", "rsrp_mid", "rsrp_edge")
        sec.append(
            (
                label("cov_4g", lang),
                [
                    ("box", "rgba({},{},{},{:.2f})".format(*c[:3], c[3] / 255), label(k, lang))
                    for (_, c), k in zip(RSRP_CLASSES, keys, strict=True)
                ],
            )
        )
    return sec


def save_map(m: folium.Map, path: str | Path) -> Path:
    """Write the map as one HTML file (UTF-8)."""
    path = Path(path)
    path.write_text(m.get_root().render(), encoding="utf-8")
    return path
