# Shared by every rule file: validate the config, constrain wildcards, and small get_*()
# helpers that ask the adm package what the config means (no logic lives here).

import sys

from snakemake.utils import validate

sys.path.insert(0, workflow.basedir + "/..")

import adm.pipeline as pipeline


validate(config, schema="../workflow/schemas/config.schema.yaml")


wildcard_constraints:
    clip=r"\d+_[a-z]+_\d+_\d+_\d+",


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


def get_data_targets():
    return [
        "results/data/split/train.txt",
        "results/data/norm_stats.json",
        "results/data/skipped.tsv",
    ]
