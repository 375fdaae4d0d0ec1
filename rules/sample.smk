# Sampling: whole test clips per variant and sampling seed -> Parquet, BVH and face JSON.


rule sample:
    input:
        ema="results/train/{variant}/ema.safetensors",
        clips=get_prepared_clips(),
        audio=get_feature_files("audio"),
        text=get_feature_files("text"),
        test="results/data/split/test.txt",
    output:
        directory("results/samples/{variant}/seed{seed}"),
    params:
        cfg=get_sample_params(),
    threads: 1
    resources:
        gpu=1,
    log:
        "results/logs/sample/{variant}/seed{seed}.log",
    conda:
        "../envs/adm.yaml"
    shell:
        "python -m adm.sample --checkpoint {input.ema} --clips-dir results/data/clips "
        "--audio-dir results/features/audio --text-dir results/features/text "
        "--split {input.test} --seed {wildcards.seed} --outdir {output} "
        "--config {params.cfg:q} --threads {threads} > {log} 2>&1"
