"""Present: the planner's folium map (:mod:`planning.present.maps`, its rasters :mod:`planning.present.map_raster`
and popups :mod:`planning.present.popups`), the proposal report in HTML, XLSX and CSV (:mod:`planning.present.report`)
and their bilingual labels (:mod:`planning.present.labels`); an executed notebook as HTML without code
(:mod:`planning.present.notebook_html`)."""

from planning.present.labels import code_text, label
from planning.present.maps import save_map
from planning.present.notebook import applicant_text, map_iframe, md_text, nothing_to_plan_text, table_html
from planning.present.notebook_html import notebook_page
from planning.present.report import charts, report_tables, write_report
from planning.present.stage import map_stage

__all__ = [
    "applicant_text",
    "charts",
    "code_text",
    "label",
    "map_iframe",
    "map_stage",
    "md_text",
    "notebook_page",
    "nothing_to_plan_text",
    "report_tables",
    "save_map",
    "table_html",
    "write_report",
]
