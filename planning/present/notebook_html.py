"""An executed notebook as one HTML page without code: the pilot application (申报书) a planner hands in.

No template engine and no nbconvert: every text from the notebook is written through :func:`html.escape`.

* Markdown cells and ``text/markdown`` outputs pass through :func:`markdown_html`, a small subset of Markdown
  (headings ``#``-``######``, paragraphs, ``-``/``*``/``1.`` lists, ``>`` quotes, ``**bold**``, ``*italic*``,
  `` `code` ``, backslash escapes and character references). Everything else (links, images, raw HTML, tables)
  shows as the text it is: a link is never followed, raw HTML never parsed;
* code cells are left out; their outputs are kept: ``image/png`` as an ``<img>`` with a ``data:`` URI (checked to
  be a PNG), ``text/html`` only when coverplan itself made it (:func:`planning.present.notebook.table_html` and
  :func:`planning.present.notebook.map_iframe`, which escape every text from data; recognised by their wrapper
  ``div``), any other HTML as its ``text/plain``; stdout as preformatted text; stderr (warnings) left out;
* the page's title is the notebook's first ``#`` heading.

Pure functions on the notebook's JSON (``nbformat`` node or a plain dict); the command
``coverplan notebook export`` (:mod:`planning.cli.notebook`) executes the notebook and writes the page.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
from collections.abc import Iterable, Mapping

#: Wrappers of the HTML that coverplan's notebook helpers write (:mod:`planning.present.notebook`).
COVERPLAN_HTML_PREFIXES = ('<div class="coverplan-table">', '<div class="coverplan-map"')
#: First bytes of every PNG file.
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

#: The page's style (the tables and map bring their own, scoped to their wrappers).
PAGE_CSS = (
    "body { font-family: 'Noto Sans CJK SC', 'Microsoft YaHei', 'PingFang SC', sans-serif; max-width: 1180px; "
    "margin: 24px auto; padding: 0 20px; line-height: 1.6; color: #222; }"
    "h1 { font-size: 26px; border-bottom: 2px solid #333; padding-bottom: 6px; }"
    "h2 { font-size: 20px; margin-top: 32px; border-bottom: 1px solid #bbb; }"
    "h3 { font-size: 17px; }"
    "blockquote { margin: 8px 0; padding: 4px 14px; border-left: 4px solid #9ab; background: #f5f8fa; }"
    "code { background: #f0f0f0; padding: 0 3px; border-radius: 3px; }"
    "pre { background: #f7f7f7; padding: 8px; overflow-x: auto; }"
    "img { max-width: 100%; }"
    ".output { margin: 6px 0; overflow-x: auto; }"
)

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^\s{0,3}[-*+]\s+(.*)$")
_ORDERED = re.compile(r"^\s{0,3}\d{1,9}[.)]\s+(.*)$")
_QUOTE = re.compile(r"^\s{0,3}>\s?(.*)$")
_ENTITY = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
#: ASCII punctuation that a backslash makes literal (CommonMark).
_ESCAPABLE = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def _literal(text: str) -> str:
    """``text`` escaped for HTML, control characters (but tabs and line breaks) as spaces."""
    clean = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in text)
    return html.escape(clean, quote=True)


def _code_span(text: str, i: int) -> tuple[str, int] | None:
    """The code span opening at ``text[i]`` (a run of backticks) and the index after it, or None."""
    run = len(text[i:]) - len(text[i:].lstrip("`"))
    close = text.find("`" * run, i + run)
    while close != -1 and text[close + run : close + run + 1] == "`":
        close = text.find("`" * run, close + run + 1)
    if close == -1:
        return None
    return f"<code>{_literal(text[i + run : close].strip() or text[i + run : close])}</code>", close + run


def _emphasis(text: str, i: int) -> tuple[str, int] | None:
    """``**strong**`` or ``*em*`` opening at ``text[i]``, and the index after it, or None (``_`` stays a letter:
    names such as ``is_poor`` are common in the text)."""
    mark = "**" if text.startswith("**", i) else "*"
    inner_start = i + len(mark)
    if inner_start >= len(text) or text[inner_start].isspace():
        return None
    close = text.find(mark, inner_start)
    while close != -1 and text[close - 1] == "\\":
        close = text.find(mark, close + 1)
    if close in (-1, inner_start) or text[close - 1].isspace():
        return None
    tag = "strong" if len(mark) == 2 else "em"
    return f"<{tag}>{inline_html(text[inner_start:close])}</{tag}>", close + len(mark)


def inline_html(text: str) -> str:
    """One Markdown paragraph's text as HTML: escapes, entities, code spans and emphasis; all text escaped."""
    out: list[str] = []
    plain: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        made: tuple[str, int] | None = None
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in _ESCAPABLE:
            plain.append(text[i + 1])
            i += 2
            continue
        if ch == "&" and (m := _ENTITY.match(text, i)):
            plain.append(html.unescape(m.group(0)))
            i = m.end()
            continue
        if ch == "`":
            made = _code_span(text, i)
        elif ch == "*":
            made = _emphasis(text, i)
        if made is None:
            plain.append(ch)
            i += 1
            continue
        out.append(_literal("".join(plain)))
        plain = []
        out.append(made[0])
        i = made[1]
    out.append(_literal("".join(plain)))
    return "".join(out)


