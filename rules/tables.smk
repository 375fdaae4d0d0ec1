# Tables 1-4 (CSV, Markdown, LaTeX) and the figures, built from the metrics files and the
# training scalars by rules, never scraped from logs. `snakemake table1` builds one table.


rule table1:
    input:
        metrics=get_metrics_files("full"),
        baseline="results/metrics/baseline/mean_pose.json",
    output:
        csv=report("results/tables/table1.csv", category="Tables"),
        md="results/tables/table1.md",
        tex="results/tables/table1.tex",
    params:
        ctx=get_table_context(),
    log:
        "results/logs/tables/table1.log",
    conda:
        "../envs/adm.yaml"
    shell:
        "python -m adm.tables --table 1 --metrics {input.metrics} {input.baseline} --context {params.ctx:q} "
        "--outdir results/tables > {log} 2>&1"


rule table2:
    input:
        metrics=get_metrics_files("full"),
        baseline="results/metrics/baseline/mean_pose.json",
    output:
        csv=report("results/tables/table2.csv", category="Tables"),
        md="results/tables/table2.md",
        tex="results/tables/table2.tex",
    params:
        ctx=get_table_context(),
    log:
        "results/logs/tables/table2.log",
    conda:
        "../envs/adm.yaml"
    shell:
        "python -m adm.tables --table 2 --metrics {input.metrics} {input.baseline} --context {params.ctx:q} "
        "--outdir results/tables > {log} 2>&1"


rule table3:
    input:
        metrics=get_metrics_files(),
        baseline="results/metrics/baseline/mean_pose.json",
    output:
        csv=report("results/tables/table3.csv", category="Tables"),
        md="results/tables/table3.md",
        tex="results/tables/table3.tex",
    params:
        ctx=get_table_context(),
    log:
        "results/logs/tables/table3.log",
    conda:
        "../envs/adm.yaml"
    shell:
        "python -m adm.tables --table 3 --metrics {input.metrics} {input.baseline} --context {params.ctx:q} "
        "--outdir results/tables > {log} 2>&1"


rule table4:
    input:
        get_scalars_files(),
    output:
        csv=report("results/tables/table4.csv", category="Tables"),
        md="results/tables/table4.md",
        tex="results/tables/table4.tex",
    params:
        ctx=get_table_context(),
    log:
        "results/logs/tables/table4.log",
    conda:
        "../envs/adm.yaml"
    shell:
        "python -m adm.tables --table 4 --scalars {input} --context {params.ctx:q} "
        "--outdir results/tables > {log} 2>&1"


rule figure_jawopen:
    input:
        samples=get_sample_dirs(),
        clips=get_prepared_clips(),
    output:
        report("results/figures/jawopen.png", category="Figures"),
    params:
        clip=get_jawopen_clip(),
        labels=get_variants(),
    log:
        "results/logs/figures/jawopen.log",
    conda:
        "../envs/adm.yaml"
    shell:
        "python -m adm.figures jawopen --clip {params.clip} --clips-dir results/data/clips "
        "--samples {input.samples} --labels {params.labels} --out {output} > {log} 2>&1"


rule figure_training_curves:
    input:
        get_scalars_files(),
    output:
        report("results/figures/training_curves.png", category="Figures"),
    params:
        labels=get_variants(),
    log:
        "results/logs/figures/training_curves.log",
    conda:
        "../envs/adm.yaml"
    shell:
        "python -m adm.figures curves --scalars {input} --labels {params.labels} "
        "--out {output} > {log} 2>&1"
