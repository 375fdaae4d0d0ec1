"""The file lists of the rules: every input and output the config implies, by name.

Paths come from :mod:`adm.layout`; which clips, variants and seeds exist comes from the
:class:`~adm.experiment.config.Experiment`.
"""

from __future__ import annotations

from adm import layout
from adm.data.download import REQUIRED_EXTENSIONS
from adm.errors import ConfigError
from adm.experiment.config import Experiment
from adm.experiment.devices import job_gpus


def clip_sources(experiment: Experiment, stem: str) -> dict[str, str]:
    """The required raw files of one clip (extension -> path)."""
    source = experiment.data.source
    return {ext: layout.corpus_file(source, stem, ext) for ext in REQUIRED_EXTENSIONS}


def corpus_files(experiment: Experiment, source: str) -> list[str]:
    """Every required raw file of the corpus of ``source`` (outputs of its corpus rule); empty
    unless that is the configured source, so the other source's rule is never asked for."""
    if source != experiment.data.source:
        return []
    return [p for s in experiment.clip_stems for p in clip_sources(experiment, s).values()]


def prepared_clips(experiment: Experiment) -> list[str]:
    """Prepared Parquet file of every clip."""
    return [layout.clip(s) for s in experiment.clip_stems]


def textgrids(experiment: Experiment, split: str | None = None) -> list[str]:
    """TextGrid files of the clips of ``split`` (default: every clip)."""
    stems = experiment.clip_stems if split is None else experiment.split_stems(split)
    return [clip_sources(experiment, s)["TextGrid"] for s in stems]


def feature_files(experiment: Experiment, kind: str) -> list[str]:
    """Per-clip condition tables of ``kind`` (audio or text)."""
    return [layout.feature(kind, s) for s in experiment.clip_stems]


def clip_batch_files(experiment: Experiment) -> dict[str, dict[str, list[str]]]:
    """Per batch of clips (see :meth:`Experiment.clip_batches`): the stems, their prepared
    clips, raw wav and TextGrid files, and audio and text features, each a list in the clips'
    order (the files of one prepare, audio-feature and text-feature job)."""
    batches = {}
    for name, stems in experiment.clip_batches().items():
        sources = [clip_sources(experiment, s) for s in stems]
        batches[name] = {
            "stems": list(stems),
            "clips": [layout.clip(s) for s in stems],
            "wavs": [src["wav"] for src in sources],
            "textgrids": [src["TextGrid"] for src in sources],
            "audio": [layout.feature("audio", s) for s in stems],
            "text": [layout.feature("text", s) for s in stems],
        }
    return batches


def text_vectors(experiment: Experiment) -> str:
    """The vectors file the text features read: trained on the corpus, the filtered ``.vec``
    table, or the configured ``.bin`` model."""
    text = experiment.text
    if text.source == "trained":
        return layout.FASTTEXT_MODEL
    if text.source == "vec":
        return layout.FILTERED_VECTORS
    if not text.path:
        raise ConfigError("features.text.path: a .bin model path is needed for source 'bin'")
    return text.path


def text_vectors_source(experiment: Experiment) -> list[str]:
    """The configured ``.vec`` file when the text source is ``vec`` (input of the filter)."""
    text = experiment.text
    if text.source != "vec":
        return []
    if not text.path:
        raise ConfigError("features.text.path: a .vec file path is needed for source 'vec'")
    return [text.path]


def feature_gpus(experiment: Experiment) -> int:
    """1 when the audio features run WavLM and a GPU is there to run it, else 0."""
    return job_gpus(experiment.audio.uses_wavlm)


def metrics_files(experiment: Experiment, variants: list[str] | None = None) -> list[str]:
    """Metrics JSON of every (variant, seed)."""
    names = list(experiment.variants) if not variants else variants
    return [layout.metrics(v, s) for v in names for s in experiment.sample_seeds()]


def table_metrics_files(experiment: Experiment, table: int) -> list[str]:
    """The metrics files a table reads: Table 1 and 2 ADM's ``full`` and the variants running
    one of that table's peers (``method``), Table 3 every variant."""
    from adm.tables import paper

    if table == 3:
        return metrics_files(experiment)
    rows = paper.TABLE1 if table == 1 else paper.TABLE2
    names = ["full"] + [name for name, v in experiment.variants.items() if v.get("method") in rows]
    return metrics_files(experiment, [n for n in names if n in experiment.variants])


def vq_inputs(experiment: Experiment, variant: str) -> list[str]:
    """The stage-1 folder a variant's training reads (MambaTalk's VQ-VAEs), or none.

    Variants whose first stages have the same settings (MambaTalk and MambaTalk + UWP) share
    one: the folder of the first such variant in config order."""
    if "vq" not in experiment.variants[variant]:
        return []
    from adm.experiment.stages import vq_settings

    mine = vq_settings(experiment, variant)
    for name in experiment.variants:
        if "vq" in experiment.variants[name] and vq_settings(experiment, name) == mine:
            return [layout.vq_dir(name)]
    raise AssertionError("unreachable: the variant matches itself")


def vq_option(experiment: Experiment, variant: str) -> str:
    """``--vq-dir <folder> `` for a two-stage variant's ``adm train`` line, else empty."""
    folders = vq_inputs(experiment, variant)
    return f"--vq-dir {folders[0]} " if folders else ""


def scalars_files(experiment: Experiment) -> list[str]:
    """Training scalars of every variant."""
    return [layout.train_file(v, "scalars.csv") for v in experiment.variants]


def variant_sample_dirs(experiment: Experiment) -> list[str]:
    """Sample folders of one variant (wildcard ``{variant}``), one per sampling seed in the
    order of ``sample.seeds``: the outputs of its sample job."""
    return [layout.sample_dir("{variant}", s) for s in experiment.sample_seeds()]


def variant_metrics_files(experiment: Experiment) -> list[str]:
    """Metrics files of one variant (wildcard ``{variant}``), one per sampling seed: the
    outputs of its evaluate job."""
    return [layout.metrics("{variant}", s) for s in experiment.sample_seeds()]


def sample_dirs(experiment: Experiment) -> list[str]:
    """Sample folders of every variant for the first sampling seed."""
    seed = experiment.sample_seeds()[0]
    return [layout.sample_dir(v, seed) for v in experiment.variants]


def jawopen_clip(experiment: Experiment) -> str:
    """The test clip of the JawOpen figure (and of the data preview)."""
    chosen = experiment.sections["figures"].get("jawopen_clip")
    return chosen or experiment.split_stems("test")[0]


def table_files() -> list[str]:
    """The four tables in every format."""
    return [layout.table(n, ext) for n in (1, 2, 3, 4) for ext in layout.TABLE_FORMATS]


def final_targets(experiment: Experiment) -> list[str]:
    """What ``rule all`` builds: the four tables, both figures, and the data-stage records."""
    return [
        *table_files(),
        layout.figure("jawopen"),
        layout.figure("training_curves"),
        layout.preview(experiment.data.source),
        layout.SKIPPED,
        layout.BASELINE_METRICS,
    ]
