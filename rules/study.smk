# The user study (paper section 2.5): `snakemake study` cuts groups of about 30 s from the
# generated test clips of the study's methods, renders one video per method with the speech
# and writes results/study/materials/manifest.json. The page and the analysis run by hand:
# `python -m adm.study serve|analyse` (README). Inputs are functions, so a config without a
# study: section only fails when the study is asked for.

rule study:
    input:
        samples=get_study_sample_dirs,
        wavs=get_study_wavs,
        split="results/data/split/test.txt",
    output:
        directory("results/study/materials"),
    params:
        cfg=get_study_params,
        seed=get_study_sample_seed,
        corpus=get_corpus_root(),
    threads: 2
    log:
        "results/logs/study/materials.log",
    conda:
        "../envs/adm.yaml"
    shell:
        "python -m adm.study materials --config {params.cfg:q} --split {input.split} "
        "--samples results/samples --corpus {params.corpus} --sample-seed {params.seed} "
        "--outdir {output} --workers {threads} > {log} 2>&1"
