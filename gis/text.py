"""Text that input may hold: printable characters only.

Refused everywhere text is read (names, ids, counties, notes, project settings):

* control characters (Unicode category Cc: NUL, line breaks, tabs, escapes): GDAL truncates GeoPackage text at a
  NUL, and XML (XLSX) cannot hold C0 controls;
* surrogates (Cs): not characters at all (a name passed as invalid UTF-8 arrives as lone surrogates);
* noncharacters and unassigned code points (Cn: U+FFFE, U+FFFF, U+FDD0..U+FDEF, ...): U+FFFE/U+FFFF make an XLSX
  workbook not well-formed XML, and an unassigned code point is a corrupted or mis-decoded byte, not a name.
  (Unassigned means: in the Unicode version of this Python, 14.0 for Python 3.11.)

Private-use characters (Co) and everything printable (CJK, RTL marks, emoji) pass.
"""

from __future__ import annotations

import unicodedata

#: Unicode categories refused in text (see the module docstring).
REFUSED_CATEGORIES = {"Cc": "control", "Cs": "surrogate", "Cn": "noncharacter or unassigned"}


def bad_characters(value: object, *, allow: str = "") -> str:
    """The refused characters of ``value`` (see the module docstring), e.g. ``control character(s) U+0000,
    U+001B``, or '' when there is none (or ``value`` is not a string). ``allow``: characters let through."""
    if not isinstance(value, str):
        return ""
    found: dict[str, set[str]] = {}
    for ch in value:
        kind = REFUSED_CATEGORIES.get(unicodedata.category(ch))
        if kind and ch not in allow:
            found.setdefault(kind, set()).add(ch)
    return "; ".join(
        f"{kind} character(s) {', '.join(f'U+{ord(c):04X}' for c in sorted(chars, key=ord)[:10])}"
        for kind, chars in found.items()
    )


def text_problem(value: object, *, allow: str = "") -> str | None:
    """A sentence saying which characters of ``value`` are refused and what is expected, or None."""
    bad = bad_characters(value, allow=allow)
    if not bad:
        return None
    shown = repr(value) if len(str(value)) <= 80 else repr(str(value)[:60]) + f" ... ({len(str(value))} characters)"
    return (
        f"{shown} holds {bad}; expected printable text (no control characters such as NUL, line breaks or "
        "escapes, no noncharacters such as U+FFFF, no invalid UTF-8)"
    )
