# Shared by every stage file. It validates the config and defines small get_*()
# helpers that ask the adm package what the config means (no logic lives here).

from pathlib import Path

from snakemake.logging import logger
from snakemake.utils import validate

import adm.pipeline as pipeline
import adm.study.settings as study_settings
from adm.summary import skipped_clips_summary


validate(config, schema="../workflow/schemas/config.schema.yaml")


def get_output_folder(wildcards, output):
    return Path(output[0]).parent


def get_params(stage):
    return pipeline.stage_params(config, stage)


def get_corpus_root():
    return pipeline.corpus_root(config)


def get_corpus_files(source):
    return pipeline.corpus_files(config, source)


def get_clip_sources(wildcards):
    return pipeline.clip_sources(config, wildcards.clip)


def get_prepared_clips():
    return pipeline.prepared_clips(config)


def get_clip_wav(wildcards):
    return pipeline.clip_sources(config, wildcards.clip)["wav"]


def get_clip_textgrid(wildcards):
    return pipeline.clip_sources(config, wildcards.clip)["TextGrid"]


def get_split_textgrids(split):
    return pipeline.textgrids(config, pipeline.split_stems(config, split))


def get_all_textgrids():
    return pipeline.textgrids(config)


def get_text_vectors():
    return pipeline.text_vectors(config)


def get_text_vectors_source():
    return pipeline.text_vectors_source(config)


def get_feature_gpus():
    return pipeline.feature_gpus(config)


def get_feature_files(kind):
    return pipeline.feature_files(config, kind)


def get_variants():
    return pipeline.variant_names(config)


def get_train_params(wildcards):
    return pipeline.train_params(config, wildcards.variant)


def get_sample_params():
    return pipeline.sample_params(config)


def get_fit_params(wildcards):
    return pipeline.fit_params(config, wildcards.kind)


def get_evaluate_params():
    return pipeline.evaluate_params(config)


def get_table_context():
    return pipeline.table_context(config)


def get_metrics_files(*variants):
    return pipeline.metrics_files(config, list(variants) or None)


def get_scalars_files():
    return pipeline.scalars_files(config)


def get_sample_dirs():
    return pipeline.sample_dirs(config)


def get_jawopen_clip():
    return pipeline.jawopen_clip(config)


# The study's inputs are functions of the job, so that a config without a study: section
# fails only when the study is asked for.
def get_study_sample_dirs(wildcards):
    return study_settings.study_sample_dirs(config)


def get_study_wavs(wildcards):
    return study_settings.study_wavs(config)


def get_study_params(wildcards):
    return study_settings.study_params(config)


def get_study_sample_seed(wildcards):
    return study_settings.study_sample_seed(config)


def get_final_targets():
    return pipeline.final_targets(config)


def report_skipped_clips():
    """The run's last words when clips were skipped (on_bad_clip: skip): how many, and where."""
    message = skipped_clips_summary(rules.split.output.skipped)
    if message:
        logger.warning(message)
