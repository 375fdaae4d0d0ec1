"""Where the pipeline writes everything: the ``results/`` layout, written once.

The rules name their inputs and outputs with these functions (with Snakemake wildcards such as
``"{clip}"`` as arguments) and the package uses the same functions, so a path is spelt in one
place. Paths are relative to the repository root, as strings (what Snakemake expects). Nothing
here imports more than the standard library.
"""

from __future__ import annotations

RESULTS = "results"
DATA = f"{RESULTS}/data"
FEATURES = f"{RESULTS}/features"
LOGS = f"{RESULTS}/logs"

# --- data ------------------------------------------------------------------------------------
CLIPS = f"{DATA}/clips"
SPLITS = f"{DATA}/split"
SKIPPED = f"{DATA}/skipped.tsv"
NORM_STATS = f"{DATA}/norm_stats.json"
MANIFEST = "manifest.tsv"


def corpus_root(source: str) -> str:
    """Folder of the raw BEAT-format corpus of ``source`` (synth or beat)."""
    return f"{DATA}/corpus/{source}"


def corpus_manifest(source: str) -> str:
    """The corpus's manifest, written last by the rule that makes the corpus."""
    return f"{corpus_root(source)}/{MANIFEST}"


def corpus_file(source: str, stem: str, ext: str) -> str:
    """One raw file of a clip: ``<corpus>/<speaker>/<stem>.<ext>``."""
    speaker = stem.split("_", 1)[0]
    return f"{corpus_root(source)}/{speaker}/{stem}.{ext}"


def clip(stem: str) -> str:
    """The prepared Parquet file of one clip."""
    return f"{CLIPS}/{stem}.parquet"


def split_list(split: str) -> str:
    """The list of the clips of one split (train, val or test), one stem a line."""
    return f"{SPLITS}/{split}.txt"


def preview(source: str) -> str:
    """The preview picture of one take of ``source``."""
    return f"{DATA}/preview_{source}.png"


# --- features --------------------------------------------------------------------------------
FASTTEXT_MODEL = f"{FEATURES}/fasttext/model.bin"
#: Touched once every clip's audio and text conditions exist: the jobs that read all of them
#: depend on this one file, not on two files per clip (a graph of thousands of edges fewer).
FEATURES_DONE = f"{FEATURES}/all.done"
FILTERED_VECTORS = f"{FEATURES}/fasttext/filtered.parquet"


def feature_dir(kind: str) -> str:
    """Folder of the per-clip condition tables of ``kind`` (audio or text)."""
    return f"{FEATURES}/{kind}"


def feature(kind: str, stem: str) -> str:
    """The condition table of one clip."""
    return f"{feature_dir(kind)}/{stem}.parquet"


# --- training and sampling -------------------------------------------------------------------
def train_dir(variant: str) -> str:
    """Run folder of one variant: final weights, scalars and resumable checkpoints."""
    return f"{RESULTS}/train/{variant}"


def train_file(variant: str, name: str) -> str:
    """A file of a run folder: model.safetensors, ema.safetensors, scalars.csv."""
    return f"{train_dir(variant)}/{name}"


SAMPLES = f"{RESULTS}/samples"


def vq_dir(variant: str) -> str:
    """Stage-1 part VQ-VAEs of a two-stage variant (MambaTalk): ``<part>.safetensors``."""
    return f"{RESULTS}/vq/{variant}"


def sample_dir(variant: str, seed: int | str) -> str:
    """The generated test clips of one variant and sampling seed."""
    return f"{SAMPLES}/{variant}/seed{seed}"


# --- evaluation ------------------------------------------------------------------------------
METRIC_MODELS = f"{RESULTS}/metric_models"
REFERENCE = f"{METRIC_MODELS}/reference.npz"
BASELINE_METRICS = f"{RESULTS}/metrics/baseline/mean_pose.json"


def metric_model(kind: str) -> str:
    """The FGD motion autoencoder (motion) or the face VAE (face)."""
    return f"{METRIC_MODELS}/{kind}.safetensors"


def metrics(variant: str, seed: int | str) -> str:
    """Every metric of one variant and sampling seed."""
    return f"{RESULTS}/metrics/{variant}/seed{seed}.json"


# --- tables and figures ----------------------------------------------------------------------
TABLES = f"{RESULTS}/tables"
FIGURES = f"{RESULTS}/figures"
TABLE_FORMATS = ("csv", "md", "tex")


def table(number: int | str, ext: str) -> str:
    """One rendering of one of the paper's tables."""
    return f"{TABLES}/table{number}.{ext}"


def figure(name: str) -> str:
    """One figure (jawopen or training_curves)."""
    return f"{FIGURES}/{name}.png"


# --- generation from one's own recordings, the user study ------------------------------------
def generate_dir(name: str) -> str:
    """Everything generated for the recording ``name`` (BVH, face JSON, CSV, MP4, provenance)."""
    return f"{RESULTS}/generate/{name}"


STUDY = f"{RESULTS}/study"
STUDY_MATERIALS = f"{STUDY}/materials"


def log(name: str) -> str:
    """The log file of one job (``name`` may contain wildcards and folders)."""
    return f"{LOGS}/{name}.log"
