# Shared by every stage file. It validates the config once and defines small get_*() helpers
# that ask the adm package what the config means (no logic lives here): paths from adm.layout,
# file lists from adm.experiment.files, each stage's settings from adm.experiment.stages.

from pathlib import Path

from snakemake.logging import logger
from snakemake.utils import validate

from adm import layout
from adm.experiment import files
from adm.experiment.config import Experiment
from adm.experiment.devices import job_gpus
from adm.experiment.launch import train_gpus, train_job_gpus, train_launcher, train_priority
from adm.experiment.stages import THREADS, params
from adm.generation import targets as generation
from adm.study import settings as study_settings
from adm.summary import skipped_clips_summary

validate(config, schema="../workflow/schemas/config.schema.yaml")
EXPERIMENT = Experiment.from_config(config)
# The per-clip stages' batches (data.clips_per_job): one rule per batch in data.smk and
# features.smk, computed once.
CLIP_BATCHES = files.clip_batch_files(EXPERIMENT)


def get_output_folder(wildcards, output):
    return Path(output[0]).parent


def get_corpus_folder(wildcards, input):
    return Path(input.corpus).parent


def get_split_folder(wildcards, input):
    return Path(input.train).parent


def get_params(stage):
    return params(EXPERIMENT, stage)


def get_train_params(wildcards):
    return params(EXPERIMENT, "train", wildcards.variant)


def get_vq_params(wildcards):
    return params(EXPERIMENT, "train-vq", wildcards.variant)


def get_vq_inputs(wildcards):
    return files.vq_inputs(EXPERIMENT, wildcards.variant)


def get_vq_option(wildcards):
    return files.vq_option(EXPERIMENT, wildcards.variant)


def get_sample_params(wildcards):
    return params(EXPERIMENT, "sample", wildcards.variant)


def get_fit_params(wildcards):
    return params(EXPERIMENT, "fit-metric-model", wildcards.kind)


def get_speakers():
    return " ".join(str(s) for s in EXPERIMENT.speakers)


def get_min_std():
    return repr(EXPERIMENT.data.min_std)


def get_source_root(wildcards):
    return layout.corpus_root(wildcards.source)


def get_corpus_root():
    return layout.corpus_root(EXPERIMENT.data.source)


def get_corpus_manifest():
    return layout.corpus_manifest(EXPERIMENT.data.source)


def get_corpus_files(source):
    return files.corpus_files(EXPERIMENT, source)


def get_prepared_clips():
    return files.prepared_clips(EXPERIMENT)


def get_textgrids(split=None):
    return files.textgrids(EXPERIMENT, split)


def get_text_vectors():
    return files.text_vectors(EXPERIMENT)


def get_text_vectors_source():
    return files.text_vectors_source(EXPERIMENT)


def get_feature_gpus():
    return files.feature_gpus(EXPERIMENT)


def get_job_gpus():
    return job_gpus()


def get_train_launcher(wildcards):
    return train_launcher(train_gpus(EXPERIMENT, wildcards.variant))


def get_train_priority(wildcards):
    return train_priority(EXPERIMENT, wildcards.variant)


def get_train_gpus(wildcards):
    return train_job_gpus(EXPERIMENT, wildcards.variant)


def get_feature_files(kind):
    return files.feature_files(EXPERIMENT, kind)


def get_variants():
    return list(EXPERIMENT.variants)


def get_table_metrics(table):
    return files.table_metrics_files(EXPERIMENT, table)


def get_scalars_files():
    return files.scalars_files(EXPERIMENT)


def get_sample_seeds():
    return " ".join(str(s) for s in EXPERIMENT.sample_seeds())


def get_variant_sample_dirs():
    return files.variant_sample_dirs(EXPERIMENT)


def get_variant_metrics_files():
    return files.variant_metrics_files(EXPERIMENT)


def get_sample_dirs():
    return files.sample_dirs(EXPERIMENT)


def get_jawopen_clip():
    return files.jawopen_clip(EXPERIMENT)


# The study's inputs are functions of the job, so that a config without a study: section
# fails only when the study is asked for.
def get_study_sample_dirs(wildcards):
    return study_settings.study_sample_dirs(EXPERIMENT)


def get_study_wavs(wildcards):
    return study_settings.study_wavs(EXPERIMENT)


def get_study_params(wildcards):
    return study_settings.study_params(EXPERIMENT)


def get_study_sample_seed(wildcards):
    return study_settings.study_sample_seed(EXPERIMENT)


def get_generate_audio(wildcards):
    return generation.generate_audio(EXPERIMENT)[wildcards.name]


def get_generate_transcript(wildcards):
    return generation.generate_transcript(EXPERIMENT, wildcards.name)


def get_generate_transcript_args(wildcards):
    return generation.generate_transcript_args(EXPERIMENT, wildcards.name)


def get_generate_checkpoint(wildcards):
    return generation.generate_checkpoint(EXPERIMENT)


def get_generate_params(wildcards):
    return generation.generate_params(EXPERIMENT)


def get_generate_option(key):
    return generation.generate_option(EXPERIMENT, key)


def get_generate_targets():
    return generation.generate_targets(EXPERIMENT)


def get_final_targets():
    return files.final_targets(EXPERIMENT)


def report_skipped_clips():
    """The run's last words when clips were skipped (on_bad_clip: skip): how many, and where."""
    message = skipped_clips_summary(rules.split.output.skipped)
    if message:
        logger.warning(message)
