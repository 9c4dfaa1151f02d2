"""The tables of an HTML page as a planner reads them (report.html, the notebook's output): shared by the tests."""

from __future__ import annotations

from html.parser import HTMLParser


class HtmlTables(HTMLParser):
    """Rows (lists of cell texts) of each table with an id (``tables``), and the ids of the images (``images``)."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.images: list[str] = []
        self._id = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self._id = a.get("id")
            self.tables[self._id] = []
        elif tag == "tr" and self._id:
            self.tables[self._id].append([])
        elif tag in ("td", "th") and self._id:
            self._cell = ""
        elif tag == "img":
            self.images.append(a.get("id", ""))

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[self._id][-1].append(self._cell)
            self._cell = None
        elif tag == "table":
            self._id = None
