"""MambaTalk (NeurIPS'24): per-part VQ-VAEs (stage 1) and a Mamba-based code predictor (stage 2).

Importing this package registers the ``mambatalk`` network (:mod:`.network`).

A run has two stages:

1. per part (:data:`.parts.PARTS`), :func:`.vq.part_windows` cuts the training clips' normalised
   motion (that part's channels, :func:`.parts.part_channels`) into 64-frame windows,
   :func:`.vq.train_part_vq` trains the part's VQ-VAE and :func:`.vq.save_part_vq` writes it to
   :func:`.vq.vq_file` of one folder;
2. the network is built from its config, given the frozen VQ-VAEs with
   ``attach_vqs(load_part_vqs(folder, network.parts))`` (for training, where the objective's
   targets come from them, and again for sampling, since they are not in its state dict) and
   trained with the ``mambatalk`` objective.
"""

from adm.models.mambatalk import network  # noqa: F401  (registers "mambatalk")
