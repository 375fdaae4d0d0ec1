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


# One audio and one text job per batch of a speaker's clips (data.clips_per_job; see
# prepare_clip), each writing every clip's own table: a job's start-up (librosa's kernels,
# WavLM, the word vectors) takes seconds and a clip's features a fraction of one.
for batch, batch_files in CLIP_BATCHES.items():

    rule:
        name:
            f"audio_features_{batch}"
        input:
            clips=batch_files["clips"],
            corpus=get_corpus_manifest(),
        output:
            batch_files["audio"],
        log:
            layout.log(f"features/audio/{batch}"),
        conda:
            "../envs/adm.yaml"
        resources:
            gpu=get_feature_gpus(),
        params:
            wavs=batch_files["wavs"],
            cfg=get_params("audio-features"),
        shell:
            "adm audio-features --clip {input.clips} --wav {params.wavs} --out {output} "
            "--config {params.cfg:q} > {log} 2>&1"

    rule:
        name:
            f"text_features_{batch}"
        input:
            clips=batch_files["clips"],
            corpus=get_corpus_manifest(),
            vectors=get_text_vectors(),
        output:
            batch_files["text"],
        log:
            layout.log(f"features/text/{batch}"),
        conda:
            "../envs/adm.yaml"
        params:
            textgrids=batch_files["textgrids"],
            cfg=get_params("text-features"),
        shell:
            "adm text-features --clip {input.clips} --textgrid {params.textgrids} "
            "--vectors {input.vectors} --out {output} --config {params.cfg:q} > {log} 2>&1"


rule features_done:
    input:
        audio=get_feature_files("audio"),
        text=get_feature_files("text"),
    output:
        touch(layout.FEATURES_DONE),
