"""A ctypes binding to the eSpeak NG C API that returns audio with word and phoneme timings.

The library and its voice data come from the ``espeakng_loader`` wheel, so nothing is needed from
the system and nothing touches the network. The engine runs in synchronous mode
(``AUDIO_OUTPUT_SYNCHRONOUS``) with phoneme events enabled: ``espeak_Synth`` returns only when
the text is spoken, after calling our synth callback with blocks of 16-bit samples and the
events that fall in each block (``espeakEVENT_WORD`` with the character position of the word,
``espeakEVENT_PHONEME`` with the phoneme mnemonic, including its stress mark).

eSpeak NG keeps its whole state in C globals: it is not thread-safe, and what it says depends on
what it said before (its pitch-flutter phase, noise generator, echo buffer and automatic gain
carry over from one utterance to the next, and the noise generator is seeded from the clock).
So that a take always sounds the same, whichever process renders it and whatever was rendered
before, each :class:`Espeak` loads its OWN copy of the shared library (a private file,
``dlopen``-ed with local symbols, so its globals are its own), starts from the freshly
initialised state and seeds the noise generator with a constant. Open one per take with
:func:`open_engine`.
"""

from __future__ import annotations

import _ctypes
import contextlib
import ctypes
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# speak_lib.h constants (eSpeak NG 1.5x).
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_PHONEME_EVENTS = 0x0001
_INITIALIZE_DONT_EXIT = 0x8000
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_EVENT_LIST_TERMINATED = 0
_EVENT_WORD = 1
_EVENT_END = 5
_EVENT_MSG_TERMINATED = 6
_EVENT_PHONEME = 7
_PARAM_RATE = 1
_PARAM_VOLUME = 2
_PARAM_PITCH = 3
_PARAM_RANGE = 4
_PARAM_WORDGAP = 7
_RAND_SEED = 20240101  # any fixed value

# Engines share nothing, but creating and closing them (dlopen/dlclose) is serialised.
_LOAD_LOCK = threading.Lock()


class _EventId(ctypes.Union):
    _fields_ = [
        ("number", ctypes.c_int),
        ("name", ctypes.c_char_p),
        ("string", ctypes.c_char * 8),
    ]


class _Event(ctypes.Structure):
    """``espeak_EVENT``: ``audio_position`` is in milliseconds from the start of the text."""

    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


class _VoiceSpec(ctypes.Structure):
    """``espeak_VOICE``, to select a voice by language and gender."""

    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_char_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


_Callback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


@dataclass(frozen=True)
class Voice:
    """How one speaker sounds.

    Attributes:
        language: eSpeak NG language voice, e.g. ``"en-us"`` or ``"en"`` (British).
        variant: voice variant in ``voices/!v``, e.g. ``"m3"``, ``"f2"``.
        gender: 1 male, 2 female; used to pick a voice if the name is not found.
        rate: words per minute (eSpeak default 175).
        pitch: base pitch 0-100 (default 50).
        pitch_range: intonation range 0-100 (default 50); larger = livelier pitch accents.
    """

    language: str
    variant: str
    gender: int
    rate: int
    pitch: int
    pitch_range: int

    @property
    def name(self) -> str:
        """eSpeak's name of the voice, ``language+variant``."""
        return f"{self.language}+{self.variant}"


@dataclass(frozen=True)
class WordEvent:
    """A word the synthesiser spoke: 0-based character ``start`` and ``length`` in the text."""

    start: int
    length: int
    time: float


@dataclass(frozen=True)
class PhonemeEvent:
    """A phoneme onset: eSpeak mnemonic (with stress mark ``'``/``,``), time in seconds, and
    ``word``, the index of the WORD event it follows in eSpeak's event stream (-1: none)."""

    name: str
    time: float
    word: int


@dataclass(frozen=True)
class Utterance:
    """Synthesised speech of one text.

    Attributes:
        audio: float32 [N] in [-1, 1] at ``sample_rate``.
        sample_rate: eSpeak's output rate (22050 Hz).
        words: word onsets in speaking order.
        phonemes: phoneme onsets in order (pauses are ``"_"``, ``"_:"`` ...).
        end_time: time of the end-of-text event in seconds.
    """

    audio: np.ndarray
    sample_rate: int
    words: tuple[WordEvent, ...]
    phonemes: tuple[PhonemeEvent, ...]
    end_time: float


def _bind(lib: ctypes.CDLL) -> None:
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_Initialize.restype = ctypes.c_int
    lib.espeak_SetSynthCallback.argtypes = [_Callback]
    lib.espeak_SetSynthCallback.restype = None
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetVoiceByName.restype = ctypes.c_int
    lib.espeak_SetVoiceByProperties.argtypes = [ctypes.POINTER(_VoiceSpec)]
    lib.espeak_SetVoiceByProperties.restype = ctypes.c_int
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.espeak_SetParameter.restype = ctypes.c_int
    lib.espeak_Synth.argtypes = [
        ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
        ctypes.c_uint, ctypes.POINTER(ctypes.c_uint), ctypes.c_void_p,
    ]  # fmt: skip
    lib.espeak_Synth.restype = ctypes.c_int
    lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
    lib.espeak_ng_SetRandSeed.restype = None
    lib.espeak_Terminate.argtypes = []
    lib.espeak_Terminate.restype = ctypes.c_int


