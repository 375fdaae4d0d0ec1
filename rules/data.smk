# The data stage: the raw corpus (bundled or downloaded), one prepared Parquet per clip,
# the CaMN split and the train-split normalisation statistics. The corpus rules name every raw
# file (a missing one reruns them), but the jobs that read raw files depend on the corpus's
# manifest, written last, and get the paths as params: Snakemake looks for the producer of an
# input by matching it against each output of a rule in turn, so per-file inputs would cost
# clips x files matches (quadratic; seconds of the graph at BEAT's 520 clips).


rule synthesize_corpus:
    output:
        manifest=layout.corpus_manifest("synth"),
        files=get_corpus_files("synth"),
    log:
        layout.log("data/synthesize_corpus"),
    conda:
        "../envs/adm.yaml"
    threads: THREADS["synthesize"]
    params:
        root=get_output_folder,
        cfg=get_params("synthesize"),
    shell:
        "adm synthesize --root {params.root} --config {params.cfg:q} --workers {threads} "
        "> {log} 2>&1"


rule download_beat:
    output:
        manifest=layout.corpus_manifest("beat"),
        files=get_corpus_files("beat"),
    log:
        layout.log("data/download_beat"),
    conda:
        "../envs/adm.yaml"
    params:
        root=get_output_folder,
        speakers=get_speakers(),
        cfg=get_params("download"),
    shell:
        "adm download --root {params.root} --speakers {params.speakers} "
        "--config {params.cfg:q} > {log} 2>&1"


# One job per batch of a speaker's clips (data.clips_per_job), each writing every clip's own
# Parquet: per-clip jobs spent most of their time starting up. Snakemake cannot derive a list
# of outputs from a wildcard, hence one named rule per batch (prepare_clip_speaker2_0, ...).
for batch, batch_files in CLIP_BATCHES.items():

    rule:
        name:
            f"prepare_clip_{batch}"
        input:
            corpus=get_corpus_manifest(),
        output:
            batch_files["clips"],
        log:
            layout.log(f"data/prepare/{batch}"),
        conda:
            "../envs/adm.yaml"
        params:
            stems=batch_files["stems"],
            root=get_corpus_folder,
            cfg=get_params("prepare"),
        shell:
            "adm prepare --clip {params.stems} --root {params.root} --out {output} "
            "--config {params.cfg:q} > {log} 2>&1"


rule split:
    input:
        get_prepared_clips(),
    output:
        train=layout.split_list("train"),
        val=layout.split_list("val"),
        test=layout.split_list("test"),
        skipped=layout.SKIPPED,
    log:
        layout.log("data/split"),
    conda:
        "../envs/adm.yaml"
    params:
        outdir=get_output_folder,
    shell:
        "adm split --outdir {params.outdir} --skipped {output.skipped} {input} > {log} 2>&1"


rule norm_stats:
    input:
        train=layout.split_list("train"),
    output:
        layout.NORM_STATS,
    log:
        layout.log("data/norm_stats"),
    conda:
        "../envs/adm.yaml"
    params:
        clips=layout.CLIPS,
        min_std=get_min_std(),
    shell:
        "adm norm-stats --train {input.train} --clips-dir {params.clips} --out {output} "
        "--min-std {params.min_std} > {log} 2>&1"


rule preview_take:
    input:
        manifest=layout.corpus_manifest("{source}"),
    output:
        report(layout.preview("{source}"), category="Data"),
    log:
        layout.log("data/preview_{source}"),
    conda:
        "../envs/adm.yaml"
    params:
        root=get_source_root,
        clip=get_jawopen_clip(),
    shell:
        "adm preview --root {params.root} --stem {params.clip} --out {output} > {log} 2>&1"
