# The user study (paper section 2.5): `snakemake study` cuts groups of about 30 s from the
# generated test clips of the study's methods, renders one video per method with the speech
# and writes results/study/materials/manifest.json. The page and the analysis run by hand:
# `adm study serve|analyse` (README). Inputs are functions, so a config without a study:
# section only fails when the study is asked for.


rule study:
    input:
        samples=get_study_sample_dirs,
        wavs=get_study_wavs,
        split=layout.split_list("test"),
    output:
        directory(layout.STUDY_MATERIALS),
    log:
        layout.log("study/materials"),
    conda:
        "../envs/adm.yaml"
    threads: 2
    params:
        cfg=get_study_params,
        seed=get_study_sample_seed,
        samples=layout.SAMPLES,
        corpus=get_corpus_root(),
    shell:
        "adm study materials --config {params.cfg:q} --split {input.split} "
        "--samples {params.samples} --corpus {params.corpus} --sample-seed {params.seed} "
        "--outdir {output} --workers {threads} > {log} 2>&1"
