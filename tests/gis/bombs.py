"""Hostile files built small on disk, for the hostile-reader tests and ``bench/hostile.py``.

Each declares a size far beyond what it holds (or holds it compressed far beyond reason) while staying a few
kilobytes or megabytes on disk: a sparse file, a zip whose directory declares a member bigger than it is, a zip
of deflated zeros built from one repeated deflate block, a GeoTIFF whose header declares 10^6 x 10^6 cells, a
workbook with a part declared 4 GiB or a DTD entity bomb.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine


def sparse_file(path: Path, size: int) -> Path:
    """A file of ``size`` bytes that takes no disk space (a hole)."""
    with open(path, "wb") as fh:
        fh.truncate(size)
    return path


def _patch_declared_size(path: Path, member: str, declared: int) -> None:
    """Overwrite the uncompressed size a zip declares for ``member`` (local header and central directory)."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    for sig, size_at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        name_at = 30 if sig == b"PK\x03\x04" else 46
        pos = data.find(sig)
        while pos >= 0:
            nlen = struct.unpack_from("<H", data, pos + (26 if sig == b"PK\x03\x04" else 28))[0]
            if bytes(data[pos + name_at : pos + name_at + nlen]) == name:
                struct.pack_into("<I", data, pos + size_at, declared)
            pos = data.find(sig, pos + 4)
    path.write_bytes(bytes(data))


def zip_declaring(path: Path, member: str, data: bytes, declared: int, *, others: dict | None = None) -> Path:
    """A zip holding ``member`` (``data`` deflated) whose headers declare it ``declared`` bytes (< 4 GiB)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in (others or {}).items():
            zf.writestr(name, content)
        zf.writestr(member, data)
    _patch_declared_size(path, member, declared)
    return path


def zip_of_zeros(path: Path, member: str, size_mib: int) -> Path:
    """An honest ZIP64 file holding ``member`` of ``size_mib`` MiB of zero bytes, deflated (~1 KB per MiB).

    One deflate block of 1 MiB of zeros ending in a full flush (no reference to what came before) is repeated
    ``size_mib`` times, then an empty final block: a valid stream, built without compressing gigabytes.
    """
    zeros = bytes(2**20)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    end = zlib.compressobj(9, zlib.DEFLATED, -15)
    final = end.compress(b"") + end.flush()
    crc = 0
    for _ in range(size_mib):
        crc = zlib.crc32(zeros, crc)
    usize, csize = size_mib * 2**20, len(block) * size_mib + len(final)
    name = member.encode()
    extra = struct.pack("<HHQQ", 1, 16, usize, csize)
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 8, 0, 0x21, crc, 0xFFFFFFFF, 0xFFFFFFFF, len(name), 20)
    with open(path, "wb") as fh:
        fh.write(local + name + extra)
        for _ in range(size_mib):
            fh.write(block)
        fh.write(final)
        cd_at = fh.tell()
        central = struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 8, 0, 0x21, crc, 0xFFFFFFFF, 0xFFFFFFFF, len(name), 20, 0, 0,
            0, 0, 0,
        )  # fmt: skip
        fh.write(central + name + extra)
        cd_size = fh.tell() - cd_at
        fh.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, cd_size, cd_at, 0))
    return path


def forged_geotiff(
    path: Path,
    width: int,
    height: int,
    *,
    transform: Affine | None = None,
    crs: str = "EPSG:4326",
    dtype: str = "float32",
) -> Path:
    """A GeoTIFF of 4 x 4 cells whose header is then patched to declare ``width`` x ``height`` cells (one strip)."""
    path.unlink(missing_ok=True)
    t = transform or Affine(1 / 3600, 0, 126.0, 0, -1 / 3600, 42.0)
    profile = {"driver": "GTiff", "width": 4, "height": 4, "count": 1, "dtype": dtype, "crs": crs, "transform": t}
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.ones((1, 4, 4), dtype=dtype))
    data = bytearray(path.read_bytes())
    assert data[:4] == b"II*\x00", "little-endian classic TIFF expected"
    ifd = struct.unpack_from("<I", data, 4)[0]
    for k in range(struct.unpack_from("<H", data, ifd)[0]):
        at = ifd + 2 + 12 * k
        tag = struct.unpack_from("<H", data, at)[0]
        value = {256: width, 257: height, 278: height}.get(tag)
        if value is not None:
            struct.pack_into("<HII", data, at + 2, 4, 1, 0)  # type LONG, count 1
            struct.pack_into("<I", data, at + 8, value)
    path.write_bytes(bytes(data))
    return path


def xlsx_parts(path: Path, parts: dict[str, bytes], *, declared: dict[str, int] | None = None) -> Path:
    """A workbook zip with the given parts (a minimal valid workbook unless replaced) and forged declared sizes."""
    base = {
        "[Content_Types].xml": (
            b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            b'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            b'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override '
            b'PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            b'spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="'
            b'application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
        ),
        "_rels/.rels": (
            b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            b'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            b'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            b'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
            b'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
            b'relationships"><sheets><sheet name="villages" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            b'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            b'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": (
            b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
            b'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>village_id</t></is>'
            b'</c></row><row r="2"><c r="A2" t="inlineStr"><is><t>v1</t></is></c></row></sheetData></worksheet>'
        ),
    }
    base.update(parts)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in base.items():
            zf.writestr(name, content)
    for name, size in (declared or {}).items():
        _patch_declared_size(path, name, size)
    return path


#: A "billion laughs" entity bomb: 10 levels of 10 references, 10^9 "lol" once expanded.
LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode() for i in range(1, 10)
    )
    + b']><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
    b"<si><t>&lol9;</t></si></sst>"
)
