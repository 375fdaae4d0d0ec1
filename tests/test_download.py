"""The BEAT download: offline refusal, layout discovery, verification, safe extraction.

The hub is replaced by a local folder behind the same small interface; nothing here touches the
network.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from adm.config import from_dict
from adm.data.download import (
    DownloadError,
    RemoteFile,
    download_beat,
    expected_beat_stems,
    plan_download,
    resolve_revision,
    safe_extract,
)
from adm.data.settings import BeatSourceConfig

ROOT = Path(__file__).resolve().parents[1]
SHA = "604f5ec" + "0" * 33
CFG = from_dict(BeatSourceConfig, {"speech_takes": 2, "conversation_takes": 1})


class FolderHub:
    """A hub whose dataset is a local folder; counts fetches."""

    def __init__(self, folder: Path, sha: str = SHA, corrupt: str | None = None):
        self.folder, self.sha, self.corrupt, self.fetched = folder, sha, corrupt, []

    def resolve(self, repo, ref):
        return self.sha

    def list_files(self, repo, revision, folder):
        out = []
        for path in sorted(self.folder.rglob("*")):
            if path.is_file():
                data = path.read_bytes()
                out.append(
                    RemoteFile(
                        path.relative_to(self.folder).as_posix(),
                        len(data),
                        hashlib.sha256(data).hexdigest(),
                    )
                )
        return out

    def fetch(self, repo, revision, path, dest):
        self.fetched.append(path)
        target = Path(dest) / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.folder / path, target)
        if self.corrupt and path.endswith(self.corrupt):
            target.write_bytes(b"x" * target.stat().st_size)
        return target


def make_remote(folder: Path, speakers=(2,), annotations_apart=True) -> list[str]:
    stems = expected_beat_stems(CFG, list(speakers))
    inner = folder / "beat_english_v0.2.1" / "beat_english_v0.2.1"
    for stem in stems:
        spk = stem.split("_")[0]
        for ext in ("bvh", "json", "wav", "TextGrid"):
            (inner / spk).mkdir(parents=True, exist_ok=True)
            (inner / spk / f"{stem}.{ext}").write_text(f"{stem} {ext}\n")
        notes = folder / "beat_annotations_english" / spk if annotations_apart else inner / spk
        notes.mkdir(parents=True, exist_ok=True)
        (notes / f"{stem}.txt").write_text("01_beat_align\t0\t1\t1\t0.1\tso\n")
    return stems


def test_expected_stems_follow_the_take_counts():
    assert expected_beat_stems(CFG, [2]) == ["2_scott_0_1_1", "2_scott_0_2_2", "2_scott_1_1_1"]
    full = from_dict(BeatSourceConfig, {"missing": ["4_lawrence_0_3_3"]})
    assert len(expected_beat_stems(full, [2, 4])) == 2 * 130 - 1


def test_offline_fails_at_once_saying_what_it_needs(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    hub = FolderHub(tmp_path)
    with pytest.raises(DownloadError, match="network"):
        download_beat(tmp_path / "out", CFG, [2], hub=hub)
    assert hub.fetched == []
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "adm", "download", "--root", str(tmp_path / "x"), "--speakers", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 1 and "HF_HUB_OFFLINE" in result.stderr
    assert not (tmp_path / "x" / "manifest.tsv").exists()


def test_download_discovers_layout_verifies_and_lays_out(tmp_path, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    stems = make_remote(tmp_path / "remote", speakers=(2, 4))
    hub = FolderHub(tmp_path / "remote")
    root = tmp_path / "beat"
    assert download_beat(root, CFG, [2], hub=hub) == [s for s in stems if s.startswith("2_")]
    # Only the wanted speaker was fetched; annotations from the separate tree land beside the rest.
    assert all("/2/" in p for p in hub.fetched)
    for stem in ("2_scott_0_1_1", "2_scott_1_1_1"):
        for ext in ("bvh", "json", "wav", "TextGrid", "txt"):
            assert (
                (root / "2" / f"{stem}.{ext}")
                .read_text()
                .startswith(stem if ext != "txt" else "01_")
            )
    manifest = (root / "manifest.tsv").read_text().splitlines()
    assert manifest[0] == f"# revision {SHA}" and len(manifest) == 2 + 3
    assert not (root / ".staging").exists()
    # A rerun finds everything in place: nothing is fetched, not even offline.
    hub.fetched.clear()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    download_beat(root, CFG, [2], hub=hub)
    assert hub.fetched == []
    assert "local copy" in (root / "manifest.tsv").read_text()


def test_an_interrupted_download_resumes_without_fetching_again(tmp_path, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    make_remote(tmp_path / "remote")
    root = tmp_path / "beat"
    hub = FolderHub(tmp_path / "remote", corrupt="2_scott_1_1_1.wav")
    with pytest.raises(DownloadError):
        download_beat(root, CFG, [2], hub=hub)
    placed = sorted(p.name for p in (root / "2").glob("*"))
    assert placed and "2_scott_1_1_1.wav" not in placed
    hub = FolderHub(tmp_path / "remote")
    download_beat(root, CFG, [2], hub=hub)
    assert not any(p.split("/")[-1] in placed for p in hub.fetched)
    assert (root / "manifest.tsv").exists()


def test_checksum_mismatch_is_an_error_and_leaves_no_manifest(tmp_path, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    make_remote(tmp_path / "remote")
    hub = FolderHub(tmp_path / "remote", corrupt="2_scott_0_2_2.wav")
    with pytest.raises(DownloadError, match="sha256"):
        download_beat(tmp_path / "beat", CFG, [2], hub=hub)
    assert not (tmp_path / "beat" / "manifest.tsv").exists()
    assert not (tmp_path / "beat" / "2" / "2_scott_0_2_2.wav").exists()


def test_pinned_revision_is_checked(tmp_path):
    hub = FolderHub(tmp_path, sha="aaaaaaa" + "0" * 33)
    with pytest.raises(DownloadError, match="pinned"):
        resolve_revision(hub, CFG)
    full = from_dict(BeatSourceConfig, {"revision": "b" * 40})
    assert resolve_revision(hub, full) == "b" * 40


def test_unexpected_layout_says_what_it_found():
    listing = [RemoteFile("README.md", 10), RemoteFile("data/train-0001.parquet", 99)]
    with pytest.raises(DownloadError, match="unexpected layout.*README.md"):
        plan_download(listing, ["2_scott_0_1_1"])


def test_missing_files_are_reported_per_speaker(tmp_path, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    make_remote(tmp_path / "remote")
    next((tmp_path / "remote").rglob("2_scott_0_2_2.json")).unlink()
    with pytest.raises(DownloadError, match=r"1 required files missing.*\{2: 1\}"):
        download_beat(tmp_path / "beat", CFG, [2], hub=FolderHub(tmp_path / "remote"))


@pytest.mark.parametrize("member", ["../evil.txt", "/abs/evil.txt", "a/../../evil.txt"])
def test_archive_members_cannot_escape(tmp_path, member):
    archive = tmp_path / "2.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("2/2_scott_0_1_1.bvh", "ok")
        zf.writestr(member, "evil")
    with pytest.raises(DownloadError, match="escape"):
        safe_extract(archive, tmp_path / "out")
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "out").exists()


def test_speaker_archives_are_extracted_into_the_layout(tmp_path, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    src = tmp_path / "src"
    stems = make_remote(src, annotations_apart=False)
    remote = tmp_path / "remote"
    remote.mkdir()
    with zipfile.ZipFile(remote / "2.zip", "w") as zf:
        for path in src.rglob("*"):
            if path.is_file():
                zf.write(path, f"2/{path.name}")
    root = tmp_path / "beat"
    download_beat(root, CFG, [2], hub=FolderHub(remote))
    assert sorted(p.stem for p in (root / "2").glob("*.bvh")) == sorted(stems)
