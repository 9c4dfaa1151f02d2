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
the map, so they line up with the vectors at every zoom (:mod:`planning.present.map_raster`); the layers' GeoJSON
and popup facts are :mod:`planning.present.popups`.
"""

from __future__ import annotations

import base64
import html
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure, MacroElement

from gis.crs import wgs84_to_gcj02
from gis.errors import LayerError
from gis.settings import Basemap
from planning.plan import backhaul_layer
from planning.present.labels import (
    FIBRE_COLOUR,
    INTERVENTION_COLOURS,
    MICROWAVE_COLOUR,
    OUTLET_COLOURS,
    ROAD_COLOUR,
    ROUTE_COLOUR,
    RSRP_CLASSES,
    SITE_COLOURS,
    STATUS_COLOURS,
    Language,
    label,
    point_names,
)
from planning.present.map_raster import Raster, hillshade_rgba, png_data_url, rsrp_rgba
from planning.present.popups import (
    VERIFY_MARKER,
    coded,
    column_or,
    features,
    proposal_batches,
    proposal_features,
    school_features,
    verify_features,
    village_features,
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


def _figure(element: Element) -> Figure:
    """The figure an element is drawn in (branca types ``get_root`` as any element; a map's root is its figure)."""
    root = element.get_root()
    assert isinstance(root, Figure)
    return root


def _parent_name(element: Element) -> str:
    """The script name of the element's parent (an element is rendered only once added to one)."""
    assert element._parent is not None
    return element._parent.get_name()


class _RawScript(MacroElement):
    """A map element whose script is built in Python by :meth:`script` and never passes through Jinja."""

    def script(self) -> str:
        raise NotImplementedError

    # branca's MacroElement.render returns None (unannotated); its base Element.render is declared `-> str`
    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        _figure(self).script.add_child(_Raw(self.script()), name=self.get_name())
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

    # branca's MacroElement.render returns None (unannotated); its base Element.render is declared `-> str`
    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        parent = _parent_name(self)
        _figure(self).script.add_child(
            _Raw(f"var {self.get_name()} = coverplanLayer({json_for_script(self.key)}, {self.data_json}, {parent});"),
            name=self.get_name(),
        )
        if self.show:
            _figure(self).script.add_child(_Raw(f"{self.get_name()}.addTo({parent});"), name=self.get_name() + "_add")


class _Search(_RawScript):
    def __init__(self, placeholder: str, no_match: str):
        super().__init__()
        self._name = "CoverplanSearch"
        self.placeholder = placeholder
        self.no_match = no_match

    def script(self) -> str:
        return (
            f"coverplanSearch({_parent_name(self)}, {json_for_script(self.placeholder)}, "
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
            f"coverplanControl({_parent_name(self)}, {json_for_script(self.position)}, "
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
            f"coverplanControl({_parent_name(self)}, {json_for_script(self.position)}, "
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
            f"coverplanTileFallback({_parent_name(self)}, {self.base.get_name()}, [{parts}], "
            f"{self.local.get_name()}, {json_for_script(self.note)}, {self.wait_ms});"
        )


class _Panels(_RawScript):
    """Collapsible headers for the layer control and legend, and their heights fitted to the window."""

    def __init__(self, layers_title: str):
        super().__init__()
        self._name = "CoverplanPanels"
        self.layers_title = layers_title

    def script(self) -> str:
        return f"coverplanPanels({_parent_name(self)}, {json_for_script(self.layers_title)});"


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
    """Legend rows: (kind: dot|ring|poor|line|thin_line|box|star|diamond|badge, colour, text)."""
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
            elif kind == "thin_line":  # a road: 1.5 px on the map
                sw = f'<span class="cp-line" style="border-color:{c};border-top-width:2px"></span>'
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
    header = _figure(m).header
    header.add_child(_Raw(f"<style>{css}</style>"), name="leaflet_css_inline")
    header.add_child(_Raw(f"<script>{js}</script>"), name="leaflet_js_inline")


def _own_assets(m: folium.Map) -> None:
    css = (ASSETS / "coverplan_map.css").read_text(encoding="utf-8")
    js = (ASSETS / "coverplan_map.js").read_text(encoding="utf-8")
    header = _figure(m).header
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
    roads: gpd.GeoDataFrame | None = None,
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
    roads : GeoDataFrame, optional
        The project's roads (``road_id``, ``class``, ``surface``, ``name``), thin grey lines under the fibre.
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
    frames = {"sites": sites, "fibre": fibre, "roads": roads, "interventions": interventions, "routes": routes}
    _check_crs(admin=admin, villages=villages, schools=schools, **frames)
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
    _roads_layer(ctx, roads)
    _network_layers(ctx, fibre, sites)
    _status_and_proposal_layers(
        ctx, villages, schools, interventions, routes, verification, outlet_target_mbps=outlet_target_mbps
    )
    if interventions is not None:
        _backhaul_layer(ctx, backhaul_layer(interventions))
    _controls(ctx, coverage, title, verify=verification is not None, roads=roads is not None and len(roads) > 0)
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
            "villages", village_features(villages, language, gcj02=ctx.gcj02), name=label("villages", language)
        )
    )
    ctx.add(
        GeoJsonLayer(
            "schools",
            school_features(schools, language, gcj02=ctx.gcj02, target=outlet_target_mbps),
            name=label("schools", language),
        )
    )
    if verification is not None:
        data = verify_features(verification, villages, schools, language, gcj02=ctx.gcj02, target=outlet_target_mbps)
        ctx.add(GeoJsonLayer("verify", data, name=label("verify", language)))
    names = point_names(villages, schools)
    for batch, inter, segs in proposal_batches(interventions, routes):
        data = proposal_features(inter, segs, language, names=names, gcj02=ctx.gcj02)
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
            png_data_url(rgba),
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
            png_data_url(rgba), bounds=bb, name=label(key, ctx.lang), overlay=True, show=(b == 0), z_index=2
        ).add_to(ctx.m)


