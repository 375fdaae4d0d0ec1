"""``python -m adm.fit_metric_model``: train the FGD motion autoencoder or the face VAE.

Example::

    python -m adm.fit_metric_model --kind motion --clips-dir results/data/clips \
        --split results/data/split/train.txt --norm results/data/norm_stats.json \
        --out results/metric_models/motion_ae.safetensors --config '{"iterations": 10000}' \
        --threads 1

``--kind motion`` trains BEAT's autoencoder on normalised 141-d gesture windows (stride 10);
``--kind face`` trains SAiD's VAE on windows of the 51 raw blendshape weights. The config keys
are those of :class:`adm.evaluation.config.FitConfig` (``length``, ``stride``, ``iterations`` or
``epochs``, ``batch``, ``lr``, ``mlp_negative_slope``, ``beta``, ``seed``); unset keys take the
kind's defaults. The model is saved as safetensors with its config in the metadata and the
training record (windows, steps, final loss, reconstruction error, train clips, CPU threads)
beside it. The weights depend on ``--threads`` in their last bits; the same count gives the
same model.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import torch

from adm.cli import run_stage
from adm.config import from_dict, parse_json_arg
from adm.data.normalization import load_norm_stats
from adm.data.split import read_split_list
from adm.errors import BadInputError
from adm.evaluation.config import KINDS, FitConfig
from adm.evaluation.fit import fit_metric_model, train_sequences
from adm.metrics.checkpoint import save_metric_model
from adm.threads import add_threads_argument, set_threads

log = logging.getLogger("adm.fit_metric_model")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m adm.fit_metric_model",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--kind", required=True, choices=KINDS, help="which metric model")
    parser.add_argument("--clips-dir", required=True, help="folder of prepared clips")
    parser.add_argument("--split", required=True, help="train split list (one stem a line)")
    parser.add_argument("--norm", required=True, help="normalisation statistics JSON")
    parser.add_argument("--out", required=True, help="output .safetensors")
    parser.add_argument("--config", default="{}", help="FitConfig as a JSON object")
    add_threads_argument(parser)
    return parser


def main(args: argparse.Namespace) -> int:
    cfg = from_dict(FitConfig, parse_json_arg(args.config), "metric_model")
    settings = cfg.resolved(args.kind)
    threads = set_threads(args.threads)
    split = Path(args.split)
    stems = read_split_list(split)
    if not stems:
        raise BadInputError(split, "the train split lists no clip")
    norm = load_norm_stats(Path(args.norm))
    sequences = train_sequences(args.clips_dir, stems, args.kind, norm)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    log.info(
        "%s model: %d train clips, window %d stride %d, on %s",
        args.kind,
        len(stems),
        settings["length"],
        settings["stride"],
        device,
    )
    model, record = fit_metric_model(args.kind, sequences, settings, device, split)
    record.update({"split": str(split), "clips": stems, "norm": str(args.norm), "threads": threads})
    save_metric_model(Path(args.out), model, record)
    log.info(
        "%s model: %d steps on %d windows; final loss %.5g, reconstruction L1 %.5g -> %s",
        args.kind,
        record["steps"],
        record["windows"],
        record["final_loss"],
        record["recon_l1"],
        args.out,
    )
    return 0


if __name__ == "__main__":
    sys.exit(run_stage(main, build_parser()))
