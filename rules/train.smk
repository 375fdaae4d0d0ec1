# Training: one job per variant (full, no_uwp, a2e, a2g, ...). A killed job resumes from its
# last checkpoint in results/train/<variant>/checkpoints/ when run again. The weights depend on
# the CPU thread count in their last bits: the command gets the rule's `threads` (recorded in the
# weights' metadata), so typing it by hand with the same --threads gives the same weights.


rule train:
    input:
        clips=get_prepared_clips(),
        audio=get_feature_files("audio"),
        text=get_feature_files("text"),
        train="results/data/split/train.txt",
        val="results/data/split/val.txt",
        norm="results/data/norm_stats.json",
    output:
        model="results/train/{variant}/model.safetensors",
        ema="results/train/{variant}/ema.safetensors",
        scalars="results/train/{variant}/scalars.csv",
    params:
        cfg=get_train_params,
        speakers=get_params("speakers"),
    threads: 1
    resources:
        gpu=1,
    log:
        "results/logs/train/{variant}.log",
    conda:
        "../envs/adm.yaml"
    shell:
        "python -m adm.train --clips-dir results/data/clips --audio-dir results/features/audio "
        "--text-dir results/features/text --split-dir results/data/split --norm {input.norm} "
        "--speakers {params.speakers} --outdir results/train/{wildcards.variant} "
        "--config {params.cfg:q} --threads {threads} > {log} 2>&1"
