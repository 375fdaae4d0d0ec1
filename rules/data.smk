# The data stage: the raw corpus (bundled or downloaded), one prepared Parquet per clip,
# the CaMN split and the train-split normalisation statistics.


rule synthesize_corpus:
    output:
        manifest="results/data/corpus/synth/manifest.tsv",
        files=get_corpus_files("synth"),
    params:
        root=get_output_folder,
        cfg=get_params("synth"),
    log:
        "results/logs/data/synthesize_corpus.log",
    threads: 2
    conda:
        "../envs/adm.yaml"
    shell:
        "python -m adm.synthesize --root {params.root} --config {params.cfg:q} "
        "--workers {threads} > {log} 2>&1"


rule download_beat:
    output:
        manifest="results/data/corpus/beat/manifest.tsv",
        files=get_corpus_files("beat"),
    params:
        root=get_output_folder,
        speakers=get_params("speakers"),
        cfg=get_params("beat"),
    log:
        "results/logs/data/download_beat.log",
    conda:
        "../envs/adm.yaml"
    shell:
        "python -m adm.download --root {params.root} --speakers {params.speakers} "
        "--config {params.cfg:q} > {log} 2>&1"


rule prepare_clip:
    input:
        unpack(get_clip_sources),
    output:
        "results/data/clips/{clip}.parquet",
    params:
        root=get_corpus_root(),
        cfg=get_params("prepare"),
    log:
        "results/logs/data/prepare/{clip}.log",
    conda:
        "../envs/adm.yaml"
    shell:
        "python -m adm.prepare --clip {wildcards.clip} --root {params.root} --out {output} "
        "--config {params.cfg:q} > {log} 2>&1"


rule split:
    input:
        get_prepared_clips(),
    output:
        train="results/data/split/train.txt",
        val="results/data/split/val.txt",
        test="results/data/split/test.txt",
        skipped="results/data/skipped.tsv",
    log:
        "results/logs/data/split.log",
    conda:
        "../envs/adm.yaml"
    shell:
        "python -m adm.split --outdir results/data/split --skipped {output.skipped} {input} "
        "> {log} 2>&1"


rule norm_stats:
    input:
        train="results/data/split/train.txt",
        clips=get_prepared_clips(),
    output:
        "results/data/norm_stats.json",
    params:
        min_std=get_params("min_std"),
    log:
        "results/logs/data/norm_stats.log",
    conda:
        "../envs/adm.yaml"
    shell:
        "python -m adm.norm_stats --train {input.train} --clips-dir results/data/clips "
        "--out {output} --min-std {params.min_std} > {log} 2>&1"


rule preview_take:
    input:
        manifest="results/data/corpus/{source}/manifest.tsv",
    output:
        report("results/data/preview_{source}.png", category="Data"),
    params:
        clip=get_jawopen_clip(),
    log:
        "results/logs/data/preview_{source}.log",
    conda:
        "../envs/adm.yaml"
    shell:
        "python -m adm.preview --root results/data/corpus/{wildcards.source} "
        "--stem {params.clip} --out {output} > {log} 2>&1"
