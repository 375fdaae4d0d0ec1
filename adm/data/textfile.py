"""Decode the text files of a clip (TextGrid, semantic ``.txt``, emotion ``.csv``).

UTF-8 (with or without a byte-order mark) and UTF-16 or UTF-32 with a byte-order mark are
read, as Praat writes them. Any other encoding is an error that says which encoding the file
seems to be in, rather than a confusing parse error further on: above all UTF-16 without a
byte-order mark, which decodes as "valid" UTF-8 full of NUL characters.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from adm.errors import BadClipError

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_ADVICE = "save it as UTF-8 (or UTF-16 with a byte-order mark)"


def foreign_encoding(data: bytes) -> str | None:
    """What ``data`` looks like when it is text in an encoding other than UTF-8 that an ASCII
    reader would choke on (``"UTF-16 (little-endian) without a byte-order mark"``), else
    ``None``."""
    for bom, codec in _BOMS:
        if data.startswith(bom) and codec != "utf-8-sig":
            return f"{codec.upper()} with a byte-order mark"
    endian = _utf16_without_bom(data)
    return None if endian is None else f"UTF-16 ({endian}) without a byte-order mark"


def _utf16_without_bom(data: bytes) -> str | None:
    """``"little-endian"``/``"big-endian"`` when ``data`` looks like BOM-less UTF-16 text
    (mostly ASCII: every other byte is NUL), else ``None``."""
    head = data[:4096]
    even, odd = head[0::2], head[1::2]
    if len(head) < 4:
        return None
    if odd.count(0) > 0.6 * len(odd) and even.count(0) < 0.1 * len(even):
        return "little-endian"
    if even.count(0) > 0.6 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "big-endian"
    return None


def decode_text(path: str | Path, data: bytes) -> str:
    """The text of a clip file, from its bytes.

    Raises:
        BadClipError: not UTF-8 and no byte-order mark; the message names the encoding it
            looks like (UTF-16 without a byte-order mark) or the first undecodable byte.
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError as err:
                raise BadClipError(
                    path, f"not valid {codec.upper()} text despite its byte-order mark ({err})"
                ) from None
    endian = _utf16_without_bom(data)
    if endian is not None:
        raise BadClipError(
            path,
            f"encoding: looks like UTF-16 ({endian}) text without a byte-order mark, which "
            f"cannot be told apart from other encodings safely; {_ADVICE}",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise BadClipError(
            path,
            f"encoding: not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start}); "
            f"{_ADVICE}",
        ) from None
    if "\0" in text:
        raise BadClipError(path, f"not a text file: NUL byte at offset {text.index(chr(0))}")
    return text


def read_text(path: str | Path) -> str:
    """Read and decode a clip text file (:func:`decode_text`).

    Raises:
        BadClipError: unreadable or not text in a supported encoding.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise BadClipError(path, f"cannot read: {e.strerror or e}") from None
    return decode_text(path, data)
