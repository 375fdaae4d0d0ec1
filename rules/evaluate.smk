# Evaluation: the metric models (FGD motion autoencoder, face VAE) trained on the train split,
# the test set's ground-truth statistics (computed once, shared by every evaluation), and one
# metrics file per variant and sampling seed (a variant's seeds in one job), plus a mean-pose
# baseline.


rule fit_metric_model:
    input:
        train=layout.split_list("train"),
        norm=layout.NORM_STATS,
    output:
        layout.metric_model("{kind}"),
    log:
        layout.log("metric_models/{kind}"),
    conda:
        "../envs/adm.yaml"
    threads: THREADS["fit-metric-model"]
    params:
        clips=layout.CLIPS,
        cfg=get_fit_params,
    shell:
        "adm fit-metric-model --kind {wildcards.kind} --clips-dir {params.clips} "
        "--split {input.train} --norm {input.norm} --out {output} --config {params.cfg:q} "
        "--threads {threads} > {log} 2>&1"


rule metric_reference:
    input:
        test=layout.split_list("test"),
        norm=layout.NORM_STATS,
        motion=layout.metric_model("motion"),
        face=layout.metric_model("face"),
    output:
        layout.REFERENCE,
    log:
        layout.log("metric_models/reference"),
    conda:
        "../envs/adm.yaml"
    threads: THREADS["reference"]
    params:
        clips=layout.CLIPS,
        root=get_corpus_root(),
        cfg=get_params("reference"),
    shell:
        "adm reference --clips-dir {params.clips} --split {input.test} "
        "--corpus-root {params.root} --norm {input.norm} --motion-ae {input.motion} "
        "--face-vae {input.face} --out {output} --config {params.cfg:q} --threads {threads} "
        "> {log} 2>&1"


rule evaluate:
    input:
        samples=get_variant_sample_dirs(),
        ema=layout.train_file("{variant}", "ema.safetensors"),
        test=layout.split_list("test"),
        norm=layout.NORM_STATS,
        motion=layout.metric_model("motion"),
        face=layout.metric_model("face"),
        reference=layout.REFERENCE,
    output:
        get_variant_metrics_files(),
    log:
        layout.log("evaluate/{variant}"),
    conda:
        "../envs/adm.yaml"
    threads: THREADS["evaluate"]
    params:
        clips=layout.CLIPS,
        root=get_corpus_root(),
        seeds=get_sample_seeds(),
        cfg=get_params("evaluate"),
    shell:
        "adm evaluate --samples {input.samples} --checkpoint {input.ema} "
        "--variant {wildcards.variant} --seed {params.seeds} --clips-dir {params.clips} "
        "--split {input.test} --corpus-root {params.root} --norm {input.norm} "
        "--motion-ae {input.motion} --face-vae {input.face} --reference {input.reference} "
        "--out {output} --config {params.cfg:q} --threads {threads} > {log} 2>&1"


rule evaluate_baseline:
    input:
        test=layout.split_list("test"),
        norm=layout.NORM_STATS,
        motion=layout.metric_model("motion"),
        face=layout.metric_model("face"),
        reference=layout.REFERENCE,
    output:
        layout.BASELINE_METRICS,
    log:
        layout.log("evaluate/baseline_mean_pose"),
    conda:
        "../envs/adm.yaml"
    threads: THREADS["evaluate"]
    params:
        clips=layout.CLIPS,
        root=get_corpus_root(),
        cfg=get_params("evaluate"),
    shell:
        "adm evaluate --baseline mean-pose --clips-dir {params.clips} --split {input.test} "
        "--corpus-root {params.root} --norm {input.norm} --motion-ae {input.motion} "
        "--face-vae {input.face} --reference {input.reference} --out {output} "
        "--config {params.cfg:q} --threads {threads} > {log} 2>&1"
