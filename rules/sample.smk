# Sampling: whole test clips per variant and sampling seed -> Parquet, BVH and face JSON.


rule sample:
    input:
        ema=layout.train_file("{variant}", "ema.safetensors"),
        features=layout.FEATURES_DONE,
        test=layout.split_list("test"),
    output:
        directory(layout.sample_dir("{variant}", "{seed}")),
    log:
        layout.log("sample/{variant}/seed{seed}"),
    conda:
        "../envs/adm.yaml"
    threads: THREADS["sample"]
    resources:
        gpu=get_job_gpus(),
    params:
        clips=layout.CLIPS,
        audio=layout.feature_dir("audio"),
        text=layout.feature_dir("text"),
        cfg=get_sample_params,
    shell:
        "adm sample --checkpoint {input.ema} --clips-dir {params.clips} "
        "--audio-dir {params.audio} --text-dir {params.text} --split {input.test} "
        "--seed {wildcards.seed} --outdir {output} --config {params.cfg:q} "
        "--threads {threads} > {log} 2>&1"
