# Sampling: whole test clips per variant, every sampling seed in one job (the model and the
# clips load once) -> one folder per seed of Parquet, BVH and face JSON.


rule sample:
    input:
        ema=layout.train_file("{variant}", "ema.safetensors"),
        features=layout.FEATURES_DONE,
        test=layout.split_list("test"),
    output:
        [directory(d) for d in get_variant_sample_dirs()],
    log:
        layout.log("sample/{variant}"),
    conda:
        "../envs/adm.yaml"
    threads: THREADS["sample"]
    resources:
        gpu=get_job_gpus(),
    params:
        clips=layout.CLIPS,
        audio=layout.feature_dir("audio"),
        text=layout.feature_dir("text"),
        seeds=get_sample_seeds(),
        cfg=get_sample_params,
    shell:
        "adm sample --checkpoint {input.ema} --clips-dir {params.clips} "
        "--audio-dir {params.audio} --text-dir {params.text} --split {input.test} "
        "--seed {params.seeds} --outdir {output} --config {params.cfg:q} "
        "--threads {threads} > {log} 2>&1"