def _list_html(lines: list[str], pattern: re.Pattern[str], tag: str) -> str:
    """Items of a list (continuation lines joined to their item)."""
    items: list[str] = []
    for line in lines:
        m = pattern.match(line)
        if m:
            items.append(m.group(1))
        elif items:
            items[-1] = _join([items[-1], line])
    return f"<{tag}>" + "".join(f"<li>{inline_html(item)}</li>" for item in items) + f"</{tag}>"


def _join(lines: Iterable[str]) -> str:
    """Lines of one paragraph or item joined: without a break between two wide (CJK) characters, where a line
    break would show as a space in the middle of a Chinese sentence, else with one."""
    out = ""
    for line in (ln.strip() for ln in lines):
        if out and line:
            out += "" if ord(out[-1]) > 0x2E7F and ord(line[0]) > 0x2E7F else "\n"
        out += line
    return out


def _blocks(lines: list[str]) -> Iterable[tuple[str, list[str]]]:
    """The Markdown blocks of ``lines``: (kind, lines) with kind heading, quote, ul, ol or p."""
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        if _HEADING.match(line):
            yield "heading", [line]
            i += 1
            continue
        kind = "quote" if _QUOTE.match(line) else "ul" if _BULLET.match(line) else "ol" if _ORDERED.match(line) else "p"
        block = [line]
        i += 1
        while i < len(lines) and lines[i].strip() and not _HEADING.match(lines[i]):
            nxt = lines[i]
            if kind == "quote" and not _QUOTE.match(nxt):
                break
            if kind == "p" and (_QUOTE.match(nxt) or _BULLET.match(nxt) or _ORDERED.match(nxt)):
                break
            block.append(nxt)
            i += 1
        yield kind, block


def markdown_html(text: str) -> str:
    """Markdown ``text`` (the subset in the module docstring) as HTML in which every text is escaped.

    Examples
    --------
    >>> markdown_html("## 一、概况\\n\\n- **村**：<b>3</b> 个")
    '<h2>一、概况</h2>\\n<ul><li><strong>村</strong>：&lt;b&gt;3&lt;/b&gt; 个</li></ul>'
    """
    parts: list[str] = []
    for kind, block in _blocks(text.replace("\r\n", "\n").replace("\r", "\n").split("\n")):
        if kind == "heading":
            m = _HEADING.match(block[0])
            assert m is not None  # _blocks matched it
            level = len(m.group(1))
            parts.append(f"<h{level}>{inline_html(m.group(2))}</h{level}>")
        elif kind == "quote":
            inner = [_QUOTE.sub(r"\1", line, count=1) for line in block]
            parts.append(f"<blockquote>{markdown_html(chr(10).join(inner))}</blockquote>")
        elif kind == "ul":
            parts.append(_list_html(block, _BULLET, "ul"))
        elif kind == "ol":
            parts.append(_list_html(block, _ORDERED, "ol"))
        else:
            parts.append(f"<p>{inline_html(_join(block))}</p>")
    return "\n".join(parts)


