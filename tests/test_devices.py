"""GPU jobs declare a GPU only where there is one: the device count comes from the driver's
files and CUDA_VISIBLE_DEVICES, without CUDA; on a machine without a GPU the dry run shows
train and sample jobs free to run side by side."""

from __future__ import annotations

import re

from test_workflow import snakemake

from adm.experiment.devices import job_gpus, visible_cuda_devices


def _driver(tmp_path, gpus: int):
    folder = tmp_path / "gpus"
    folder.mkdir()
    for i in range(gpus):
        (folder / f"0000:0{i}:00.0").mkdir()
    return folder


def test_no_driver_means_no_gpu(tmp_path):
    assert visible_cuda_devices(tmp_path / "absent", {}) == 0


def test_the_driver_counts_and_cuda_visible_devices_restricts(tmp_path):
    driver = _driver(tmp_path, 2)
    assert visible_cuda_devices(driver, {}) == 2
    assert visible_cuda_devices(driver, {"CUDA_VISIBLE_DEVICES": "1"}) == 1
    assert visible_cuda_devices(driver, {"CUDA_VISIBLE_DEVICES": "0,1,2"}) == 2  # only 2 exist
    # CUDA stops at an empty or negative entry: "" and "-1" hide every device.
    assert visible_cuda_devices(driver, {"CUDA_VISIBLE_DEVICES": ""}) == 0
    assert visible_cuda_devices(driver, {"CUDA_VISIBLE_DEVICES": "-1"}) == 0
    assert visible_cuda_devices(driver, {"CUDA_VISIBLE_DEVICES": "0,-1,1"}) == 1


def test_jobs_declare_a_gpu_only_when_one_is_visible(tmp_path, monkeypatch):
    monkeypatch.setattr("adm.experiment.devices.DRIVER_GPUS", tmp_path / "absent")
    assert job_gpus() == 0
    monkeypatch.setattr("adm.experiment.devices.DRIVER_GPUS", _driver(tmp_path, 1))
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert job_gpus() == 1 and job_gpus(wanted=False) == 0


def test_dry_run_declares_the_gpu_resource_of_this_machine():
    # Snakemake prints each job's resources in the detailed dry run.
    target = "results/train/full/model.safetensors"
    detailed = snakemake(target, "-n", "--forceall", "--resources", "gpu=1")
    text = detailed.stdout + detailed.stderr
    blocks = re.findall(r"rule train:.*?resources: ([^\n]*)", text, re.S)
    assert blocks, text[-2000:]
    expected = f"gpu={job_gpus()}"
    assert all(expected in b for b in blocks), blocks
