"""CLI data-path handling: --data, then CHURN_DATA, else a usage error."""
from __future__ import annotations

from pathlib import Path

import pytest

from churn_model import cli


def test_missing_data_is_a_usage_error(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("CHURN_DATA", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--no-register"])
    assert exit_info.value.code == 2
    assert "pass --data <csv> or set CHURN_DATA" in capsys.readouterr().err


def test_churn_data_is_the_fallback(monkeypatch: pytest.MonkeyPatch, small_csv: Path) -> None:
    monkeypatch.setenv("CHURN_DATA", str(small_csv))
    assert cli.data_path(cli.parse_args([])) == small_csv.resolve()
    other = small_csv.parent / "other.csv"
    other.write_text("x")
    assert cli.data_path(cli.parse_args(["--data", str(other)])) == other.resolve()


def test_relative_paths_fall_back_to_the_repo_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.resolve_path("model/config.toml") == (cli.REPO_ROOT / "model" / "config.toml").resolve()
