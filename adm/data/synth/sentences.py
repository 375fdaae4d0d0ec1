"""A built-in generator of spoken English sentences for the synthetic corpus.

Sentences come from templates whose slots are filled from a small, varied vocabulary. Part of
the vocabulary invites the four gesture classes of McNeill's taxonomy that BEAT annotates:
deictic words ("here", "there", "this", "you"), iconic words that describe shape and size
("big", "round", "tall"), metaphoric words for abstract ideas ("idea", "future", "balance").
Every word is tagged with its class so that the gesture planner can pick a fitting gesture, and
all words are common English words (they have fastText vectors).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import numpy as np

Category = Literal["deictic", "iconic", "metaphoric", "other"]

_SLOTS: dict[str, tuple[str, ...]] = {
    "place": ("here", "there", "over there", "right here", "over here", "up there"),
    "dem": ("this", "that"),
    "you": ("you", "everyone", "all of you", "we"),
    "shape": (
        "big", "round", "tall", "small", "long", "wide", "huge", "tiny", "flat", "high",
        "deep", "narrow", "heavy", "square",
    ),
    "thing": (
        "box", "tower", "wall", "ball", "mountain", "table", "building", "road", "tree",
        "bridge", "window", "circle", "river", "door",
    ),
    "abstract": (
        "idea", "future", "balance", "past", "freedom", "truth", "problem", "reason",
        "change", "knowledge", "hope", "theory", "choice", "memory", "plan", "value",
    ),
    "verb": ("think", "believe", "remember", "imagine", "know", "feel", "understand", "hope"),
    "adv": ("really", "always", "never", "often", "sometimes", "slowly", "clearly", "simply"),
    "noun": (
        "family", "teacher", "music", "weekend", "city", "school", "work", "game", "story",
        "morning", "dinner", "movie", "garden", "kitchen", "office", "park",
    ),
    "adj": (
        "good", "strange", "simple", "great", "beautiful", "difficult", "important", "new",
        "old", "quiet", "funny", "different",
    ),
    "time": ("week", "summer", "year", "night", "month", "winter"),
    "kin": ("friends", "brother", "sister", "father", "mother", "neighbors"),
}  # fmt: skip

_TEMPLATES: tuple[str, ...] = (
    "I {verb} {dem} {abstract} is {adj}.",
    "Look at {dem} {shape} {thing} {place}.",
    "{you} can see the {shape} {thing} {place}.",
    "The {abstract} of our {noun} is {adv} {adj}.",
    "When I was young, we had a {shape} {thing} near the {thing}.",
    "I {adv} {verb} about the {abstract}, and {you} should too.",
    "My {kin} told me that {abstract} matters more than anything.",
    "It was a {shape} {thing}, {adv} {shape}.",
    "We need {abstract} and {abstract} in the {noun}.",
    "Put it {place}, next to {dem} {shape} {thing}.",
    "Do you {verb} the {noun} we saw last {time}?",
    "{dem} is the {adj} part of the {abstract}.",
    "Between you and me, the {noun} was {adv} {adj}.",
    "I built a {shape} {thing} with my {kin}.",
    "In the {abstract}, {you} will find a {shape} {thing}.",
    "So I said to my {kin}, the {abstract} is {place}.",
    "The {noun} last {time} was {adj}, and I {adv} {verb} it.",
    "Think about the {abstract} of {dem} {noun}.",
    "{you} know, the {thing} was {adv} {shape} and {shape}.",
    "Every {time} we go to the {noun} with our {kin}.",
)

_CATEGORY_OF_SLOT: dict[str, Category] = {
    "place": "deictic",
    "dem": "deictic",
    "you": "deictic",
    "shape": "iconic",
    "thing": "iconic",
    "abstract": "metaphoric",
}

_SLOT_RE = re.compile(r"\{(\w+)\}")
_WORD_RE = re.compile(r"[A-Za-z0-9']+")
# Function words inside multi-word fillers ("over there", "all of you") stay "other".
_FUNCTION_WORDS = frozenset({"of", "all", "over", "right", "up", "the", "a", "to"})


@dataclass(frozen=True)
class Token:
    """One word of a sentence: lowercase ``label``, ``start`` character offset in the text."""

    label: str
    start: int
    category: Category


@dataclass(frozen=True)
class Sentence:
    """A sentence to speak: ``text`` (capitalised, punctuated) and its word ``tokens``."""

    text: str
    tokens: tuple[Token, ...]


def _tokens(text: str, categories: list[tuple[int, int, Category]]) -> tuple[Token, ...]:
    """Split ``text`` into words; a word inside a filled slot span takes the slot's class."""
    out = []
    for m in _WORD_RE.finditer(text):
        cat: Category = "other"
        for lo, hi, c in categories:
            if lo <= m.start() < hi and m.group(0).lower() not in _FUNCTION_WORDS:
                cat = c
        out.append(Token(m.group(0).lower(), m.start(), cat))
    return tuple(out)


def make_sentence(rng: np.random.Generator) -> Sentence:
    """Draw one sentence: a random template with each slot filled independently.

    Returns the sentence with every word tagged deictic/iconic/metaphoric/other by the slot it
    came from (template words are "other").
    """
    template = _TEMPLATES[int(rng.integers(len(_TEMPLATES)))]
    parts: list[str] = []
    spans: list[tuple[int, int, Category]] = []
    pos = 0
    length = 0
    for m in _SLOT_RE.finditer(template):
        literal = template[pos : m.start()]
        parts.append(literal)
        length += len(literal)
        choices = _SLOTS[m.group(1)]
        filler = choices[int(rng.integers(len(choices)))]
        if m.group(1) in _CATEGORY_OF_SLOT:
            spans.append((length, length + len(filler), _CATEGORY_OF_SLOT[m.group(1)]))
        parts.append(filler)
        length += len(filler)
        pos = m.end()
    parts.append(template[pos:])
    text = "".join(parts)
    text = text[0].upper() + text[1:]
    return Sentence(text=text, tokens=_tokens(text, spans))


def sentence_from_text(text: str) -> Sentence:
    """A sentence from free text (all words tagged by the vocabulary's classes, else other)."""
    lookup: dict[str, Category] = {}
    for slot, cat in _CATEGORY_OF_SLOT.items():
        for phrase in _SLOTS[slot]:
            for word in phrase.split():
                if word not in _FUNCTION_WORDS:
                    lookup.setdefault(word, cat)
    toks = tuple(
        Token(m.group(0).lower(), m.start(), lookup.get(m.group(0).lower(), "other"))
        for m in _WORD_RE.finditer(text)
    )
    return Sentence(text=text, tokens=toks)
