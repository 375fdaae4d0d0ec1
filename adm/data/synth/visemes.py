"""Phoneme labels and viseme targets: eSpeak NG mnemonics -> ARPAbet -> ARKit blendshapes.

BEAT's TextGrids carry Montreal-Forced-Aligner phones in ARPAbet with a stress digit on vowels
(``AH0``, ``IY1``); the synthetic corpus writes the same alphabet, converted from the mnemonics
eSpeak NG reports in its phoneme events (``'aU``, ``@2``, ``tS``). Each ARPAbet phone has a
viseme target: the ARKit blendshape weights of the mouth at the centre of that phone, following
the usual viseme groups of lip-sync rigs (open vowels open the jaw and lower the lip, bilabials
close and press the lips with the jaw shut, rounded vowels funnel and pucker, spread vowels
stretch the lips, labiodentals roll the lower lip in).
"""

from __future__ import annotations

# eSpeak NG English mnemonic (stress marks removed) -> one or two ARPAbet phones. Two phones
# share the event's duration (r-coloured diphthongs and syllabic l, which ARPAbet splits).
_ESPEAK_TO_ARPABET: dict[str, tuple[str, ...]] = {
    "0": ("AA",), "3": ("ER",), "3:": ("ER",), "@": ("AH",), "@2": ("AH",), "@5": ("AH",),
    "@L": ("AH", "L"), "A:": ("AA",), "A@": ("AA", "R"), "A#": ("AA",), "E": ("EH",),
    "I": ("IH",), "I#": ("IH",), "I2": ("IH",), "O2": ("AO",), "O:": ("AO",), "O": ("AO",),
    "O@": ("AO", "R"), "OI": ("OY",), "U": ("UH",), "U@": ("UH", "R"), "V": ("AH",),
    "a": ("AE",), "a#": ("AH",), "aa": ("AE",), "aI": ("AY",), "aI@": ("AY", "ER"),
    "aI3": ("AY", "ER"), "aU": ("AW",), "aU@": ("AW", "ER"), "e@": ("EH", "R"), "eI": ("EY",),
    "i": ("IY",), "i:": ("IY",), "i@": ("IY", "AH"), "i@3": ("IH", "R"), "o@": ("AO", "R"),
    "oU": ("OW",), "oU#": ("OW",), "u:": ("UW",),
    "b": ("B",), "d": ("D",), "d#": ("D",), "D": ("DH",), "dZ": ("JH",), "f": ("F",),
    "g": ("G",), "h": ("HH",), "j": ("Y",), "k": ("K",), "l": ("L",), "l/": ("L",),
    "m": ("M",), "n": ("N",), "n-": ("N",), "N": ("NG",), "p": ("P",), "r": ("R",),
    "r-": ("R",), "s": ("S",), "S": ("SH",), "t": ("T",), "t#": ("T",), "t2": ("T",),
    "T": ("TH",), "tS": ("CH",), "v": ("V",), "w": ("W",), "z": ("Z",), "Z": ("ZH",),
    "?": ("T",),
}  # fmt: skip

VOWELS = frozenset(
    "AA AE AH AO AW AY EH ER EY IH IY OW OY UH UW".split()
)  # ARPAbet vowels: they carry a stress digit

_VOWEL_CHARS = set("aeiouAEIOUV@03")


def is_pause(name: str) -> bool:
    """eSpeak pause phonemes (``_``, ``_:``, ``_!``): silence, not a phone."""
    return name.startswith("_")


def is_linker(name: str) -> bool:
    """eSpeak's ``;`` event: a short glottal onset joined to the following phone."""
    return name.strip("',") == ";"


def stress_of(name: str) -> int:
    """Stress of an eSpeak phoneme event: 1 primary (``'``), 2 secondary (``,``), 0 none."""
    if "'" in name:
        return 1
    if "," in name:
        return 2
    return 0


def to_arpabet(name: str) -> tuple[str, ...]:
    """ARPAbet phones for one eSpeak phoneme event, vowels with a stress digit (``AW1``).

    Unknown mnemonics fall back to their longest known prefix, else ``AH`` for a vowel-like
    symbol and ``T`` for anything else, so that every spoken phone gets a label.
    """
    stress = stress_of(name)
    base = name.replace("'", "").replace(",", "")
    phones = _ESPEAK_TO_ARPABET.get(base)
    cut = base
    while phones is None and len(cut) > 1:
        cut = cut[:-1]
        phones = _ESPEAK_TO_ARPABET.get(cut)
    if phones is None:
        phones = ("AH",) if base[:1] in _VOWEL_CHARS else ("T",)
    out = []
    for i, ph in enumerate(phones):
        out.append(f"{ph}{stress if i == 0 else 0}" if ph in VOWELS else ph)
    return tuple(out)


