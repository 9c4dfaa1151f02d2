"""Present: the planner's folium map (:mod:`planning.present.maps`), the proposal report in HTML, XLSX and CSV
(:mod:`planning.present.report`) and their bilingual labels (:mod:`planning.present.labels`)."""
