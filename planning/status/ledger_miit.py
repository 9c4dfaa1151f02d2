"""The MIIT 台账's fields in field reports: their Chinese headers, and each cell checked and written one way.

The 2018 network poverty-alleviation ledger (工业和信息化部《关于推进网络扶贫的实施方案（2018-2020年）》 and the
universal-service pilot ledgers) tracks per village or school: fibre and 4G status **per operator**, the access
capability in Mbps (a village below 12 Mbps is an upgrade village, 升级村), whether it is included in the universal
service pilot and in which batch (纳入第N批), the reason it is still unconnected (未通原因), the building enterprise
(建设企业), and who accepted it and when (验收人, 验收日期). A report may carry any of them (:data:`MIIT_TRACKED`);
each non-empty cell that changes the row's value is an event, like a status.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable

from planning.status.ledger_base import MIIT_TRACKED, STATUSES, status_name

#: A report's Chinese headers, as a province's 台账 names its columns.
HEADERS_ZH = {
    "编号": "id",
    "台账编号": "id",
    "状态": "status",
    "建设状态": "status",
    "日期": "date",
    "变更日期": "date",
    "备注": "note",
    "实测带宽": "measured_mbps",
    "实测出口带宽": "measured_mbps",
    "核减原因": "reason",
    "电信光纤": "fibre_status_telecom",
    "联通光纤": "fibre_status_unicom",
    "移动光纤": "fibre_status_mobile",
    "电信4G": "lte_status_telecom",
    "联通4G": "lte_status_unicom",
    "移动4G": "lte_status_mobile",
    "接入能力": "access_mbps",
    "接入带宽": "access_mbps",
    "是否纳入普遍服务": "usf_included",
    "普遍服务批次": "usf_batch",
    "未通原因": "unconnected_reason",
    "建设企业": "builder",
    "验收人": "accepted_by",
    "验收单位": "accepted_by",
    "验收日期": "accepted_on",
}
#: Largest access capability a report may state (Mbps): 100 Gbit/s.
MAX_ACCESS_MBPS = 100_000.0
_YES = {"yes", "y", "true", "1", "是", "已纳入"}
_NO = {"no", "n", "false", "0", "否", "未纳入"}


def _status(text: str) -> tuple[str, str]:
    name = status_name(text)
    if name in STATUSES:
        return name, ""
    return "", f"expected one of {list(STATUSES)} (or 未通, 规划, 在建, 竣工, 验收)"


def _mbps(text: str) -> tuple[str, str]:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if math.isfinite(value) and 0.0 <= value <= MAX_ACCESS_MBPS:
        return f"{value:g}", ""
    return "", f"expected a number from 0 to {MAX_ACCESS_MBPS:,.0f} Mbps"


def _flag(text: str) -> tuple[str, str]:
    word = text.lower()
    if word in _YES:
        return "yes", ""
    if word in _NO:
        return "no", ""
    return "", "expected yes or no (是/否)"


def _batch(text: str) -> tuple[str, str]:
    m = re.fullmatch(r"(?:第)?\s*(\d{1,2})\s*(?:批)?", text)
    if m and 1 <= int(m.group(1)) <= 99:
        return str(int(m.group(1))), ""
    return "", "expected a batch number 1-99 (or 第N批)"


def _free_text(text: str) -> tuple[str, str]:
    return text, ""


def _checker(field: str) -> Callable[[str], tuple[str, str]]:
    if field.startswith(("fibre_status_", "lte_status_")):
        return _status
    return {"access_mbps": _mbps, "usf_included": _flag, "usf_batch": _batch}.get(field, _free_text)


def miit_value(
    field: str, text: str, *, parse_date: Callable[[str], dt.date | None], today: dt.date
) -> tuple[str, str]:
    """``(value, '')``: the cell of ``field`` (one of :data:`MIIT_TRACKED`) as the ledger writes it (statuses by
    their lifecycle names, Mbps as a number, yes/no, the batch number, a date as ``YYYY-MM-DD``), or ``('', why)``
    saying what was expected."""
    if field not in MIIT_TRACKED:
        return "", f"`{field}` is not a MIIT field; expected one of {list(MIIT_TRACKED)}"
    text = text.strip()
    if field == "accepted_on":
        day = parse_date(text)
        if day is None:
            return "", "expected a date (YYYY-MM-DD, YYYY/M/D or YYYY年M月D日)"
        if day > today:
            return "", f"{day.isoformat()} is in the future (today is {today.isoformat()})"
        return day.isoformat(), ""
    return _checker(field)(text)
