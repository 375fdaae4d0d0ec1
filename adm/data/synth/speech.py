"""Speech of one take: sentences spoken by eSpeak NG, with word and phone intervals.

A take is a run of phrases (one generated sentence each) separated by pauses, filled up to the
clip length, resampled to BEAT's 16 kHz. Word and phone intervals come from the synthesiser's own
WORD and PHONEME events, so they match the audio by construction (no forced alignment):

- a phone lasts from its event to the next event; pause phonemes (``_``, ``_:``) are silence and
  eSpeak's ``;`` glottal onset is joined to the phone after it;
- a text word takes the phones that follow its WORD event; words that the synthesiser merges
  into one event or skips share that event's span, split by phone counts (by characters when
  there are fewer phones than words), so that every written word gets an interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import resample_poly

from adm.data.synth.espeak import Espeak, Utterance, Voice, open_engine
from adm.data.synth.sentences import Category, Sentence, make_sentence
from adm.data.synth.visemes import is_linker, is_pause, stress_of, to_arpabet


@dataclass(frozen=True)
class SpokenPhone:
    """One ARPAbet phone (``label``, e.g. ``"AW1"``) from ``start`` to ``end`` seconds."""

    label: str
    start: float
    end: float


@dataclass(frozen=True)
class SpokenWord:
    """One spoken word.

    Attributes:
        label: lowercase word as written.
        start, end: seconds in the take.
        category: gesture class the word invites (deictic, iconic, metaphoric, other).
        stressed: the word carries a primary lexical stress in eSpeak's output; such words take
            the pitch accents that brows and gesture strokes align with.
        accent: onset of the stressed vowel (``start`` when unstressed), seconds.
    """

    label: str
    start: float
    end: float
    category: Category
    stressed: bool
    accent: float


@dataclass(frozen=True)
class Speech:
    """A take's speech: ``audio`` float32 [N] at ``sample_rate``, words and phones in order."""

    audio: np.ndarray
    sample_rate: int
    duration: float
    words: tuple[SpokenWord, ...]
    phones: tuple[SpokenPhone, ...]
    texts: tuple[str, ...]


@dataclass(frozen=True)
class _Ph:
    name: str
    start: float
    end: float
    group: int


def _phone_spans(utt: Utterance) -> list[_Ph]:
    """Phone events -> spans; drop pauses and empty spans, join ``;`` onsets to the next phone.

    ``group`` is the index of the WORD event the phone follows in eSpeak's event stream (phones
    before the first word event join the first word).
    """
    events = list(utt.phonemes)
    out: list[_Ph] = []
    pending: float | None = None
    for i, ev in enumerate(events):
        end = events[i + 1].time if i + 1 < len(events) else utt.end_time
        if is_pause(ev.name):
            pending = None
            continue
        if is_linker(ev.name):
            pending = ev.time if pending is None else pending
            continue
        start = ev.time if pending is None else pending
        pending = None
        if end - start <= 1e-6:
            continue
        out.append(_Ph(ev.name, start, end, max(ev.word, 0)))
    return out


def _split(n_items: int, weights: list[float]) -> list[int]:
    """Cut ``n_items`` consecutive items into len(weights) non-empty runs by weight."""
    k = len(weights)
    cum = np.cumsum(weights) / sum(weights)
    cuts = [int(round(c * n_items)) for c in cum[:-1]]
    # keep every run non-empty
    for j in range(len(cuts)):
        lo = (cuts[j - 1] if j else 0) + 1
        hi = n_items - (k - 1 - j)
        cuts[j] = min(max(cuts[j], lo), hi)
    return [0, *cuts, n_items]


def align(
    sentence: Sentence, utt: Utterance, offset: float = 0.0
) -> tuple[list[SpokenWord], list[SpokenPhone]]:
    """Word and phone intervals of one utterance of ``sentence``, shifted by ``offset`` s."""
    phs = _phone_spans(utt)
    phones = [
        SpokenPhone(lab, offset + p.start + (p.end - p.start) * j / len(labs),
                    offset + p.start + (p.end - p.start) * (j + 1) / len(labs))
        for p in phs
        for labs in [to_arpabet(p.name)]
        for j, lab in enumerate(labs)
    ]  # fmt: skip
    if not sentence.tokens or not phs:
        return [], phones
    # Text tokens -> word events: a token belongs to the last event starting at or before it.
    starts = [w.start for w in utt.words] or [0]
    groups: dict[int, list[int]] = {}
    for ti, tok in enumerate(sentence.tokens):
        # several events at one position (a number read as words): the first takes the token
        at = max([s for s in starts if s <= tok.start] or [starts[0]])
        groups.setdefault(starts.index(at), []).append(ti)
    ph_by_group: dict[int, list[_Ph]] = {}
    for p in phs:
        ph_by_group.setdefault(p.group, []).append(p)
    # Events that carry phones but no token (a number read as several words) join the token
    # group before them; token groups without phones (skipped words) join the previous group.
    merged: list[tuple[list[int], list[_Ph]]] = []
    for g in sorted(set(groups) | set(ph_by_group)):
        toks, ps = groups.get(g, []), ph_by_group.get(g, [])
        if merged and (not toks or not ps):
            merged[-1][0].extend(toks)
            merged[-1][1].extend(ps)
        else:
            merged.append((list(toks), list(ps)))
    if len(merged) > 1 and not merged[0][1]:
        first = merged.pop(0)
        merged[0] = (first[0] + merged[0][0], merged[0][1])
    words: list[SpokenWord] = []
    for toks, ps in merged:
        if not toks:
            continue
        toks = sorted(toks)
        weights = [float(len(sentence.tokens[t].label)) for t in toks]
        if len(ps) >= len(toks):
            cuts = _split(len(ps), weights)
            spans = [ps[cuts[j] : cuts[j + 1]] for j in range(len(toks))]
            bounds = [(s[0].start, s[-1].end) for s in spans]
        else:  # fewer phones than words: share the time by characters
            lo, hi = ps[0].start, ps[-1].end
            cum = np.concatenate([[0.0], np.cumsum(weights) / sum(weights)])
            bounds = [
                (lo + (hi - lo) * cum[j], lo + (hi - lo) * cum[j + 1]) for j in range(len(toks))
            ]
            spans = [[p for p in ps if lo_ <= p.start < hi_] for lo_, hi_ in bounds]
        for t, (b0, b1), span in zip(toks, bounds, spans, strict=True):
            tok = sentence.tokens[t]
            accents = [p.start for p in span if stress_of(p.name) == 1]
            words.append(
                SpokenWord(tok.label, offset + b0, offset + b1, tok.category, bool(accents),
                           offset + (accents[0] if accents else b0))
            )  # fmt: skip
    return words, phones


