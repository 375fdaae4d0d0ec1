# Training: one job per variant (full, no_uwp, a2e, a2g, ...). A killed job resumes from its
# last checkpoint in results/train/<variant>/checkpoints/ when run again. The weights depend on
# the CPU thread count in their last bits: the command gets the rule's `threads` (recorded in the
# weights' metadata), so typing it by hand with the same --threads gives the same weights.


rule train:
    input:
        features=layout.FEATURES_DONE,
        train=layout.split_list("train"),
        val=layout.split_list("val"),
        norm=layout.NORM_STATS,
    output:
        model=layout.train_file("{variant}", "model.safetensors"),
        ema=layout.train_file("{variant}", "ema.safetensors"),
        scalars=layout.train_file("{variant}", "scalars.csv"),
    log:
        layout.log("train/{variant}"),
    conda:
        "../envs/adm.yaml"
    threads: THREADS["train"]
    resources:
        gpu=get_train_gpus,
    params:
        clips=layout.CLIPS,
        audio=layout.feature_dir("audio"),
        text=layout.feature_dir("text"),
        splits=get_split_folder,
        outdir=get_output_folder,
        speakers=get_speakers(),
        cfg=get_train_params,
        launch=get_train_launcher,
    shell:
        "{params.launch} --clips-dir {params.clips} --audio-dir {params.audio} "
        "--text-dir {params.text} --split-dir {params.splits} --norm {input.norm} "
        "--speakers {params.speakers} --outdir {params.outdir} --config {params.cfg:q} "
        "--threads {threads} > {log} 2>&1"
