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
        vq=get_vq_inputs,
    output:
        model=layout.train_file("{variant}", "model.safetensors"),
        ema=layout.train_file("{variant}", "ema.safetensors"),
        scalars=layout.train_file("{variant}", "scalars.csv"),
    log:
        layout.log("train/{variant}"),
    priority: get_train_priority
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
        vq=get_vq_option,
        launch=get_train_launcher,
    shell:
        "{params.launch} --clips-dir {params.clips} --audio-dir {params.audio} "
        "--text-dir {params.text} --split-dir {params.splits} --norm {input.norm} "
        "--speakers {params.speakers} --outdir {params.outdir} --config {params.cfg:q} "
        "{params.vq}--threads {threads} > {log} 2>&1"


# Stage 1 of a two-stage variant (MambaTalk): one VQ-VAE per body part on the train split,
# which the variant's training then loads frozen (and stores with its weights).


rule train_vq:
    input:
        train=layout.split_list("train"),
        norm=layout.NORM_STATS,
    output:
        directory(layout.vq_dir("{variant}")),
    log:
        layout.log("train_vq/{variant}"),
    conda:
        "../envs/adm.yaml"
    threads: THREADS["train-vq"]
    params:
        clips=layout.CLIPS,
        cfg=get_vq_params,
    shell:
        "adm train-vq --clips-dir {params.clips} --split {input.train} --norm {input.norm} "
        "--outdir {output} --config {params.cfg:q} --threads {threads} > {log} 2>&1"
