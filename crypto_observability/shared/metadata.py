"""Service metadata computed once per process: container name, git commit, environment."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

_CONTAINER_MARKERS = ("docker", "containerd", "kubepods", "libpod")


@dataclass(frozen=True, slots=True)
class Metadata:
    """The record keys that never change while the process lives."""

    docker_container: str | None
    git_commit: str | None
    environment: str


def detect_metadata(
    environment: str, git_commit: str | None, environ: Mapping[str, str] | None = None, root: Path = Path("/")
) -> Metadata:
    """Fill the record's fixed keys, preferring explicit settings over detection."""
    env = os.environ if environ is None else environ
    return Metadata(
        docker_container=detect_container(env, root),
        git_commit=git_commit or read_git_commit(Path.cwd()) or read_git_commit(Path(__file__).resolve().parent),
        environment=environment,
    )


def detect_container(environ: Mapping[str, str], root: Path = Path("/")) -> str | None:
    """Name the container from DOCKER_CONTAINER, else its hostname when we run in one."""
    explicit = environ.get("DOCKER_CONTAINER", "").strip()
    if explicit:
        return explicit
    if (root / ".dockerenv").exists() or _cgroup_says_container(root / "proc/1/cgroup"):
        return environ.get("HOSTNAME") or socket.gethostname()
    return None


def _cgroup_says_container(path: Path) -> bool:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return False
    return any(marker in text for marker in _CONTAINER_MARKERS)


def read_git_commit(start: Path) -> str | None:
    """Read the short commit of the checkout containing start, without spawning git."""
    for directory in (start, *start.parents):
        git = directory / ".git"
        if git.is_file():  # a worktree or submodule: "gitdir: <path>"
            target = git.read_text(errors="replace").partition("gitdir:")[2].strip()
            git = (directory / target).resolve()
        if git.is_dir():
            return _resolve_head(git)
    return None


def _resolve_head(git: Path) -> str | None:
    try:
        head = (git / "HEAD").read_text().strip()
    except OSError:
        return None
    if not head.startswith("ref:"):
        return _short(head)
    ref = head[4:].strip()
    common = git
    if (git / "commondir").is_file():
        common = (git / (git / "commondir").read_text().strip()).resolve()
    for base in (git, common):
        try:
            return _short((base / ref).read_text().strip())
        except OSError:
            continue
    return _packed_ref(common / "packed-refs", ref)


def _packed_ref(path: Path, ref: str) -> str | None:
    try:
        for line in path.read_text().splitlines():
            sha, _, name = line.partition(" ")
            if name.strip() == ref:
                return _short(sha)
    except OSError:
        pass
    return None


def _short(sha: str) -> str | None:
    return sha[:8].lower() if re.fullmatch(r"[0-9a-fA-F]{40,64}", sha) else None