def base_phone(label: str) -> str:
    """ARPAbet label without its stress digit (``"AW1"`` -> ``"AW"``)."""
    return label.rstrip("012")


# Viseme targets (ARKit weights at the phone centre). jawOpen follows vowel height: open vowels
# about 0.5-0.65, mid 0.35-0.45, close 0.25-0.32, consonants 0-0.18, bilabials 0.
_OPEN = {"mouthLowerDownLeft": 0.3, "mouthLowerDownRight": 0.3}
_SPREAD = {"mouthStretchLeft": 0.3, "mouthStretchRight": 0.3, "mouthSmileLeft": 0.15,
           "mouthSmileRight": 0.15}  # fmt: skip
_ROUND = {"mouthFunnel": 0.45, "mouthPucker": 0.45}
_BILABIAL = {"mouthClose": 0.35, "mouthPressLeft": 0.45, "mouthPressRight": 0.45,
             "mouthRollLower": 0.1, "mouthRollUpper": 0.1}  # fmt: skip
_LABIODENTAL = {"mouthRollLower": 0.45, "mouthUpperUpLeft": 0.2, "mouthUpperUpRight": 0.2}


def _t(jaw: float, *groups: dict[str, float], scale: float = 1.0) -> dict[str, float]:
    out = {"jawOpen": jaw}
    for g in groups:
        for k, v in g.items():
            out[k] = out.get(k, 0.0) + v * scale
    return out


VISEME_TARGETS: dict[str, dict[str, float]] = {
    # open / mid vowels
    "AA": _t(0.65, _OPEN), "AE": _t(0.55, _OPEN, _SPREAD, scale=0.8), "AH": _t(0.45, _OPEN),
    "AW": _t(0.55, _OPEN, _ROUND, scale=0.6), "AY": _t(0.55, _OPEN, scale=0.9),
    "EH": _t(0.42, _OPEN, _SPREAD, scale=0.6), "EY": _t(0.38, _SPREAD),
    "ER": _t(0.3, _ROUND, scale=0.5),
    # rounded vowels
    "AO": _t(0.5, _ROUND, _OPEN, scale=0.7), "OW": _t(0.4, _ROUND),
    "OY": _t(0.42, _ROUND, scale=0.8),
    "UH": _t(0.32, _ROUND, scale=0.8), "UW": _t(0.26, _ROUND, scale=1.3),
    # spread close vowels
    "IH": _t(0.32, _SPREAD), "IY": _t(0.26, _SPREAD, scale=1.3),
    # consonants
    "P": _t(0.0, _BILABIAL), "B": _t(0.0, _BILABIAL), "M": _t(0.0, _BILABIAL, scale=0.9),
    "F": _t(0.08, _LABIODENTAL), "V": _t(0.08, _LABIODENTAL, scale=0.9),
    "TH": _t(0.12, {}), "DH": _t(0.12, {}),
    "S": _t(0.06, _SPREAD, scale=0.6), "Z": _t(0.06, _SPREAD, scale=0.6),
    "SH": _t(0.1, _ROUND, scale=0.7), "ZH": _t(0.1, _ROUND, scale=0.7),
    "CH": _t(0.1, _ROUND, scale=0.7), "JH": _t(0.1, _ROUND, scale=0.7),
    "W": _t(0.1, _ROUND, scale=1.3), "R": _t(0.12, _ROUND, scale=0.4), "Y": _t(0.12, _SPREAD),
    "L": _t(0.15, {}), "N": _t(0.12, {}), "T": _t(0.12, {}), "D": _t(0.14, {}),
    "K": _t(0.18, {}), "G": _t(0.18, {}), "NG": _t(0.15, {}), "HH": _t(0.15, _OPEN, scale=0.3),
}  # fmt: skip


# Stressed vowels are articulated with a wider jaw opening than unstressed ones (Erickson 2002,
# "articulation of prosody"): primary stress opens 15% more, unstressed 20% less.
_STRESS_JAW = {"1": 1.15, "2": 1.0, "0": 0.8}
_JAW_SHAPES = ("jawOpen", "mouthLowerDownLeft", "mouthLowerDownRight")


def viseme_target(label: str) -> dict[str, float]:
    """Blendshape target of an ARPAbet phone (unknown phone -> slightly open jaw).

    A vowel's stress digit scales its jaw opening (and lower-lip drop) by :data:`_STRESS_JAW`.
    """
    target = dict(VISEME_TARGETS.get(base_phone(label), {"jawOpen": 0.15}))
    factor = _STRESS_JAW.get(label[-1:], 1.0)
    for name in _JAW_SHAPES:
        if name in target:
            target[name] *= factor
    return target
