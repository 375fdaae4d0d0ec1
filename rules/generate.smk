# Generation from your own recordings: every audio file in generate.inputs ->
# results/generate/<name>/ (BVH, BEAT face JSON, Live Link Face CSV, MP4 preview, provenance).
# `snakemake generate` builds them and what they need (a trained variant); nothing else.

from adm.generation import targets as generation


rule generate_recording:
    input:
        audio=lambda w: generation.generate_audio(config)[w.name],
        transcript=lambda w: generation.generate_transcript(config, w.name),
        ema=lambda w: generation.generate_checkpoint(config),
        vectors=get_text_vectors(),
    output:
        directory("results/generate/{name}"),
    wildcard_constraints:
        name=r"[^/]+",
    params:
        cfg=lambda w: generation.generate_params(config),
        audio_cfg=get_params("audio_features"),
        text_cfg=get_params("text_features"),
        transcript=lambda w: generation.generate_transcript_args(config, w.name),
        speaker=lambda w: generation.generate_option(config, "speaker"),
        seed=lambda w: generation.generate_option(config, "seed"),
        fps=lambda w: generation.generate_option(config, "fps"),
        face_fps=lambda w: generation.generate_option(config, "face_fps"),
    threads: 1
    resources:
        gpu=1,
    log:
        "results/logs/generate/{name}.log",
    conda:
        "../envs/adm.yaml"
    shell:
        "python -m adm.generation --audio {input.audio:q} {params.transcript} "
        "--speaker {params.speaker} --checkpoint {input.ema} --outdir {output:q} "
        "--seed {params.seed} --fps {params.fps} --face-fps {params.face_fps} "
        "--config {params.cfg:q} --audio-config {params.audio_cfg:q} "
        "--text-config {params.text_cfg:q} --vectors {input.vectors} --no-progress "
        "--threads {threads} > {log:q} 2>&1"


rule generate:
    input:
        generation.generate_targets(config),
