"""Present: the planner's folium map (:mod:`planning.present.maps`, its rasters :mod:`planning.present.map_raster`
and popups :mod:`planning.present.popups`), the proposal report in HTML, XLSX and CSV (:mod:`planning.present.report`)
and their bilingual labels (:mod:`planning.present.labels`)."""
