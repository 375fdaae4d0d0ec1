"""Feature layouts: which named blocks a feature vector holds, where, and how wide.

The audio condition follows the DiffuseStyleGesture+ layout used by the paper (method.md):
``MFCC 40 | log-mel 64 | prosody 4 | WavLM-Large 1024 | onset 1`` = 1133 dims. Any block can be
switched off and the offsets follow; the layout is stored in each feature file's metadata so a
reader never guesses which columns are which.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata as importlib_metadata
from typing import Any

from adm.features.config import AudioFeatureConfig

#: Width of the prosody block: energy, d-energy, pitch, d-pitch.
PROSODY_WIDTH = 4
#: Width of the onset block: a 0/1 flag.
ONSET_WIDTH = 1


@dataclass(frozen=True)
class Block:
    """One named slice ``[offset, offset + width)`` of a feature vector."""

    name: str
    offset: int
    width: int

    @property
    def stop(self) -> int:
        return self.offset + self.width

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "offset": self.offset, "width": self.width}


@dataclass(frozen=True)
class FeatureLayout:
    """Ordered, contiguous blocks of a feature vector ``[..., dim]``."""

    blocks: tuple[Block, ...]

    @classmethod
    def from_widths(cls, widths: list[tuple[str, int]]) -> FeatureLayout:
        """Lay blocks out back to back in the given order."""
        blocks, offset = [], 0
        for name, width in widths:
            if width <= 0:
                raise ValueError(f"block {name!r}: width must be positive, got {width}")
            blocks.append(Block(name, offset, int(width)))
            offset += int(width)
        names = [b.name for b in blocks]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate block names in {names}")
        return cls(tuple(blocks))

    @property
    def dim(self) -> int:
        """Total width (the feature vector's last dimension)."""
        return self.blocks[-1].stop if self.blocks else 0

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(b.name for b in self.blocks)

    def block(self, name: str) -> Block:
        for b in self.blocks:
            if b.name == name:
                return b
        raise KeyError(f"no block {name!r} in layout {list(self.names)}")

    def slice(self, name: str) -> slice:
        """``features[..., layout.slice("wavlm")]`` selects one block."""
        b = self.block(name)
        return slice(b.offset, b.stop)

    def to_dict(self) -> dict[str, Any]:
        return {"dim": self.dim, "blocks": [b.to_dict() for b in self.blocks]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureLayout:
        """Inverse of :meth:`to_dict`; checks that the blocks are contiguous."""
        layout = cls.from_widths([(b["name"], int(b["width"])) for b in data["blocks"]])
        if [b.to_dict() for b in layout.blocks] != list(data["blocks"]):
            raise ValueError(f"layout blocks are not contiguous: {data['blocks']}")
        return layout


def audio_layout(config: AudioFeatureConfig, wavlm_width: int | None) -> FeatureLayout:
    """Layout of the audio condition for ``config``.

    Args:
        config: the blocks and their sizes.
        wavlm_width: the WavLM model's hidden size (1024 for WavLM-Large); ``None`` when no
            model is used, which drops the ``wavlm`` block even if listed.
    """
    widths = {
        "mfcc": config.n_mfcc,
        "logmel": config.n_mels,
        "prosody": PROSODY_WIDTH,
        "onset": ONSET_WIDTH,
    }
    out: list[tuple[str, int]] = []
    for name in config.blocks:
        if name == "wavlm":
            if wavlm_width is not None:
                out.append((name, wavlm_width))
        else:
            out.append((name, widths[name]))
    if not out:
        raise ValueError("the audio layout is empty: only 'wavlm' was listed and it is disabled")
    return FeatureLayout.from_widths(out)


def text_layout(dim: int) -> FeatureLayout:
    """Layout of the text condition: ``word`` vector (``dim``) then ``silence`` flag (1)."""
    return FeatureLayout.from_widths([("word", dim), ("silence", 1)])


def extractor_versions(*packages: str) -> dict[str, str | None]:
    """Installed versions of the packages that shape the features, plus adm's own.

    Read from package metadata, so that recording them never imports heavy modules.
    """
    from adm import __version__

    versions: dict[str, str | None] = {"adm": __version__}
    for name in packages:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            versions[name] = None
    return versions
