"""Settings of the feature stage (``features.audio`` and ``features.text`` in config.yaml).

Both are frozen dataclasses built with :func:`adm.config.from_dict`, so an unknown key is an
error naming it. Their :func:`adm.config.config_hash` is stored in every feature file, so a
cached feature can always be traced to the settings that made it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from adm.errors import ConfigError

BlockName = Literal["mfcc", "logmel", "prosody", "wavlm", "onset"]

#: The DiffuseStyleGesture+ order of the audio blocks (method.md): 40 + 64 + 4 + 1024 + 1 = 1133.
ALL_BLOCKS: tuple[str, ...] = ("mfcc", "logmel", "prosody", "wavlm", "onset")


@dataclass(frozen=True)
class AudioFeatureConfig:
    """Audio condition: which blocks, and how each is analysed.

    Every acoustic block is computed on one analysis grid (frame ``j`` centred at
    ``j * hop_length / sample_rate`` seconds) and WavLM on its own 50 Hz grid; both are mapped
    to the motion frames by time (see :mod:`adm.features.align`). The hop therefore need not
    divide the motion frame period (16000 / 30 is not an integer): with the default 10 ms hop
    each 30 fps motion frame interpolates between the two analysis frames around its time.

    Attributes:
        blocks: ordered subset of ``("mfcc", "logmel", "prosody", "wavlm", "onset")``.
        sample_rate: the waveform is loaded (and resampled) at this rate, in Hz.
        n_mfcc: MFCC coefficients (DCT of the log-mel bands, librosa's convention).
        n_mels: mel bands of the log-mel block; MFCCs are taken from the same bands.
        n_fft: FFT size of the spectrogram, in samples.
        win_length: analysis window (Hann), in samples (25 ms at 16 kHz).
        hop_length: analysis hop, in samples (10 ms at 16 kHz).
        fmin: lowest mel frequency, in Hz.
        fmax: highest mel frequency, in Hz (``None``: Nyquist).
        pitch_fmin: lowest fundamental frequency the pitch tracker looks for, in Hz.
        pitch_fmax: highest fundamental frequency, in Hz.
        pitch_threshold: YIN threshold on the cumulative mean normalised difference; a frame
            whose minimum lies above it is unvoiced (pitch 0). De Cheveigne and Kawahara (2002)
            use 0.1 to 0.15.
        wavlm: a Hugging Face model id (``"microsoft/wavlm-large"``, read from the local cache),
            a folder written by ``save_pretrained``, or ``"none"`` to leave the block out.
        wavlm_layer: hidden layer to take: ``L`` (or ``-1``) is the model's final output,
            ``0`` the input of the first transformer layer, ``i`` the output of layer ``i``.
        wavlm_chunk_seconds: long audio is run through WavLM in chunks of this length.
        wavlm_overlap_seconds: consecutive chunks overlap by this much; each keeps the frames
            nearest its own centre (half of the overlap is dropped on each side).
        wavlm_batch: chunks per forward pass.
        allow_download: let ``from_pretrained`` reach the network; off by default so that a
            run never downloads silently.
    """

    blocks: tuple[BlockName, ...] = ALL_BLOCKS  # type: ignore[assignment]
    sample_rate: int = 16000
    n_mfcc: int = 40
    n_mels: int = 64
    n_fft: int = 512
    win_length: int = 400
    hop_length: int = 160
    fmin: float = 0.0
    fmax: float | None = None
    pitch_fmin: float = 60.0
    pitch_fmax: float = 500.0
    pitch_threshold: float = 0.15
    wavlm: str = "none"
    wavlm_layer: int = -1
    wavlm_chunk_seconds: float = 20.0
    wavlm_overlap_seconds: float = 2.0
    wavlm_batch: int = 4
    allow_download: bool = False

    def __post_init__(self) -> None:
        where = "features.audio"
        if not self.blocks:
            raise ConfigError(f"{where}.blocks: at least one block is needed")
        if len(set(self.blocks)) != len(self.blocks):
            raise ConfigError(f"{where}.blocks: a block is listed twice: {list(self.blocks)}")
        for name in self.blocks:
            if name not in ALL_BLOCKS:
                raise ConfigError(f"{where}.blocks: unknown block {name!r} (known: {ALL_BLOCKS})")
        positive = ("n_mfcc", "n_mels", "hop_length")
        for key in positive:
            if getattr(self, key) <= 0:
                raise ConfigError(f"{where}.{key}: must be positive, got {getattr(self, key)}")
        if self.sample_rate < 8000:
            raise ConfigError(f"{where}.sample_rate: must be >= 8000 Hz, got {self.sample_rate}")
        for key in ("n_fft", "win_length"):
            if getattr(self, key) < 16:
                raise ConfigError(f"{where}.{key}: must be >= 16, got {getattr(self, key)}")
        if self.fmin < 0:
            raise ConfigError(f"{where}.fmin: must be >= 0, got {self.fmin}")
        if not self.pitch_threshold > 0:
            raise ConfigError(
                f"{where}.pitch_threshold: must be positive, got {self.pitch_threshold}"
            )
        if self.win_length > self.n_fft:
            raise ConfigError(f"{where}.win_length: {self.win_length} exceeds n_fft {self.n_fft}")
        if self.n_mfcc > self.n_mels:
            raise ConfigError(f"{where}.n_mfcc: {self.n_mfcc} exceeds n_mels {self.n_mels}")
        if not 0 < self.pitch_fmin < self.pitch_fmax < self.sample_rate / 2:
            raise ConfigError(
                f"{where}.pitch_fmin/pitch_fmax: need 0 < fmin < fmax < sample_rate / 2, got "
                f"{self.pitch_fmin}, {self.pitch_fmax}"
            )
        if self.wavlm_chunk_seconds <= 0 or self.wavlm_overlap_seconds < 0:
            raise ConfigError(f"{where}.wavlm_chunk_seconds/overlap: must be positive")
        if self.wavlm_overlap_seconds >= self.wavlm_chunk_seconds:
            raise ConfigError(
                f"{where}.wavlm_overlap_seconds: {self.wavlm_overlap_seconds} must be smaller "
                f"than wavlm_chunk_seconds {self.wavlm_chunk_seconds}"
            )
        if self.wavlm_batch <= 0:
            raise ConfigError(f"{where}.wavlm_batch: must be positive")
        if self.uses_wavlm and self.sample_rate != 16000:
            raise ConfigError(
                f"{where}.sample_rate: WavLM was trained on 16 kHz audio, got {self.sample_rate}"
            )

    @property
    def uses_wavlm(self) -> bool:
        """True when the WavLM block is requested and a model is configured."""
        return "wavlm" in self.blocks and self.wavlm.strip().lower() != "none"


@dataclass(frozen=True)
class TextFeatureConfig:
    """Text condition: one fastText vector per frame plus a silence flag (300 + 1 dims).

    Attributes:
        source: ``vec`` (``crawl-300d-2M.vec`` as the paper, or its table filtered to the
            corpus vocabulary by ``adm filter-vectors``), ``bin`` (``cc.en.300.bin``,
            subword vectors for unknown words) or ``trained`` (a skipgram trained on the corpus
            transcripts by ``adm fasttext-train``).
        path: the vectors file; the text CLI's ``--vectors`` overrides it.
        dim: vector width; the file must match.
        lowercase: look words up in lower case (BEAT transcripts are lower case, crawl vectors
            are cased).
    """

    source: Literal["trained", "vec", "bin"] = "vec"
    path: str | None = None
    dim: int = 300
    lowercase: bool = True

    def __post_init__(self) -> None:
        if self.dim <= 0:
            raise ConfigError(f"features.text.dim: must be positive, got {self.dim}")


@dataclass(frozen=True)
class FastTextTrainConfig:
    """Skipgram training on the corpus transcripts (``fasttext.train_unsupervised``).

    Word vectors only, no character n-grams: with fewer than 10 threads fastText initialises
    only the first tenth of its input matrix (fastText issue #1061), and the build in use leaves
    the rest as uninitialised memory, so one-thread (deterministic) training of n-gram rows is
    not reliable. The word rows are instead initialised here, from ``seed``, with fastText's
    own distribution, and handed over as pretrained vectors. A word absent from the corpus
    therefore has no vector (zero vector, flag 0, as for the ``vec`` source).

    Attributes:
        dim: vector width (300 as crawl-300d-2M).
        epoch: passes over the corpus.
        min_count: words seen fewer times are dropped.
        lr: learning rate.
        ws: context window size.
        neg: negatives sampled per positive.
        seed: seed of the initial vectors; with one thread the model is deterministic.
        lowercase: lower-case the transcripts (must match the text features' setting).
    """

    dim: int = 300
    epoch: int = 10
    min_count: int = 1
    lr: float = 0.05
    ws: int = 5
    neg: int = 5
    seed: int = 0
    lowercase: bool = True

    def __post_init__(self) -> None:
        for key in ("dim", "epoch", "min_count", "ws", "neg"):
            if getattr(self, key) <= 0:
                raise ConfigError(f"fasttext.{key}: must be positive, got {getattr(self, key)}")
        if self.lr <= 0:
            raise ConfigError(f"fasttext.lr: must be positive, got {self.lr}")
