"""Read and write BVH motion capture files (the BEAT body format).

A BVH file is a ``HIERARCHY`` block (a tree of ``ROOT``/``JOINT``/``End Site`` nodes, each with
an ``OFFSET`` and, for joints, a ``CHANNELS`` list) followed by a ``MOTION`` block: ``Frames:``,
``Frame Time:`` and one line of ``C`` numbers per frame, the channels of all joints in header
order. BEAT uses 75 joints and 228 channels (root: 3 positions + 3 rotations, others: 3
rotations, Euler degrees, intrinsic ``R = Rx Ry Rz`` for channel order XYZ).

BEAT files carry known inconsistencies (see ``beat.md``) that this reader tolerates on purpose:
``Frames:`` may disagree with the motion lines (the lines are trusted), ``Frame Time`` may be wrong
(``read_bvh(fps=...)`` overrides it), and Euler values are unwrapped (beyond +-360 degrees), which
the reader keeps exactly as written.

The motion block is parsed by NumPy's C text reader (``np.loadtxt``) in one call, which is many
times faster than a Python loop; only when it fails does a slow pass run, to name the exact line
and value at fault.
"""

from __future__ import annotations

import codecs
import io
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from adm.data.textfile import foreign_encoding
from adm.errors import BadClipError
from adm.io.atomic import atomic_path

logger = logging.getLogger(__name__)

CHANNEL_NAMES = frozenset(f"{a}{k}" for a in "XYZ" for k in ("position", "rotation"))
# One BVH number as the C reader accepts it; used only to pinpoint a bad value.
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:nan|inf|infinity)", re.I)
_MOTION_LINE = re.compile(rb"^[ \t]*MOTION[ \t]*\r?$", re.M)


@dataclass(frozen=True, eq=False)
class BvhHeader:
    """The skeleton of a BVH file.

    Attributes:
        joints: ``J`` joint names in file order (BEAT: 75, including tips such as ``HeadEnd``).
        parents: parent index per joint, ``-1`` for a root.
        offsets: ``[J, 3]`` float64 ``OFFSET`` of each joint (read-only).
        channels: per joint, its channel names in file order.
        end_sites: joint index -> ``End Site`` offset ``[3]`` float64.
        frame_time: ``Frame Time`` as declared (may be wrong in BEAT files).
        declared_frames: ``Frames`` as declared (may disagree with the motion lines).
    """

    joints: tuple[str, ...]
    parents: tuple[int, ...]
    offsets: np.ndarray
    channels: tuple[tuple[str, ...], ...]
    end_sites: dict[int, np.ndarray] = field(default_factory=dict)
    frame_time: float = 1.0 / 120.0
    declared_frames: int = 0

    def __post_init__(self) -> None:
        offsets = np.array(self.offsets, dtype=np.float64).reshape(len(self.joints), 3)
        offsets.setflags(write=False)
        object.__setattr__(self, "offsets", offsets)
        if not (len(self.parents) == len(self.channels) == len(self.joints)):
            raise ValueError("joints, parents and channels must have the same length")
        starts = np.concatenate([[0], np.cumsum([len(c) for c in self.channels])]).astype(int)
        object.__setattr__(self, "_starts", starts)
        object.__setattr__(self, "_index", {name: i for i, name in enumerate(self.joints)})

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BvhHeader):
            return NotImplemented
        return (
            self.joints == other.joints
            and self.parents == other.parents
            and self.channels == other.channels
            and np.array_equal(self.offsets, other.offsets)
            and self.end_sites.keys() == other.end_sites.keys()
            and all(np.array_equal(v, other.end_sites[k]) for k, v in self.end_sites.items())
            and self.frame_time == other.frame_time
            and self.declared_frames == other.declared_frames
        )

    __hash__ = None  # type: ignore[assignment]  # mutable-array fields: not hashable

    @property
    def num_channels(self) -> int:
        """Total channel count ``C`` (228 for BEAT)."""
        return int(self._starts[-1])

    def joint_index(self, name: str) -> int:
        """Index of joint ``name``; ``ValueError`` naming it if absent."""
        try:
            return self._index[name]
        except KeyError:
            raise ValueError(f"joint {name!r} is not in the BVH header") from None

    def channel_columns(self, joint: str) -> np.ndarray:
        """Motion column indices ``[n]`` of ``joint``'s channels, in file order."""
        i = self.joint_index(joint)
        return np.arange(self._starts[i], self._starts[i + 1])

    def rotation_columns(self, joint: str) -> np.ndarray:
        """The 3 rotation column indices ``[3]`` of ``joint``, ordered as the channels appear."""
        i = self.joint_index(joint)
        cols = [
            self._starts[i] + k for k, c in enumerate(self.channels[i]) if c.endswith("rotation")
        ]
        if len(cols) != 3:
            raise ValueError(f"joint {joint!r} has {len(cols)} rotation channels, expected 3")
        return np.array(cols, dtype=int)

    def rotation_order(self, joint: str) -> str:
        """Euler order from the channel order, e.g. ``"XYZ"`` meaning ``R = Rx Ry Rz``."""
        i = self.joint_index(joint)
        order = "".join(c[0] for c in self.channels[i] if c.endswith("rotation"))
        if sorted(order) != ["X", "Y", "Z"]:
            raise ValueError(f"joint {joint!r} has rotation channels {order!r}, expected X, Y, Z")
        return order


@dataclass(frozen=True, eq=False)
class Bvh:
    """A parsed BVH file: ``motion`` is ``[T, C]`` float32, ``T`` = motion lines present."""

    header: BvhHeader
    motion: np.ndarray
    fps: float
    path: Path | None = None


def _parse_hierarchy(path: Path, lines: list[str]) -> tuple[list, list, list, list, dict]:
    """Parse HIERARCHY lines into (joints, parents, offsets, channels, end_sites)."""
    joints: list[str] = []
    parents: list[int] = []
    offsets: list[list[float]] = []
    channels: list[tuple[str, ...]] = []
    end_sites: dict[int, np.ndarray] = {}
    stack: list[int] = []  # per open brace: joint index j, or -2 - j for the End Site of j
    pending: int | None = None  # node declared, waiting for its "{"
    declared: dict[str, int] = {}  # joint name -> line (a name must be unique)
    first = next((k for k, s in enumerate(lines) if s.strip()), None)
    if first is None or lines[first].strip() != "HIERARCHY":
        raise BadClipError(path, "not a BVH file: the first line is not 'HIERARCHY'")
    for no, raw in enumerate(lines[first + 1 :], start=first + 2):
        tok = raw.split()
        if not tok:
            continue
        key = tok[0]
        if pending is not None and key != "{":
            raise BadClipError(path, f"line {no}: expected '{{' after a joint, got {raw.strip()!r}")
        if key in ("ROOT", "JOINT"):
            if len(tok) != 2:
                raise BadClipError(path, f"line {no}: {key} needs exactly one name")
            if (key == "ROOT") != (not stack) or (stack and stack[-1] < 0):
                raise BadClipError(path, f"line {no}: {key} {tok[1]} at the wrong nesting level")
            if tok[1] in declared:
                raise BadClipError(
                    path,
                    f"line {no}: joint {tok[1]} declared twice (first at line {declared[tok[1]]})",
                )
            declared[tok[1]] = no
            parents.append(stack[-1] if stack else -1)
            joints.append(tok[1])
            offsets.append([0.0, 0.0, 0.0])
            channels.append(())
            pending = len(joints) - 1
        elif key == "End" and tok[1:] == ["Site"]:
            if not stack or stack[-1] < 0:
                raise BadClipError(path, f"line {no}: End Site outside a joint's braces")
            pending = -2
        elif key == "{":
            if pending is None:
                raise BadClipError(path, f"unbalanced braces: '{{' at line {no} opens no joint")
            stack.append(pending if pending >= 0 else -2 - stack[-1])
            pending = None
        elif key == "}":
            if not stack:
                raise BadClipError(path, f"unbalanced braces: '}}' at line {no} closes nothing")
            stack.pop()
        elif key == "OFFSET":
            try:
                xyz = [float(v) for v in tok[1:]]
            except ValueError:
                xyz = []
            if len(xyz) != 3 or not stack:
                raise BadClipError(
                    path, f"line {no}: bad OFFSET {raw.strip()!r}, expected 3 numbers"
                )
            if stack[-1] >= 0:
                offsets[stack[-1]] = xyz
            else:
                end_sites[-2 - stack[-1]] = np.array(xyz, dtype=np.float64)
        elif key == "CHANNELS":
            names = tok[2:]
            if not stack or stack[-1] < 0 or len(tok) < 2 or not tok[1].isdigit():
                raise BadClipError(path, f"line {no}: bad CHANNELS line {raw.strip()!r}")
            if int(tok[1]) != len(names) or not set(names) <= CHANNEL_NAMES:
                raise BadClipError(
                    path, f"line {no}: bad CHANNELS count: declares {tok[1]}, lists {names}"
                )
            channels[stack[-1]] = tuple(names)
        else:
            raise BadClipError(path, f"line {no}: unexpected {key!r} in HIERARCHY")
    if stack or pending is not None:
        raise BadClipError(path, f"unbalanced braces: {len(stack)} '{{' left open before MOTION")
    if not joints:
        raise BadClipError(path, "HIERARCHY declares no joints")
    return joints, parents, offsets, channels, end_sites


def _header_value(path: Path, line: bytes, no: int, key: str) -> str:
    text = line.decode("ascii", errors="replace").strip()
    if not text.startswith(key):
        raise BadClipError(path, f"line {no}: expected {key!r} after MOTION, got {text[:40]!r}")
    return text[len(key) :].strip()


def _locate_error(path: Path, block: bytes, first_line: int, num_channels: int) -> None:
    """Slow pass over the motion lines that raises a precise error for the first bad line."""
    lines = block.split(b"\n")
    nonblank = [k for k, line in enumerate(lines) if line.strip()]
    for k in nonblank:
        tok = lines[k].split()
        no = first_line + k
        if k == nonblank[-1] and len(tok) < num_channels:
            raise BadClipError(
                path,
                f"truncated: last line {no} has {len(tok)} values, expected {num_channels}",
            )
        for col, t in enumerate(tok, start=1):
            if not _NUMBER.fullmatch(t.decode("latin-1")):
                raise BadClipError(
                    path, f"line {no}: non-numeric value {t.decode('latin-1')!r} in column {col}"
                )
        if len(tok) != num_channels:
            raise BadClipError(
                path, f"line {no}: wrong channel count: expected {num_channels}, got {len(tok)}"
            )


def _line_of_row(block: bytes, first_line: int, row: int) -> int:
    """File line number of motion row ``row`` (blank lines are skipped by the reader)."""
    nonblank = [k for k, line in enumerate(block.split(b"\n")) if line.strip()]
    return first_line + nonblank[row]


def read_bvh(path: str | Path, fps: float | None = None) -> Bvh:
    """Read a BVH file.

    Args:
        path: the ``.bvh`` file.
        fps: the true frame rate; overrides the declared ``Frame Time`` (BEAT is 120 fps, some
            files declare another). ``None`` uses ``1 / Frame Time``.

    Returns:
        :class:`Bvh` with ``motion`` ``[T, C]`` float32, ``T`` the number of motion lines.

    Raises:
        BadClipError: the file is truncated or malformed; the message gives the line number.
    """
    path = Path(path)
    try:
        buf = path.read_bytes()
    except OSError as e:
        raise BadClipError(path, f"cannot read: {e.strerror or e}") from None
    if not buf.strip():
        raise BadClipError(path, "empty file")
    if not buf.removeprefix(codecs.BOM_UTF8).lstrip().startswith(b"HIERARCHY"):
        encoding = foreign_encoding(buf)
        if encoding is not None:
            raise BadClipError(
                path, f"encoding: looks like {encoding}; BVH is ASCII text, save it as such"
            )
        raise BadClipError(path, "not a BVH file: the first line is not 'HIERARCHY'")
    buf = buf.removeprefix(codecs.BOM_UTF8)
    found = _MOTION_LINE.search(buf)
    if found is None:
        raise BadClipError(path, "truncated: no MOTION line after the HIERARCHY")
    try:
        header_text = buf[: found.start()].decode("utf-8")
    except UnicodeDecodeError:
        raise BadClipError(path, "not a BVH file: the header is not text") from None
    joints, parents, offsets, channels, end_sites = _parse_hierarchy(path, header_text.split("\n"))

    motion_no = header_text.count("\n") + 1  # 1-based line number of MOTION
    rest = buf[found.end() :].split(b"\n", 3)  # "", Frames, Frame Time, motion block
    if len(rest) < 3:
        raise BadClipError(path, "truncated: MOTION is not followed by 'Frames:' and 'Frame Time:'")
    frames_text = _header_value(path, rest[1], motion_no + 1, "Frames:")
    time_text = _header_value(path, rest[2], motion_no + 2, "Frame Time:")
    try:
        declared_frames, frame_time = int(frames_text), float(time_text)
    except ValueError:
        raise BadClipError(
            path, f"lines {motion_no + 1}-{motion_no + 2}: bad Frames/Frame Time values"
        ) from None
    header = BvhHeader(
        tuple(joints), tuple(parents), np.array(offsets), tuple(channels), end_sites,
        frame_time, declared_frames,
    )  # fmt: skip
    if fps is None:
        if not frame_time > 0:
            raise BadClipError(path, f"Frame Time must be > 0, got {time_text}")
        fps = 1.0 / frame_time
    elif not fps > 0:
        raise ValueError(f"fps must be > 0, got {fps}")

    block = rest[3] if len(rest) == 4 else b""
    first_line, num_channels = motion_no + 3, header.num_channels
    if not block.strip():
        raise BadClipError(path, "truncated: no motion lines after 'Frame Time:'")
    try:
        motion = np.loadtxt(io.BytesIO(block), dtype=np.float32, comments=None, ndmin=2)
    except ValueError as e:
        _locate_error(path, block, first_line, num_channels)
        raise BadClipError(path, f"motion block unreadable: {e}") from None
    if motion.shape[1] != num_channels:
        _locate_error(path, block, first_line, num_channels)
        raise BadClipError(path, f"motion lines have {motion.shape[1]} values, not {num_channels}")
    bad = ~np.isfinite(motion)
    if bad.any():
        row, col = (int(v) for v in np.argwhere(bad)[0])
        joint = header.joints[int(np.searchsorted(header._starts, col, side="right")) - 1]
        raise BadClipError(
            path,
            f"line {_line_of_row(block, first_line, row)}: non-finite value in column {col + 1} "
            f"(joint {joint})",
        )
    if declared_frames != motion.shape[0]:
        logger.info(
            "%s: header declares %d frames, %d motion lines present; using the lines",
            path,
            declared_frames,
            motion.shape[0],
        )
    return Bvh(header=header, motion=motion, fps=float(fps), path=path)


def format_hierarchy(header: BvhHeader) -> str:
    """The ``HIERARCHY`` ... ``MOTION`` text of ``header``, tab-indented like BEAT files."""
    children: dict[int, list[int]] = {}
    for j, p in enumerate(header.parents):
        children.setdefault(p, []).append(j)
    out = ["HIERARCHY"]

    def xyz(v: np.ndarray) -> str:
        return " ".join(f"{float(x):.6f}" for x in v)

    def emit(j: int, depth: int) -> None:
        tab = "\t" * depth
        out.append(f"{tab}{'ROOT' if header.parents[j] < 0 else 'JOINT'} {header.joints[j]}")
        out.append(f"{tab}{{")
        out.append(f"{tab}\tOFFSET {xyz(header.offsets[j])}")
        ch = header.channels[j]
        out.append(f"{tab}\tCHANNELS {len(ch)}" + "".join(f" {c}" for c in ch))
        for c in children.get(j, []):
            emit(c, depth + 1)
        if j in header.end_sites:
            end = xyz(header.end_sites[j])
            out.extend([f"{tab}\tEnd Site", f"{tab}\t{{", f"{tab}\t\tOFFSET {end}", f"{tab}\t}}"])
        out.append(f"{tab}}}")

    for root in children.get(-1, []):
        emit(root, 0)
    out.append("MOTION")
    return "\n".join(out) + "\n"


def write_bvh(path: str | Path, header: BvhHeader, motion: np.ndarray, fps: float) -> None:
    """Write a BVH file atomically: BEAT's hierarchy layout, ``%.6f`` values.

    Args:
        path: target ``.bvh`` file.
        header: the skeleton; its ``frame_time``/``declared_frames`` are replaced by the data's.
        motion: ``[T, C]`` channel values in header order (Euler degrees, kept unwrapped).
        fps: frame rate, written as ``Frame Time: 1/fps`` with 6 decimals (``0.008333``).
    """
    motion = np.asarray(motion, dtype=np.float64)
    if motion.ndim != 2 or motion.shape[1] != header.num_channels:
        raise ValueError(f"motion must be [T, {header.num_channels}], got {list(motion.shape)}")
    if not fps > 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    row = " ".join(["%.6f"] * header.num_channels)
    body = "\n".join(row % tuple(r) for r in motion.tolist())
    text = f"{format_hierarchy(header)}Frames: {len(motion)}\nFrame Time: {1.0 / fps:.6f}\n"
    with atomic_path(path) as tmp:
        tmp.write_text(text + body + ("\n" if len(motion) else ""), encoding="ascii")