def _text(value: object) -> str:
    """A notebook's multi-line field (a string or a list of strings) as one string."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(str(v) for v in value)
    return ""


def _png_html(data: object) -> str | None:
    """An ``<img>`` of base64 PNG ``data``, or None when it is not a PNG."""
    raw = _text(data).replace("\n", "")
    try:
        decoded = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        return None
    if not decoded.startswith(PNG_SIGNATURE):
        return None
    return f'<img alt="" src="data:image/png;base64,{base64.b64encode(decoded).decode("ascii")}">'


def _data_html(data: Mapping[str, object]) -> str:
    """A display output's richest safe form (see the module docstring), or ''."""
    page = _text(data.get("text/html"))
    if page.startswith(COVERPLAN_HTML_PREFIXES):
        return page
    img = _png_html(data["image/png"]) if "image/png" in data else None
    if img is not None:
        return img
    if "text/markdown" in data:
        return markdown_html(_text(data["text/markdown"]))
    if "text/plain" in data:
        return f"<pre>{_literal(_text(data['text/plain']))}</pre>"
    return ""


def output_html(output: Mapping[str, object]) -> str:
    """One output of a code cell as HTML ('' for stderr, errors and outputs with nothing to show)."""
    kind = output.get("output_type")
    data = output.get("data")
    if kind == "stream" and output.get("name") == "stdout":
        return f"<pre>{_literal(_text(output.get('text')))}</pre>"
    if kind in ("display_data", "execute_result") and isinstance(data, Mapping):
        return _data_html(data)
    return ""


def notebook_title(cells: Iterable[Mapping[str, object]], *, default: str = "coverplan") -> str:
    """The text of the first ``#`` heading of the notebook's Markdown cells, or ``default``."""
    for cell in cells:
        if cell.get("cell_type") != "markdown":
            continue
        for line in _text(cell.get("source")).splitlines():
            m = _HEADING.match(line)
            if m and len(m.group(1)) == 1:
                return re.sub(r"[\\*_`]", "", m.group(2)).strip() or default
    return default


def notebook_page(notebook: Mapping[str, object], *, language: str = "zh-CN") -> str:
    """The executed ``notebook`` as one HTML page without its code (see the module docstring).

    Parameters
    ----------
    notebook : mapping
        An nbformat 4 notebook (``nbformat.read``), its code cells executed.
    language : str
        The page's ``lang`` (BCP 47), for fonts and screen readers.

    Returns
    -------
    str
        The page; it loads nothing from the network (images are inlined, the map is inlined in its iframe).
    """
    cells = notebook.get("cells")
    cells = [c for c in cells if isinstance(c, Mapping)] if isinstance(cells, list) else []
    body: list[str] = []
    for cell in cells:
        if cell.get("cell_type") == "markdown":
            body.append(f'<section class="md">{markdown_html(_text(cell.get("source")))}</section>')
        elif cell.get("cell_type") == "code":
            outs = cell.get("outputs")
            shown = [output_html(o) for o in outs if isinstance(o, Mapping)] if isinstance(outs, list) else []
            body.extend(f'<div class="output">{s}</div>' for s in shown if s)
    title = _literal(notebook_title(cells))
    return (
        f'<!DOCTYPE html>\n<html lang="{html.escape(language, quote=True)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="coverplan notebook export">\n'
        f"<title>{title}</title>\n<style>{PAGE_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )
