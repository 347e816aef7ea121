"""The offline tools (`python -m churn_model.tuning`, `.candidates`, `.split_study`) check their
inputs before any work: a bad data path, a file that is not the data, an unusable config or
output path and an option out of range are one line on stderr and a non-zero exit, as in a
training run, never a traceback."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from churn_model import candidates, entry, split_study, tuning

Main = Callable[[list[str]], None]
TOOLS: dict[str, Main] = {"tuning": tuning.main, "candidates": candidates.main, "split_study": split_study.main}


def run(main: Main, args: list[str], capsys: pytest.CaptureFixture[str], folder: Path | None = None
        ) -> tuple[int | str | None, str, str]:
    """`main(args)`, expected to exit. split_study gets `--out <folder>/study.json`, so that a regression which runs
    the study writes there, never over the committed model/results/split-study.json."""
    if main is split_study.main and "--out" not in args:
        assert folder is not None
        args = [*args, "--out", str(folder / "study.json")]
    with pytest.raises(SystemExit) as exit_:
        main(args)
    out, err = capsys.readouterr()
    return exit_.value.code, out, err


@pytest.fixture(params=sorted(TOOLS))
def tool(request: pytest.FixtureRequest) -> Main:
    return TOOLS[request.param]


def test_a_missing_data_file_is_a_usage_error(tool: Main, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.csv"
    assert run(tool, ["--data", str(missing)], capsys, tmp_path) == (
        2, "", f"error: training data not found: {missing} (resolved to {missing})\n")


def test_a_directory_as_data_is_named_as_such(tool: Main, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tool, ["--data", str(tmp_path)], capsys, tmp_path) == (
        2, "", f"error: training data {tmp_path} is a directory, not a CSV file\n")


@pytest.mark.parametrize(("content", "why"), [
    (b"", "the file is empty"),
    ("customerID,gender\nA-1,Femme\xa0\n".encode("latin-1"), "value 'Femme\\xa0' has byte 0xa0, which is not UTF-8"),
])
def test_a_file_that_is_not_the_data_is_invalid_data(tool: Main, tmp_path: Path, content: bytes, why: str,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data.csv"
    data.write_bytes(content)
    code, out, err = run(tool, ["--data", str(data)], capsys, tmp_path)
    assert (code, out) == (1, "")
    shown = data if content == b"" else data.name  # the empty file by its path (as given), as the gzip one
    assert err.startswith(f"error: data validation failed with 1 problem(s):\n  - cannot read {shown} as a UTF-8 CSV file: ")
    assert why in err


def test_an_unusable_config_is_a_usage_error(tool: Main, small_csv: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """They read model/config.toml: a data scientist's edit that breaks it is named, key and value."""
    config = tmp_path / "config.toml"
    config.write_text("[split]\ntest_size = \"0.2\"\n")
    monkeypatch.setattr(f"{tool.__module__}.DEFAULT_CONFIG_PATH", config)
    code, out, err = run(tool, ["--data", str(small_csv)], capsys, tmp_path)
    assert (code, out) == (2, "")
    assert err.startswith(f"error: cannot use the config {config}: ")
    assert '[split] test_size = "0.2": must be a number > 0 and < 1' in err


@pytest.mark.parametrize(("main", "args", "message"), [
    (tuning.main, ["--trials", "-1"], "argument --trials: -1 is not a whole number >= 0"),
    (tuning.main, ["--seed", "x"], "argument --seed: 'x' is not a whole number from 0 to 4294967295"),
    (split_study.main, ["--splits", "1"], "argument --splits: 1 is not a whole number >= 2"),
    (split_study.main, ["--splits", "0"], "argument --splits: 0 is not a whole number >= 2"),
    (split_study.main, ["--first-seed", "-3"], "argument --first-seed: -3 is not a whole number from 0 to 4294967295"),
    (split_study.main, ["--first-seed", "4294967290", "--splits", "10"],
     "--first-seed 4294967290 with --splits 10 goes past the largest seed, 4294967295"),
])
def test_an_option_out_of_range_is_a_usage_error(main: Main, args: list[str], message: str, small_csv: Path,
                                                 tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """They failed inside numpy or scikit-learn (a traceback), or (--splits 1) wrote NaN into the results JSON."""
    code, out, err = run(main, ["--data", str(small_csv), *args], capsys, tmp_path)
    assert (code, out) == (2, "")
    assert err.endswith(f"error: {message}\n")


def test_split_study_checks_out_before_the_study(small_csv: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """The study takes minutes (about 2.5 s a split); its results were lost to a bad --out at the end."""
    (tmp_path / "a-file").write_text("x")
    under_file = tmp_path / "a-file" / "study.json"
    assert run(split_study.main, ["--data", str(small_csv), "--out", str(tmp_path)], capsys) == (
        2, "", f"error: --out {tmp_path} is a directory: name the file to write\n")
    assert run(split_study.main, ["--data", str(small_csv), "--out", str(under_file)], capsys) == (
        2, "", f"error: cannot write --out {under_file}: {tmp_path / 'a-file'} is a file, not a folder\n")
    deeper = tmp_path / "a-file" / "sub" / "study.json"
    assert run(split_study.main, ["--data", str(small_csv), "--out", str(deeper)], capsys) == (
        2, "", f"error: cannot write --out {deeper}: Not a directory ({deeper.parent})\n")
    new = tmp_path / "new" / "deeper" / "study.json"
    assert entry.output_file(str(new), "--out") == new
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]  # the check leaves nothing behind


def test_a_path_the_os_will_not_look_up_is_a_usage_error(tool: Main, small_csv: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """A symbolic link loop (RuntimeError from Path.resolve in Python 3.11) and a name past NAME_MAX
    (OSError from is_dir) were tracebacks, as --data and (split_study) --out."""
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    long_name = tmp_path / ("a" * 300)
    assert run(tool, ["--data", str(loop)], capsys, tmp_path) == (
        2, "", f"error: cannot use the training data {loop}: Too many levels of symbolic links\n")
    assert run(tool, ["--data", str(long_name)], capsys, tmp_path) == (
        2, "", f"error: cannot use the training data {long_name}: File name too long\n")
    if tool is split_study.main:
        assert run(tool, ["--data", str(small_csv), "--out", str(loop / "study.json")], capsys) == (
            2, "", f"error: cannot use --out {loop / 'study.json'}: Too many levels of symbolic links\n")