def _roads_layer(ctx: _MapContext, roads: gpd.GeoDataFrame | None) -> None:
    """The project's roads: thin grey lines (popup: name or id, class, surface, length)."""
    if roads is None or not len(roads):
        return
    lang = ctx.lang
    length_km = pd.Series(shapely.length(np.asarray(roads.geometry.values)) / 1000, index=roads.index).round(2)
    names = column_or(roads, "name", None)
    title = names.where(names.notna() & (names.astype(str).str.strip() != ""), roads["road_id"])
    ctx.add(
        GeoJsonLayer(
            "roads",
            features(
                roads,
                title=title,
                search=None,
                gcj02=ctx.gcj02,
                language=lang,
                facts=[
                    (label("road_class", lang), column_or(roads, "class", "")),
                    (label("road_surface", lang), column_or(roads, "surface", "")),
                    (label("length_km", lang), length_km),
                ],
                style=[{"color": ROAD_COLOUR, "weight": 1.5, "opacity": 0.8}] * len(roads),
            ),
            name=label("roads", lang),
        )
    )


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
                        (label("kind", lang), coded(column_or(fibre, "kind", ""), "kind", lang)),
                        (label("operator", lang), coded(column_or(fibre, "operator", ""), "operator", lang)),
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
                        (label("operator", lang), coded(column_or(sites, "operator", ""), "operator", lang)),
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


def _backhaul_layer(ctx: _MapContext, hops: gpd.GeoDataFrame) -> None:
    """The proposal's microwave hops (lines) and relays (points, with their WGS84 position to survey)."""
    if not len(hops):
        return
    lang = ctx.lang
    relay = (hops["feature"] == "relay").to_numpy()
    lonlat = [f"{x:.6f}, {y:.6f}" if r else "" for x, y, r in zip(hops["lon"], hops["lat"], relay, strict=True)]
    title = pd.Series(
        np.where(relay, label("relay", lang) + " " + hops["hop_id"], label("hop", lang) + " " + hops["hop_id"]),
        index=hops.index,
    )
    style = {"color": MICROWAVE_COLOUR, "weight": 2, "opacity": 0.9, "dashArray": "6 4"}
    marker = {"radius": 5, "color": MICROWAVE_COLOUR, "weight": 2, "fillOpacity": 0.9, "fillColor": "#ffffff"}
    ctx.add(
        GeoJsonLayer(
            "backhaul",
            features(
                hops,
                title=title,
                search=hops["hop_id"].where(relay, ""),
                gcj02=ctx.gcj02,
                language=lang,
                facts=[
                    (label("serves", lang), hops["candidate_id"]),
                    (label("band_ghz", lang), hops["band_ghz"]),
                    (label("length_km", lang), (hops["length_m"] / 1000.0).round(2)),
                    (label("clearance_f1", lang), hops["clearance_f1"]),
                    (label("availability_pct", lang), hops["availability_pct"]),
                    (label("dish_m", lang), hops["dish_m"]),
                    (label("capacity_mbps", lang), hops["capacity_mbps"]),
                    (label("height_m", lang), hops["relay_height_m"]),
                    (label("cost_cny", lang), hops["cost_cny"].fillna(hops["relay_cny"])),
                    (label("lonlat", lang), pd.Series(lonlat, index=hops.index)),
                ],
                style=[style] * len(hops),
                marker=[marker] * len(hops),
            ),
            name=label("backhaul_layer", lang),
        )
    )


def _controls(
    ctx: _MapContext, coverage: Raster | None, title: str, *, verify: bool = False, roads: bool = False
) -> None:
    """Title, search box, layer control and legend; the layer control and legend stack under the title in the
    top-right corner, collapsible and sized to the window (``coverplanPanels``)."""
    lang = ctx.lang
    if title:
        _TextControl(title, css_class="coverplan-title", position="topright").add_to(ctx.m)
    _Search(label("search", lang), label("no_match", lang)).add_to(ctx.m)
    folium.LayerControl(collapsed=False, position="topright").add_to(ctx.m)
    _HtmlControl(
        _legend_html(
            lang, title=label("legend", lang), sections=_legend_sections(lang, coverage, verify=verify, roads=roads)
        ),
        css_class="coverplan-legend",
        position="topright",
    ).add_to(ctx.m)
    _Panels(label("layers_button", lang)).add_to(ctx.m)


def _shift_bounds(b: list[list[float]]) -> list[list[float]]:
    lon, lat = wgs84_to_gcj02(np.array([b[0][1], b[1][1]]), np.array([b[0][0], b[1][0]]))
    return [[float(lat[0]), float(lon[0])], [float(lat[1]), float(lon[1])]]


def _legend_sections(
    lang: Language, coverage: Raster | None, *, verify: bool = False, roads: bool = False
) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """The legend's sections: (heading, rows of (swatch kind, colour, text)); the roads' row where the map has
    roads (a thin grey line, as drawn)."""
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
            label("network_roads" if roads else "sites", lang),
            [
                ("dot", SITE_COLOURS["4g"], "4G"),
                ("dot", SITE_COLOURS["5g"], "5G"),
                ("line", FIBRE_COLOUR, label("fibre", lang)),
                *([("thin_line", ROAD_COLOUR, label("roads", lang))] if roads else []),
            ],
        ),
    ]
    if verify:  # after the schools: the badges sit beside villages and schools
        sec.insert(2, (label("verify", lang), [("badge", str(VERIFY_MARKER["fillColor"]), label("verify_row", lang))]))
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