class Espeak:
    """One eSpeak NG engine with its own copy of the library (see the module docstring).

    Call :meth:`close` when done (or use :func:`open_engine`): it terminates the engine and
    unloads its library copy.
    """

    def __init__(self) -> None:
        import espeakng_loader

        self._dir = Path(tempfile.mkdtemp(prefix="adm-espeak-"))
        with _LOAD_LOCK:
            copy = self._dir / "libespeak-ng.so"
            shutil.copyfile(espeakng_loader.get_library_path(), copy)
            # RTLD_LOCAL: this copy's symbols (and globals) stay private to this handle.
            self._lib = ctypes.CDLL(str(copy), mode=ctypes.RTLD_LOCAL)
        _bind(self._lib)
        data = espeakng_loader.get_data_path().encode()
        options = _INITIALIZE_PHONEME_EVENTS | _INITIALIZE_DONT_EXIT
        rate = self._lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data, options)
        if rate <= 0:
            self._unload()
            raise RuntimeError(f"espeak_Initialize failed (data at {data.decode()})")
        self.sample_rate = int(rate)
        # eSpeak seeds its noise generator (breathy voices) from the clock: fix it.
        self._lib.espeak_ng_SetRandSeed(_RAND_SEED)
        self._chunks: list[np.ndarray] = []
        self._events: list[tuple[int, int, int, int, bytes]] = []
        # Keep a reference: ctypes frees the trampoline when the Python object dies.
        self._callback = _Callback(self._on_synth)
        self._lib.espeak_SetSynthCallback(self._callback)
        self._voice: Voice | None = None
        self._lock = threading.Lock()

    def _on_synth(self, wav, num_samples, events) -> int:
        if num_samples > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, (num_samples,)).copy())
        i = 0
        while events[i].type != _EVENT_LIST_TERMINATED:
            ev = events[i]
            name = bytes(ev.id.string).split(b"\0", 1)[0] if ev.type == _EVENT_PHONEME else b""
            self._events.append((ev.type, ev.text_position, ev.length, ev.audio_position, name))
            if ev.type == _EVENT_MSG_TERMINATED:
                break
            i += 1
        return 0  # 0 = continue synthesis

    def _unload(self) -> None:
        with _LOAD_LOCK:
            handle = getattr(self._lib, "_handle", None)
            self._lib = None  # type: ignore[assignment]
            if handle is not None:
                _ctypes.dlclose(handle)
            shutil.rmtree(self._dir, ignore_errors=True)

    def close(self) -> None:
        """Terminate the engine and unload its library copy (idempotent)."""
        if getattr(self, "_lib", None) is not None:
            self._lib.espeak_Terminate()
            self._unload()

    def set_voice(self, voice: Voice) -> None:
        """Select ``voice`` by name (by language and gender if the name is unknown) and set its
        rate, pitch and pitch range."""
        if voice == self._voice:
            return
        lib = self._lib
        if lib.espeak_SetVoiceByName(voice.name.encode()) != 0:
            spec = _VoiceSpec(languages=voice.language.encode(), gender=voice.gender)
            if lib.espeak_SetVoiceByProperties(ctypes.byref(spec)) != 0:
                raise RuntimeError(f"eSpeak NG has no voice {voice.name!r} nor a {voice.language}")
        for param, value in (
            (_PARAM_RATE, voice.rate),
            (_PARAM_PITCH, voice.pitch),
            (_PARAM_RANGE, voice.pitch_range),
            (_PARAM_VOLUME, 100),
            (_PARAM_WORDGAP, 0),
        ):
            if lib.espeak_SetParameter(param, int(value), 0) != 0:
                raise RuntimeError(f"espeak_SetParameter({param}, {value}) failed")
        self._voice = voice

    def speak(self, text: str, voice: Voice) -> Utterance:
        """Synthesise ``text`` (plain ASCII/UTF-8, no markup) with ``voice``.

        Word character positions are 0-based offsets into ``text``; eSpeak reports 1-based
        positions counted in characters.
        """
        if self._lib is None:
            raise RuntimeError("this eSpeak NG engine is closed")
        with self._lock:
            self.set_voice(voice)
            self._chunks, self._events = [], []
            data = text.encode("utf-8") + b"\0"
            buf = ctypes.create_string_buffer(data, len(data))
            err = self._lib.espeak_Synth(
                buf, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None
            )
            chunks, events = self._chunks, self._events
        if err != 0:
            raise RuntimeError(f"espeak_Synth failed with code {err} on {text!r}")
        audio = (
            np.concatenate(chunks).astype(np.float32) / 32768.0
            if chunks
            else np.zeros(0, np.float32)
        )
        words, phonemes, end_ms = [], [], 0
        for kind, pos, length, ms, name in events:
            if kind == _EVENT_WORD:
                words.append(WordEvent(start=pos - 1, length=length, time=ms / 1000.0))
            elif kind == _EVENT_PHONEME:
                label = name.decode("utf-8", "replace")
                phonemes.append(PhonemeEvent(label, ms / 1000.0, len(words) - 1))
            elif kind in (_EVENT_END, _EVENT_MSG_TERMINATED):
                end_ms = max(end_ms, ms)
        end_time = max(end_ms / 1000.0, len(audio) / self.sample_rate)
        return Utterance(audio, self.sample_rate, tuple(words), tuple(phonemes), end_time)


@contextlib.contextmanager
def open_engine() -> Iterator[Espeak]:
    """A fresh eSpeak NG engine for the duration of the ``with`` block."""
    tts = Espeak()
    try:
        yield tts
    finally:
        tts.close()
