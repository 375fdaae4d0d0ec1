"""Fetch BEAT v0.2.1 from the Hugging Face hub: pinned, selective, resumable, verified.

The only part of adm that reaches the network. It lists the dataset once at a pinned commit,
discovers where the clips of the wanted speakers live (the inner layout is not assumed: a
``<speaker>/<clip>.<ext>`` pattern is searched for anywhere, annotations may sit in a separate
``beat_annotations_english`` tree, and per-speaker zip archives are accepted), downloads only
those files (the hub client resumes interrupted files), verifies sizes and LFS sha256 checksums,
extracts archives without letting any member escape the target folder, and moves every file into
the canonical ``<root>/<speaker>/<clip>.<ext>`` layout. A ``manifest.tsv`` is written last.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Protocol

from adm.data.clips import CLIP_EXTENSIONS, camn_split, parse_clip_name
from adm.data.settings import BeatSourceConfig
from adm.errors import DownloadError, some_names
from adm.io.atomic import write_text_atomic

log = logging.getLogger("adm.download")

REQUIRED_EXTENSIONS = ("bvh", "json", "wav", "TextGrid")
_CLIP_FILE = re.compile(
    r"(?:^|/)(?P<spk>\d+)/(?P<stem>(?P=spk)_[a-z]+_\d+_\d+_\d+)\.(?P<ext>bvh|json|wav|TextGrid|txt|csv)$"
)
_SPEAKER_ZIP = re.compile(r"(?:^|/)(?P<spk>\d+)\.zip$")


@dataclass(frozen=True)
class RemoteFile:
    """A file of the dataset at the pinned commit: path, size in bytes, LFS sha256 if known."""

    path: str
    size: int
    sha256: str | None = None


class Hub(Protocol):
    """What the download needs from the hub (real: :class:`HfHub`; tests pass a fake)."""

    def resolve(self, repo: str, ref: str) -> str: ...
    def list_files(self, repo: str, revision: str, folder: str) -> list[RemoteFile]: ...
    def fetch(self, repo: str, revision: str, path: str, dest: Path) -> Path: ...


class HfHub:
    """:class:`Hub` on ``huggingface_hub`` (imported lazily: nothing else in adm needs it)."""

    def __init__(self, timeout: float = 20.0):
        from huggingface_hub import HfApi

        self.api = HfApi()
        self.timeout = timeout

    def resolve(self, repo: str, ref: str) -> str:
        return self.api.dataset_info(repo, revision=ref, timeout=self.timeout).sha

    def list_files(self, repo: str, revision: str, folder: str) -> list[RemoteFile]:
        from huggingface_hub.hf_api import RepoFile

        entries = self.api.list_repo_tree(
            repo,
            path_in_repo=folder or None,
            recursive=True,
            revision=revision,
            repo_type="dataset",
        )
        return [
            RemoteFile(e.path, int(e.size or 0), e.lfs.sha256 if e.lfs else None)
            for e in entries
            if isinstance(e, RepoFile)
        ]

    def fetch(self, repo: str, revision: str, path: str, dest: Path) -> Path:
        from huggingface_hub import hf_hub_download

        # local_dir downloads resume from the partial file the client keeps beside it.
        return Path(
            hf_hub_download(repo, path, repo_type="dataset", revision=revision, local_dir=dest)
        )


def expected_beat_stems(cfg: BeatSourceConfig, speakers: list[int]) -> list[str]:
    """Clip stems of the configured speakers and take types, minus the known missing ones."""
    from adm.data.clips import clip_stem

    counts = {0: cfg.speech_takes, 1: cfg.conversation_takes}
    stems = [
        clip_stem(spk, kind, take, take)
        for spk in speakers
        for kind in cfg.kinds
        for take in range(1, counts[kind] + 1)
    ]
    return [s for s in stems if s not in set(cfg.missing)]


def require_online() -> None:
    """Fail at once, with what is needed, when the hub client is configured offline."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes", "on"}:
        raise DownloadError(
            "HF_HUB_OFFLINE is set, but downloading BEAT needs network access to the Hugging Face "
            "hub. Unset HF_HUB_OFFLINE on a machine with network, or copy BEAT v0.2.1 there "
            "yourself as <root>/<speaker>/<clip>.{bvh,json,wav,TextGrid,txt,csv}, or use the "
            "bundled corpus (data.source: synth)."
        )


