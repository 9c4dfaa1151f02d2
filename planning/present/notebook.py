"""What a notebook shows a planner: the report's tables formatted as the report formats them, and the map embedded in
the notebook itself.

* :func:`table_html`: a table as ``report.html`` shows it (:func:`planning.present.report.html_table`: headings from
  the column metadata in the project's language, shares as %, CNY with thousands separators, codes as the
  planner's words), with a style scoped to it, for ``IPython.display.HTML``;
* :func:`md_text`: any text from data (a county, an operator, a name, a file name) made inert for the notebook's
  Markdown: Markdown is also HTML, so ``<>&"'`` become character references, and every Markdown metacharacter
  (links, images, emphasis, code, tables, headings, LaTeX ``$``) is backslash-escaped; line breaks become spaces.
  A Markdown cell or ``display(Markdown(...))`` puts data only through it;
* :func:`nothing_to_plan_text`: the line a notebook shows for an empty plan (nothing lacks anything);
* :func:`applicant_text`: who applies and who builds, as the chosen rule packs say (with the citation; with no
  pack the default and its source), as inert Markdown;
* :func:`map_iframe`: a whole map page (``map.html``: Leaflet and the data inlined) inside an ``<iframe srcdoc>``,
  so the map travels with the notebook and its HTML export: nothing points at a file that may not be there. The
  page is escaped as one attribute value (``&``, ``<``, ``>`` and both quotes), which the browser decodes back to
  the page; a page is never parsed as part of the notebook's own HTML.

Pure functions returning text: no IPython import here (the notebook wraps the text in ``HTML``).
"""

from __future__ import annotations

import html

import pandas as pd

from gis.settings import Programme
from planning.present.application import applicant_sentence
from planning.present.labels import Language, label
from planning.present.report import html_table, share_columns

#: Characters written as HTML character references (Markdown passes raw HTML through).
_HTML_REFS = {c: f"&#{ord(c)};" for c in "<>&\"'"}
#: ASCII punctuation Markdown may read as syntax (CommonMark lets any of it be backslash-escaped).
_MD_PUNCT = frozenset("\\`*_{}[]()#+-.!|~$:=@%^;,/?")

#: Style of the tables, scoped to their wrapper (``div.coverplan-table``) so the notebook's own style is untouched.
TABLE_CSS = (
    ".coverplan-table table { border-collapse: collapse; margin: 6px 0 14px; font-size: 13px; }"
    ".coverplan-table th, .coverplan-table td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; "
    "white-space: nowrap; }"
    ".coverplan-table th { background: #f0f0f0; }"
    ".coverplan-table td.t, .coverplan-table th.t { text-align: left; white-space: normal; min-width: 4.5em; }"
    ".coverplan-table caption { caption-side: top; text-align: left; font-weight: bold; padding: 2px 0; }"
)
#: Height of the embedded map (px): the map's layout (legend and layer control) is checked at 1366 x 625 and up.
MAP_HEIGHT_PX = 640


def table_html(
    frame: pd.DataFrame,
    *,
    table_id: str,
    language: Language,
    table: str | None = None,
    share_cols: tuple[str, ...] | None = None,
) -> str:
    """``frame`` as the report shows it, in a ``div.coverplan-table`` with its style.

    Parameters
    ----------
    frame : DataFrame
        A report table (:func:`planning.present.report.report_tables`) or any frame of known columns
        (:data:`planning.present.labels.COLUMNS`).
    table_id : str
        The HTML ``id`` of the table.
    language : {"zh", "en"}
        Headings and words.
    table : str, optional
        The report table whose column metadata applies (default ``table_id``).
    share_cols : tuple of str, optional
        Columns shown as percentages whatever their metadata says (default: those the report shows so,
        :func:`planning.present.report.share_columns`).
    """
    shares = share_columns(frame) if share_cols is None else share_cols
    body = html_table(frame, table_id=table_id, language=language, table=table, share_cols=shares)
    return f'<div class="coverplan-table"><style>{TABLE_CSS}</style>{body}</div>'


def md_text(value: object) -> str:
    """``value`` as inert Markdown text that shows exactly as written (see the module docstring)."""
    out = []
    for ch in " ".join(str(value).splitlines()):
        if ch in _HTML_REFS:
            out.append(_HTML_REFS[ch])
        elif ch in _MD_PUNCT:
            out.append("\\" + ch)
        elif ch.isprintable():
            out.append(ch)
        else:  # control characters (NUL, escapes) never reach the page
            out.append(" ")
    return "".join(out)


def nothing_to_plan_text(totals: dict, *, language: Language) -> str:
    """The notebook's line for an empty plan (``totals['nothing_to_plan']``), or '' when there is a plan."""
    return label("nothing_to_plan", language) if totals.get("nothing_to_plan") else ""


def applicant_text(programme: Programme, *, language: Language) -> str:
    """The notebook's applicant line (:func:`planning.present.application.applicant_sentence`) as inert
    Markdown."""
    return md_text(applicant_sentence(programme, language=language))


def map_iframe(page: str, *, height_px: int = MAP_HEIGHT_PX, title: str = "map") -> str:
    """The map page ``page`` (the text of ``map.html``) embedded in an ``<iframe srcdoc>`` in a ``div``.

    Raises
    ------
    ValueError
        When ``page`` is not an HTML page (no ``<html``) or ``height_px`` is not a positive number of pixels.
    """
    if "<html" not in page[:2000].lower():
        msg = f"`page` starts {page[:60]!r}; expected the text of an HTML page (map.html)"
        raise ValueError(msg)
    if not 100 <= height_px <= 4000:
        msg = f"`height_px` = {height_px}; expected 100 to 4000 pixels"
        raise ValueError(msg)
    return (
        '<div class="coverplan-map" style="width:100%">'
        f'<iframe title="{html.escape(title, quote=True)}" srcdoc="{html.escape(page, quote=True)}" '
        f'style="display:block;width:100%;height:{int(height_px)}px;border:1px solid #ccc;box-sizing:border-box">'
        "</iframe></div>"
    )
