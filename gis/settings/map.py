"""Map settings (``[map]``): the background and the hillshade of the folium map (:mod:`planning.present.maps`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from gis.settings.fields import num

__all__ = ["BASEMAPS", "Basemap", "MapSettings"]

#: Background maps of the folium map: AMap (GCJ-02 tiles), Tianditu (needs a key), OSM, none.
Basemap = Literal["amap", "tianditu", "osm", "none"]
BASEMAPS: tuple[Basemap, ...] = get_args(Basemap)


@dataclass(frozen=True)
class MapSettings:
    """The folium map of a run (planning.present.maps).

    Attributes
    ----------
    basemap : {"amap", "tianditu", "osm", "none"}
        Tile background when online: ``amap`` (AMap/Gaode; the layers are shifted to GCJ-02 to match it),
        ``tianditu`` (needs ``tianditu_key``), ``osm`` or ``none``. A hillshade rendered from the DEM is always
        offered as a background too.
    tianditu_key : str
        Tianditu (天地图) token, required for ``basemap = "tianditu"``: letters and digits only.
    offline : bool
        Inline Leaflet into map.html and use only the local hillshade background: the map opens on an intranet
        with no tile server and no CDN (``coverplan run --offline`` sets it too).
    hillshade_max_px : int
        Largest side of the hillshade image in pixels (the DEM is resampled down to it).
    """

    basemap: Basemap = "amap"
    tianditu_key: str = ""
    offline: bool = False
    hillshade_max_px: int = num(1600, 64, 8192, unit="px", integer=True)