def _place(buf: np.ndarray, audio: np.ndarray, sample_rate: int, t: float) -> None:
    """Add ``audio`` into ``buf`` (both at ``sample_rate``) starting at ``t`` seconds."""
    i = int(round(t * sample_rate))
    n = min(len(audio), len(buf) - i)
    buf[i : i + n] += audio[:n]


def _assemble(
    sentences: list[Sentence],
    utts: list[Utterance],
    starts: list[float],
    seconds: float,
    sample_rate: int,
    gain: float,
    noise_rms: float,
    noise_seed: int,
) -> Speech:
    sr = utts[0].sample_rate if utts else 22050
    buf = np.zeros(int(round(seconds * sr)) + sr, np.float64)
    words: list[SpokenWord] = []
    phones: list[SpokenPhone] = []
    for sent, utt, t in zip(sentences, utts, starts, strict=True):
        _place(buf, utt.audio, sr, t)
        w, p = align(sent, utt, offset=t)
        words.extend(w)
        phones.extend(p)
    g = np.gcd(sample_rate, sr)
    audio = resample_poly(buf, sample_rate // g, sr // g)[: int(round(seconds * sample_rate))]
    audio = audio * gain
    audio += np.random.default_rng(noise_seed).normal(0.0, noise_rms, audio.shape)
    audio = np.clip(audio, -1.0, 1.0).astype(np.float32)
    keep_w = tuple(w for w in words if w.end <= seconds + 1e-9)
    keep_p = tuple(p for p in phones if p.end <= seconds + 1e-9)
    return Speech(audio, sample_rate, seconds, keep_w, keep_p, tuple(s.text for s in sentences))


def speak_sentences(
    sentences: list[Sentence],
    voice: Voice,
    starts: list[float],
    seconds: float,
    sample_rate: int = 16000,
    gain: float = 0.9,
    noise_rms: float = 1e-3,
    noise_seed: int = 0,
    tts: Espeak | None = None,
) -> Speech:
    """Speak ``sentences`` starting at ``starts`` (seconds) into a clip of ``seconds``.

    Without ``tts``, a fresh engine speaks (so the result depends on nothing said before).
    The synthesiser's 22.05 kHz output is resampled to ``sample_rate`` with a polyphase filter,
    scaled by ``gain``; a faint Gaussian noise floor (``noise_rms``, as in a room recording)
    fills the pauses. Returns audio float32 [round(seconds * sample_rate)].
    """
    if tts is None:
        with open_engine() as fresh:
            utts = [fresh.speak(s.text, voice) for s in sentences]
    else:
        utts = [tts.speak(s.text, voice) for s in sentences]
    return _assemble(sentences, utts, starts, seconds, sample_rate, gain, noise_rms, noise_seed)


def speak_take(
    voice: Voice,
    rng: np.random.Generator,
    seconds: float,
    sample_rate: int = 16000,
    pause: tuple[float, float] = (0.35, 0.9),
    gain: float = 0.9,
    noise_rms: float = 1e-3,
    tts: Espeak | None = None,
) -> Speech:
    """Fill a clip of ``seconds`` with generated sentences and pauses between them.

    Sentences are drawn from ``rng`` and laid end to end after a short lead-in, with a pause
    drawn uniformly from ``pause`` between phrases; a sentence that would run past the end is
    replaced by another (up to a few tries), and what is left stays silent. Without ``tts``, a
    fresh engine speaks, so the take depends only on ``rng``, ``voice`` and the settings.
    """
    if tts is None:
        with open_engine() as fresh:
            return speak_take(voice, rng, seconds, sample_rate, pause, gain, noise_rms, fresh)
    t = float(rng.uniform(0.25, 0.6))
    chosen: list[Sentence] = []
    utts: list[Utterance] = []
    starts: list[float] = []
    misses = 0
    while misses < 4:
        sent = make_sentence(rng)
        utt = tts.speak(sent.text, voice)
        dur = len(utt.audio) / utt.sample_rate
        if t + dur > seconds - 0.1:
            misses += 1
            continue
        chosen.append(sent)
        utts.append(utt)
        starts.append(t)
        t += dur + float(rng.uniform(*pause))
    noise_seed = int(rng.integers(2**31))
    return _assemble(chosen, utts, starts, seconds, sample_rate, gain, noise_rms, noise_seed)
