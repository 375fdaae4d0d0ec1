# Evaluation: the metric models (FGD motion autoencoder, face VAE) trained on the train split,
# the test set's ground-truth statistics (computed once, shared by every evaluation), and one
# metrics file per variant and sampling seed, plus a mean-pose baseline.


rule fit_metric_model:
    input:
        clips=get_prepared_clips(),
        train="results/data/split/train.txt",
        norm="results/data/norm_stats.json",
    output:
        "results/metric_models/{kind}.safetensors",
    params:
        cfg=get_fit_params,
    threads: 1
    log:
        "results/logs/metric_models/{kind}.log",
    conda:
        "../envs/adm.yaml"
    shell:
        "python -m adm.fit_metric_model --kind {wildcards.kind} --clips-dir results/data/clips "
        "--split {input.train} --norm {input.norm} --out {output} --config {params.cfg:q} "
        "--threads {threads} > {log} 2>&1"


rule metric_reference:
    input:
        clips=get_prepared_clips(),
        test="results/data/split/test.txt",
        norm="results/data/norm_stats.json",
        motion="results/metric_models/motion.safetensors",
        face="results/metric_models/face.safetensors",
    output:
        "results/metric_models/reference.npz",
    params:
        root=get_corpus_root(),
        cfg=get_evaluate_params(),
    threads: 1
    log:
        "results/logs/metric_models/reference.log",
    conda:
        "../envs/adm.yaml"
    shell:
        "python -m adm.reference --clips-dir results/data/clips --split {input.test} "
        "--corpus-root {params.root} --norm {input.norm} --motion-ae {input.motion} "
        "--face-vae {input.face} --out {output} --config {params.cfg:q} --threads {threads} "
        "> {log} 2>&1"


rule evaluate:
    input:
        samples="results/samples/{variant}/seed{seed}",
        ema="results/train/{variant}/ema.safetensors",
        clips=get_prepared_clips(),
        test="results/data/split/test.txt",
        norm="results/data/norm_stats.json",
        motion="results/metric_models/motion.safetensors",
        face="results/metric_models/face.safetensors",
        reference="results/metric_models/reference.npz",
    output:
        "results/metrics/{variant}/seed{seed}.json",
    params:
        root=get_corpus_root(),
        cfg=get_evaluate_params(),
    threads: 1
    log:
        "results/logs/evaluate/{variant}/seed{seed}.log",
    conda:
        "../envs/adm.yaml"
    shell:
        "python -m adm.evaluate --samples {input.samples} --checkpoint {input.ema} "
        "--variant {wildcards.variant} --seed {wildcards.seed} --clips-dir results/data/clips "
        "--split {input.test} --corpus-root {params.root} --norm {input.norm} "
        "--motion-ae {input.motion} --face-vae {input.face} --reference {input.reference} "
        "--out {output} "
        "--config {params.cfg:q} --threads {threads} > {log} 2>&1"


rule evaluate_baseline:
    input:
        clips=get_prepared_clips(),
        test="results/data/split/test.txt",
        norm="results/data/norm_stats.json",
        motion="results/metric_models/motion.safetensors",
        face="results/metric_models/face.safetensors",
        reference="results/metric_models/reference.npz",
    output:
        "results/metrics/baseline/mean_pose.json",
    params:
        root=get_corpus_root(),
        cfg=get_evaluate_params(),
    threads: 1
    log:
        "results/logs/evaluate/baseline_mean_pose.log",
    conda:
        "../envs/adm.yaml"
    shell:
        "python -m adm.evaluate --baseline mean-pose --clips-dir results/data/clips "
        "--split {input.test} --corpus-root {params.root} --norm {input.norm} "
        "--motion-ae {input.motion} --face-vae {input.face} --reference {input.reference} "
        "--out {output} "
        "--config {params.cfg:q} --threads {threads} > {log} 2>&1"
