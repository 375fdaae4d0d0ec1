# Generation from your own recordings: every audio file in generate.inputs ->
# results/generate/<name>/ (BVH, BEAT face JSON, Live Link Face CSV, MP4 preview, provenance).
# `snakemake generate` builds them and what they need (a trained variant); nothing else.


rule generate_recording:
    input:
        audio=get_generate_audio,
        transcript=get_generate_transcript,
        ema=get_generate_checkpoint,
        vectors=get_text_vectors(),
    output:
        directory(layout.generate_dir("{name}")),
    log:
        layout.log("generate/{name}"),
    wildcard_constraints:
        name=r"[^/]+",
    conda:
        "../envs/adm.yaml"
    threads: 1
    resources:
        gpu=get_job_gpus(),
    params:
        cfg=get_generate_params,
        audio_cfg=get_params("audio-features"),
        text_cfg=get_params("text-features"),
        transcript=get_generate_transcript_args,
        speaker=get_generate_option("speaker"),
        seed=get_generate_option("seed"),
        fps=get_generate_option("fps"),
        face_fps=get_generate_option("face_fps"),
    shell:
        "adm generate --audio {input.audio:q} {params.transcript} "
        "--speaker {params.speaker} --checkpoint {input.ema} --outdir {output:q} "
        "--seed {params.seed} --fps {params.fps} --face-fps {params.face_fps} "
        "--config {params.cfg:q} --audio-config {params.audio_cfg:q} "
        "--text-config {params.text_cfg:q} --vectors {input.vectors} --no-progress "
        "--threads {threads} > {log:q} 2>&1"


rule generate:
    input:
        get_generate_targets(),