def resolve_revision(hub: Hub, cfg: BeatSourceConfig) -> str:
    """The full commit sha to download, checked against the pinned ``cfg.revision``."""
    if re.fullmatch(r"[0-9a-f]{40}", cfg.revision):
        return cfg.revision
    if not re.fullmatch(r"[0-9a-f]{7,39}", cfg.revision):
        raise DownloadError(f"data.beat.revision {cfg.revision!r} is not a commit sha (prefix)")
    try:
        sha = hub.resolve(cfg.repo, cfg.branch)
    except Exception as err:  # network, DNS, proxy, HTTP errors all mean the same here
        raise DownloadError(
            f"cannot reach the Hugging Face hub for dataset {cfg.repo!r} ({type(err).__name__}: "
            f"{err}). The BEAT download needs network access to the hub; on a machine without it "
            "use the bundled corpus (data.source: synth)."
        ) from None
    if not sha.startswith(cfg.revision):
        raise DownloadError(
            f"{cfg.repo}@{cfg.branch} is now at commit {sha}, not the pinned {cfg.revision}: "
            "set data.beat.revision to the full sha you want to reproduce"
        )
    return sha


@dataclass
class DownloadPlan:
    """Which remote file gives each ``<stem>.<ext>``, archives to extract, and what is missing."""

    files: dict[str, RemoteFile]  # "<stem>.<ext>" -> remote file
    archives: list[RemoteFile]
    missing: list[str]  # "<stem>.<ext>" of required files not found


def plan_download(listing: list[RemoteFile], stems: list[str]) -> DownloadPlan:
    """Match the listing against the wanted stems, discovering the layout from the paths."""
    wanted = set(stems)
    speakers = {parse_clip_name(s).speaker for s in stems}
    files: dict[str, RemoteFile] = {}
    archives = []
    for remote in listing:
        match = _CLIP_FILE.search(remote.path)
        if match and match["stem"] in wanted:
            files.setdefault(f"{match['stem']}.{match['ext']}", remote)
            continue
        zmatch = _SPEAKER_ZIP.search(remote.path)
        if zmatch and int(zmatch["spk"]) in speakers:
            archives.append(remote)
    missing = [f"{s}.{e}" for s in stems for e in REQUIRED_EXTENSIONS if f"{s}.{e}" not in files]
    if missing and archives:
        missing = []  # the archives are checked after extraction
    if missing and not files:
        sample = ", ".join(r.path for r in listing[:5]) or "nothing"
        raise DownloadError(
            f"unexpected layout: no <speaker>/<clip>.<ext> file of the wanted speakers among "
            f"{len(listing)} files (first: {sample})"
        )
    return DownloadPlan(files=files, archives=archives, missing=missing)


def verify_file(path: Path, remote: RemoteFile) -> None:
    """Check size and (when the hub gives one) the sha256 of a downloaded file."""
    size = path.stat().st_size
    if remote.size and size != remote.size:
        raise DownloadError(f"{path}: size {size} bytes, the hub says {remote.size}")
    if remote.sha256:
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        if digest.hexdigest() != remote.sha256:
            raise DownloadError(f"{path}: sha256 {digest.hexdigest()} != hub's {remote.sha256}")


def safe_extract(archive: Path, target: Path) -> list[Path]:
    """Extract a zip so that no member lands outside ``target`` (no absolute paths, no ``..``,
    no symlinks). Raises DownloadError naming the offending member; extracts nothing then."""
    target = target.resolve()
    with zipfile.ZipFile(archive) as zf:
        members = zf.infolist()
        for info in members:
            name = PurePosixPath(info.filename)
            dest = (target / name).resolve()
            is_link = (info.external_attr >> 16) & 0o170000 == 0o120000
            if (
                name.is_absolute()
                or ".." in name.parts
                or is_link
                or not dest.is_relative_to(target)
            ):
                raise DownloadError(f"{archive}: member {info.filename!r} would escape {target}")
        out = []
        for info in members:
            if not info.is_dir():
                zf.extract(info, target)
                out.append(target / info.filename)
        return out


def _place(src: Path, root: Path, stem: str, ext: str) -> Path:
    spk = str(parse_clip_name(stem).speaker)
    dest = root / spk / f"{stem}.{ext}"
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(src, dest)
    return dest


