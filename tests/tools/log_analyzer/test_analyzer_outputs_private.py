"""Reports and exports carry what the logs carry: they are created as privately as the logs."""

from __future__ import annotations

from pathlib import Path

from crypto_observability.log_analyzer._files import private_dir, private_file


def test_new_directories_are_0750_and_written_files_0640(tmp_path: Path) -> None:
    """A report directory made for the output is 0750; the file written into it is 0640."""
    target = private_dir(tmp_path / "reports" / "daily")
    report = target / "report.html"
    report.write_text("<html></html>")
    private_file(report)
    assert (target.stat().st_mode & 0o777, report.stat().st_mode & 0o777) == (0o750, 0o640)
    assert (tmp_path / "reports").stat().st_mode & 0o777 == 0o750
