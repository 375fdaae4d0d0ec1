# The feature stage: per-clip audio (MFCC | log-mel | prosody | WavLM | onset) and text
# (fastText word vector + silence flag) conditions, cached as Parquet. Only features settings
# reach these jobs, so model and training changes never rerun them.


rule fasttext_train:
    input:
        textgrids=get_split_textgrids("train"),
        split="results/data/split/train.txt",
    output:
        "results/features/fasttext/model.bin",
    params:
        cfg=get_params("fasttext"),
    log:
        "results/logs/features/fasttext_train.log",
    conda:
        "../envs/adm.yaml"
    shell:
        "python -m adm.features.fasttext_train --textgrids {input.textgrids} "
        "--split {input.split} --out {output} --config {params.cfg:q} > {log} 2>&1"


rule filter_vectors:
    input:
        vec=get_text_vectors_source(),
        textgrids=get_all_textgrids(),
    output:
        "results/features/fasttext/filtered.parquet",
    params:
        cfg=get_params("text_features"),
    log:
        "results/logs/features/filter_vectors.log",
    conda:
        "../envs/adm.yaml"
    shell:
        "python -m adm.features.vectors --vec {input.vec} --textgrids {input.textgrids} "
        "--out {output} --config {params.cfg:q} > {log} 2>&1"


rule audio_features:
    input:
        clip="results/data/clips/{clip}.parquet",
        wav=get_clip_wav,
    output:
        "results/features/audio/{clip}.parquet",
    params:
        cfg=get_params("audio_features"),
    resources:
        gpu=get_feature_gpus(),
    log:
        "results/logs/features/audio/{clip}.log",
    conda:
        "../envs/adm.yaml"
    shell:
        "python -m adm.features.audio --clip {input.clip} --wav {input.wav} --out {output} "
        "--config {params.cfg:q} > {log} 2>&1"


rule text_features:
    input:
        clip="results/data/clips/{clip}.parquet",
        textgrid=get_clip_textgrid,
        vectors=get_text_vectors(),
    output:
        "results/features/text/{clip}.parquet",
    params:
        cfg=get_params("text_features"),
    log:
        "results/logs/features/text/{clip}.log",
    conda:
        "../envs/adm.yaml"
    shell:
        "python -m adm.features.text --clip {input.clip} --textgrid {input.textgrid} "
        "--vectors {input.vectors} --out {output} --config {params.cfg:q} > {log} 2>&1"
