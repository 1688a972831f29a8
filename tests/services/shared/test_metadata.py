"""Metadata: the container name and git commit every record carries, found without git."""

from __future__ import annotations

from pathlib import Path

from crypto_observability.shared.metadata import detect_container, read_git_commit

SHA = "c182b71fab0123456789abcdef0123456789abcd"


def _repo(tmp_path: Path) -> Path:
    git = tmp_path / "repo" / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    return git


def test_commit_from_a_branch_ref(tmp_path: Path) -> None:
    """HEAD pointing at a branch resolves through refs/heads to 8 characters."""
    git = _repo(tmp_path)
    (git / "HEAD").write_text("ref: refs/heads/main\n")
    (git / "refs/heads/main").write_text(SHA + "\n")
    assert read_git_commit(git.parent / "services" / "shared") == "c182b71f"


def test_commit_from_packed_refs_and_detached_head(tmp_path: Path) -> None:
    """Packed refs and a detached HEAD both resolve."""
    git = _repo(tmp_path)
    (git / "HEAD").write_text("ref: refs/heads/main\n")
    (git / "packed-refs").write_text(f"# pack-refs\n{SHA} refs/heads/main\n")
    assert read_git_commit(git.parent) == "c182b71f"
    (git / "HEAD").write_text(SHA.upper() + "\n")
    assert read_git_commit(git.parent) == "c182b71f"


def test_no_repository_means_no_commit(tmp_path: Path) -> None:
    """Outside a checkout the commit is unknown (null), not invented."""
    assert read_git_commit(tmp_path) is None


def test_container_name_from_environment_or_docker_markers(tmp_path: Path) -> None:
    """DOCKER_CONTAINER wins; a /.dockerenv means the hostname; nothing means null."""
    assert detect_container({"DOCKER_CONTAINER": "crypto-market-data"}, tmp_path) == "crypto-market-data"
    assert detect_container({}, tmp_path) is None
    (tmp_path / ".dockerenv").write_text("")
    assert detect_container({"HOSTNAME": "3f2a9c1b"}, tmp_path) == "3f2a9c1b"
