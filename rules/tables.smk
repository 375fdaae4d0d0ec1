# Tables 1-4 (CSV, Markdown, LaTeX) and the figures, built from the metrics files and the
# training scalars by rules, never scraped from logs. `snakemake table1` builds one table.


rule table1:
    input:
        metrics=get_table_metrics(1),
        baseline=layout.BASELINE_METRICS,
    output:
        csv=report(layout.table(1, "csv"), category="Tables"),
        md=layout.table(1, "md"),
        tex=layout.table(1, "tex"),
    log:
        layout.log("tables/table1"),
    conda:
        "../envs/adm.yaml"
    params:
        outdir=get_output_folder,
        ctx=get_params("tables"),
    shell:
        "adm tables --table 1 --metrics {input.metrics} {input.baseline} "
        "--context {params.ctx:q} --outdir {params.outdir} > {log} 2>&1"


rule table2:
    input:
        metrics=get_table_metrics(2),
        baseline=layout.BASELINE_METRICS,
    output:
        csv=report(layout.table(2, "csv"), category="Tables"),
        md=layout.table(2, "md"),
        tex=layout.table(2, "tex"),
    log:
        layout.log("tables/table2"),
    conda:
        "../envs/adm.yaml"
    params:
        outdir=get_output_folder,
        ctx=get_params("tables"),
    shell:
        "adm tables --table 2 --metrics {input.metrics} {input.baseline} "
        "--context {params.ctx:q} --outdir {params.outdir} > {log} 2>&1"


rule table3:
    input:
        metrics=get_table_metrics(3),
        baseline=layout.BASELINE_METRICS,
    output:
        csv=report(layout.table(3, "csv"), category="Tables"),
        md=layout.table(3, "md"),
        tex=layout.table(3, "tex"),
    log:
        layout.log("tables/table3"),
    conda:
        "../envs/adm.yaml"
    params:
        outdir=get_output_folder,
        ctx=get_params("tables"),
    shell:
        "adm tables --table 3 --metrics {input.metrics} {input.baseline} "
        "--context {params.ctx:q} --outdir {params.outdir} > {log} 2>&1"


rule table4:
    input:
        get_scalars_files(),
    output:
        csv=report(layout.table(4, "csv"), category="Tables"),
        md=layout.table(4, "md"),
        tex=layout.table(4, "tex"),
    log:
        layout.log("tables/table4"),
    conda:
        "../envs/adm.yaml"
    params:
        outdir=get_output_folder,
        ctx=get_params("tables"),
    shell:
        "adm tables --table 4 --scalars {input} --context {params.ctx:q} "
        "--outdir {params.outdir} > {log} 2>&1"


rule figure_jawopen:
    input:
        samples=get_sample_dirs(),
        test=layout.split_list("test"),
    output:
        report(layout.figure("jawopen"), category="Figures"),
    log:
        layout.log("figures/jawopen"),
    conda:
        "../envs/adm.yaml"
    params:
        clips=layout.CLIPS,
        clip=get_jawopen_clip(),
        labels=get_variants(),
    shell:
        "adm figures jawopen --clip {params.clip} --clips-dir {params.clips} "
        "--samples {input.samples} --labels {params.labels} --out {output} > {log} 2>&1"


rule figure_training_curves:
    input:
        get_scalars_files(),
    output:
        report(layout.figure("training_curves"), category="Figures"),
    log:
        layout.log("figures/training_curves"),
    conda:
        "../envs/adm.yaml"
    params:
        labels=get_variants(),
    shell:
        "adm figures curves --scalars {input} --labels {params.labels} --out {output} "
        "> {log} 2>&1"
