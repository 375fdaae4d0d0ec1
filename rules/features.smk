# The feature stage: per-clip audio (MFCC | log-mel | prosody | WavLM | onset) and text
# (fastText word vector + silence flag) conditions, cached as Parquet. Only features settings
# reach these jobs, so model and training changes never rerun them. The prepared clips reach
# the jobs that read all of them through the split lists (written after every clip), and the
# conditions through features_done (touched after every clip's), so those jobs have a few
# inputs each instead of thousands: the graph of real BEAT's 520 clips builds in seconds.


rule fasttext_train:
    input:
        corpus=get_corpus_manifest(),
        split=layout.split_list("train"),
    output:
        layout.FASTTEXT_MODEL,
    log:
        layout.log("features/fasttext_train"),
    conda:
        "../envs/adm.yaml"
    params:
        textgrids=get_textgrids("train"),
        cfg=get_params("fasttext-train"),
    shell:
        "adm fasttext-train --textgrids {params.textgrids} --split {input.split} --out {output} "
        "--config {params.cfg:q} > {log} 2>&1"


rule filter_vectors:
    input:
        vec=get_text_vectors_source(),
        corpus=get_corpus_manifest(),
    output:
        layout.FILTERED_VECTORS,
    log:
        layout.log("features/filter_vectors"),
    conda:
        "../envs/adm.yaml"
    params:
        textgrids=get_textgrids(),
        cfg=get_params("filter-vectors"),
    shell:
        "adm filter-vectors --vec {input.vec} --textgrids {params.textgrids} --out {output} "
        "--config {params.cfg:q} > {log} 2>&1"


rule audio_features:
    input:
        clip=layout.clip("{clip}"),
        corpus=get_corpus_manifest(),
    output:
        layout.feature("audio", "{clip}"),
    log:
        layout.log("features/audio/{clip}"),
    conda:
        "../envs/adm.yaml"
    resources:
        gpu=get_feature_gpus(),
    params:
        wav=get_clip_wav,
        cfg=get_params("audio-features"),
    shell:
        "adm audio-features --clip {input.clip} --wav {params.wav} --out {output} "
        "--config {params.cfg:q} > {log} 2>&1"


rule text_features:
    input:
        clip=layout.clip("{clip}"),
        corpus=get_corpus_manifest(),
        vectors=get_text_vectors(),
    output:
        layout.feature("text", "{clip}"),
    log:
        layout.log("features/text/{clip}"),
    conda:
        "../envs/adm.yaml"
    params:
        textgrid=get_clip_textgrid,
        cfg=get_params("text-features"),
    shell:
        "adm text-features --clip {input.clip} --textgrid {params.textgrid} "
        "--vectors {input.vectors} --out {output} --config {params.cfg:q} > {log} 2>&1"


rule features_done:
    input:
        audio=get_feature_files("audio"),
        text=get_feature_files("text"),
    output:
        touch(layout.FEATURES_DONE),