def download_beat(
    root: Path, cfg: BeatSourceConfig, speakers: list[int], hub: Hub | None = None
) -> list[str]:
    """Download, verify and lay out BEAT for ``speakers`` under ``root``; return the stems.

    Files already in place with the right size are kept (a rerun resumes where it stopped).
    """
    stems = expected_beat_stems(cfg, speakers)
    missing = _missing_files(root, stems)
    if not missing:
        # A copy already in place (a finished download, or BEAT copied in by hand) needs no
        # network: it is only checked and listed.
        log.info("all %d clips are already in %s; nothing to download", len(stems), root)
        write_manifest(root, stems, "local copy")
        return stems
    try:
        require_online()
        hub = hub or HfHub()
        sha = resolve_revision(hub, cfg)
    except DownloadError as err:
        if len(missing) < len(stems) * len(REQUIRED_EXTENSIONS):  # a partial local copy
            raise DownloadError(
                f"{err} The local copy in {root} is incomplete: "
                f"{describe_missing(missing, len(stems))}"
            ) from None
        raise
    log.info("BEAT %s at %s: listing %s", cfg.repo, sha, cfg.subfolder)
    plan = plan_download(hub.list_files(cfg.repo, sha, cfg.subfolder), stems)
    staging = root / ".staging"
    for i, (key, remote) in enumerate(sorted(plan.files.items())):
        stem, ext = key.rsplit(".", 1)
        dest = root / str(parse_clip_name(stem).speaker) / key
        if dest.exists() and (not remote.size or dest.stat().st_size == remote.size):
            continue
        log.info("[%d/%d] %s (%d bytes)", i + 1, len(plan.files), remote.path, remote.size)
        local = hub.fetch(cfg.repo, sha, remote.path, staging)
        verify_file(local, remote)
        _place(local, root, stem, ext)
    for remote in plan.archives:
        local = hub.fetch(cfg.repo, sha, remote.path, staging)
        verify_file(local, remote)
        for member in safe_extract(local, staging / "extracted"):
            match = _CLIP_FILE.search(member.as_posix())
            if match and match["stem"] in set(stems):
                _place(member, root, match["stem"], match["ext"])
    check_complete(root, stems)
    shutil.rmtree(staging, ignore_errors=True)
    write_manifest(root, stems, sha)
    return stems


def _missing_files(root: Path, stems: list[str]) -> list[str]:
    return [
        f"{s}.{e}"
        for s in stems
        for e in REQUIRED_EXTENSIONS
        if not (root / str(parse_clip_name(s).speaker) / f"{s}.{e}").exists()
    ]


def describe_missing(missing: list[str], num_clips: int, shown: int = 8) -> str:
    """One line saying which clips are absent and which lack some of their files.

    Args:
        missing: ``<stem>.<ext>`` of every required file not found.
        num_clips: how many clips were expected.
        shown: how many clip names to list in each group before summarising the rest.
    """
    lacking: dict[str, list[str]] = {}
    for name in missing:
        stem, ext = name.rsplit(".", 1)
        lacking.setdefault(stem, []).append(ext)
    absent = [s for s, exts in lacking.items() if len(exts) == len(REQUIRED_EXTENSIONS)]
    partial = {s: exts for s, exts in lacking.items() if len(exts) < len(REQUIRED_EXTENSIONS)}

    parts = []
    if absent:
        parts.append(f"{len(absent)} of {num_clips} clips absent ({some_names(absent, shown)})")
    if partial:
        items = [f"{s} lacks {'/'.join(exts)}" for s, exts in partial.items()]
        parts.append(f"{len(partial)} clips incomplete ({some_names(items, shown)})")
    return "; ".join(parts)


def check_complete(root: Path, stems: list[str]) -> None:
    """Every wanted clip has its required files; report counts per speaker otherwise."""
    missing = _missing_files(root, stems)
    if missing:
        per_speaker: dict[int, int] = {}
        for name in missing:
            spk = parse_clip_name(name.rsplit(".", 1)[0]).speaker
            per_speaker[spk] = per_speaker.get(spk, 0) + 1
        raise DownloadError(
            f"{len(missing)} required files missing after download (per speaker: {per_speaker}; "
            f"{describe_missing(missing, len(stems))}); list known gaps in data.beat.missing"
        )


def write_manifest(root: Path, stems: list[str], revision: str) -> None:
    """``manifest.tsv``: stem, speaker, split, files present, total bytes (written last)."""
    rows = [f"# revision {revision}\nstem\tspeaker\tsplit\tfiles\tbytes\n"]
    for stem in stems:
        clip = parse_clip_name(stem)
        folder = root / str(clip.speaker)
        present = [e for e in CLIP_EXTENSIONS if (folder / f"{stem}.{e}").exists()]
        size = sum((folder / f"{stem}.{e}").stat().st_size for e in present)
        rows.append(f"{stem}\t{clip.speaker}\t{camn_split(clip)}\t{','.join(present)}\t{size}\n")
    write_text_atomic(root / "manifest.tsv", "".join(rows))
