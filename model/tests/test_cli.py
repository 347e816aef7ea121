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


@pytest.mark.parametrize("content", [None, "not = [toml", "[split]\ntest_size = 0.2\n"])
def test_an_unusable_config_is_a_usage_error(tmp_path: Path, small_csv: Path, content: str | None,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    if content is not None:
        config.write_text(content)
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--data", str(small_csv), "--config", str(config), "--out", str(tmp_path / "out")])
    assert exit_.value.code == 2
    assert f"cannot use the config {config}" in capsys.readouterr().err


def test_an_out_path_that_is_a_file_is_a_usage_error(tmp_path: Path, small_csv: Path) -> None:
    target = tmp_path / "a-file"
    target.write_text("x")
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--data", str(small_csv), "--out", str(target)])
    assert exit_.value.code == 2
