"""CLI argument handling: --data, then CHURN_DATA, else a usage error; --config and --out
checked before any training."""
from __future__ import annotations

import builtins
import io
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from churn_model import cli, entry, explain, pipeline, synthetic, train
from churn_model.config import REPO_ROOT, load_config
from churn_model.pipeline import PipelineResult
from tests.conftest import run_cli, write_csv
from tests.test_config import NAME_RULE


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
    assert cli.resolve_path("model/config.toml", "--config") == (REPO_ROOT / "model" / "config.toml").resolve()


def test_a_relative_out_is_in_the_cwd_even_where_the_repo_has_that_path(
        tmp_path: Path, small_csv: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """--out was looked for as the inputs are, in the cwd then the repo root: `--out model/bundle` run from any other
    folder replaced the repository's committed bundle (the one the gateway image packages), `--out model/bundle2` went
    to the cwd. A stand-in repository holds the bundle here, so the old behaviour overwrites nothing committed."""
    repo = tmp_path / "repo"
    committed = repo / "model" / "bundle"
    committed.mkdir(parents=True)
    (committed / "manifest.json").write_text("committed\n")
    monkeypatch.setattr(entry, "REPO_ROOT", repo)
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert cli.main(["--data", str(small_csv), "--out", "model/bundle", "--tracking-uri", uri, "--no-register"]) == 0
    written = re.search(r"^bundle +\| (.+)$", capsys.readouterr().out, re.M)  # the summary's row
    assert written is not None and written.group(1) == str(cwd / "model" / "bundle")
    assert (cwd / "model" / "bundle" / "manifest.json").is_file()
    assert [p.name for p in committed.iterdir()] == ["manifest.json"]
    assert (committed / "manifest.json").read_text() == "committed\n"


def test_a_relative_path_not_found_names_both_places_tried(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                            small_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """model/README: relative paths are tried against the cwd, then the repo root; a miss names both."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CHURN_DATA", raising=False)
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--data", "no-such.csv", "--out", str(tmp_path / "out")])
    assert exit_.value.code == 2
    assert capsys.readouterr().err == (f"error: training data not found: no-such.csv (looked for {tmp_path / 'no-such.csv'}, "
                                       f"then {REPO_ROOT / 'no-such.csv'})\n")
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--data", str(small_csv), "--config", "nope.toml", "--out", str(tmp_path / "out")])
    assert exit_.value.code == 2
    assert capsys.readouterr().err == (f"error: cannot use the config nope.toml: not found (looked for {tmp_path / 'nope.toml'}, "
                                       f"then {REPO_ROOT / 'nope.toml'})\n")


def test_a_path_not_found_from_the_repo_root_is_named_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(REPO_ROOT)
    with pytest.raises(SystemExit):
        cli.main(["--data", "no-such.csv", "--out", str(tmp_path / "out")])
    assert capsys.readouterr().err == f"error: training data not found: no-such.csv (resolved to {REPO_ROOT / 'no-such.csv'})\n"


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


def test_an_out_path_under_a_file_is_a_usage_error_before_training(
        tmp_path: Path, small_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Found before step 1, not after the model was registered and the champion alias moved."""
    (tmp_path / "a-file").write_text("x")
    out = tmp_path / "a-file" / "sub"
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--data", str(small_csv), "--out", str(out), "--tracking-uri", uri])
    assert exit_.value.code == 2
    captured = capsys.readouterr()
    assert captured.err == f"error: cannot write the bundle to --out {out}: Not a directory\n"
    assert "[1/" not in captured.out  # no training started
    assert MlflowClient(tracking_uri=uri, registry_uri=uri).search_registered_models() == []


def test_the_out_check_leaves_nothing_behind(tmp_path: Path) -> None:
    cli.check_out_dir(tmp_path / "new" / "deeper")
    assert list(tmp_path.iterdir()) == []  # folders made for the check are removed again
    existing = tmp_path / "bundle"
    existing.mkdir()
    (existing / "manifest.json").write_text("{}")
    cli.check_out_dir(existing)
    assert [p.name for p in existing.iterdir()] == ["manifest.json"]


def test_a_read_only_out_dir_is_a_usage_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A folder the user may not write into. Root writes into a read-only folder whatever its mode
    (CI runs as root), so the refusal is made by os.mkdir as the kernel makes it for anyone else."""
    read_only = tmp_path / "read-only"
    read_only.mkdir(mode=0o555)
    real_mkdir = os.mkdir

    def refusing_mkdir(path: Any, *args: Any, **kwargs: Any) -> None:
        if Path(os.fspath(path)).parent == read_only:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", refusing_mkdir)
    with pytest.raises(SystemExit) as exit_:
        cli.check_out_dir(read_only / "bundle")
    assert exit_.value.code == 2
    assert "Permission denied" in capsys.readouterr().err


def test_a_directory_as_data_is_named_as_such(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """It exists: "not found" would send the operator looking for a missing file."""
    folder = tmp_path / "data"
    folder.mkdir()
    code, _, err, _ = run_cli(["--data", str(folder), "--out", str(tmp_path / "out")], capsys)
    assert code == 2
    assert err == f"error: training data {folder} is a directory, not a CSV file\n"


@pytest.mark.parametrize("kind", ["fifo", "process substitution", "device"])
def test_data_that_is_not_a_regular_file_is_named_as_such(
        kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """They exist: "not found" sent the operator looking for a missing file (/dev/fd/63 from <(…) resolved to
    /proc/<pid>/fd/pipe:[…], which is no path). Refused without being opened: a FIFO nobody writes to blocks it."""
    if kind == "fifo":
        data = str(tmp_path / "data.csv")
        os.mkfifo(data)
    elif kind == "process substitution":
        read_end, write_end = os.pipe()  # as bash hands `<(…)` to the command it runs
        data = f"/dev/fd/{read_end}"
    else:
        data = "/dev/null"
    try:
        code, out, err, _ = run_cli(["--data", data, "--out", str(tmp_path / "out")], capsys)
    finally:
        if kind == "process substitution":
            os.close(read_end)
            os.close(write_end)
    what = "a character device" if kind == "device" else "a pipe (FIFO, as <(…) process substitution and mkfifo make)"
    assert code == 2
    assert err == (f"error: training data {data} is not a regular file but {what}: training reads the CSV from a file "
                   "(the run records its path and checksum); save the data to a file and pass that\n")
    assert "[1/" not in out


def test_an_unreadable_data_file_is_a_usage_error_not_a_traceback(
        tmp_path: Path, small_csv: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A file the user may not read (mode 000, another owner) is found before anything else runs.
    Simulated by refusing the open, since root reads any file whatever its mode."""
    locked = tmp_path / "locked.csv"
    locked.write_bytes(small_csv.read_bytes())
    real_open = io.open

    def refusing_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        if os.fspath(file) == str(locked):
            raise PermissionError(13, "Permission denied", str(locked))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(io, "open", refusing_open)
    monkeypatch.setattr(builtins, "open", refusing_open)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    code, out, err, _ = run_cli(["--data", str(locked), "--out", str(tmp_path / "out"), "--tracking-uri", uri], capsys)
    assert code == 2
    assert err == f"error: cannot read the training data {locked}: Permission denied\n"
    assert "[1/" not in out  # nothing started


@pytest.mark.parametrize(("option", "kind"), [
    (option, kind) for option in ("--data", "--out", "--config")
    for kind in ("symbolic link loop", "name too long", "folder not searchable")
    if (option, kind) != ("--config", "folder not searchable")])  # the config is opened, not looked up (above)
def test_a_path_the_os_will_not_look_up_is_a_usage_error_not_a_traceback(
        option: str, kind: str, tmp_path: Path, small_csv: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """exists()/is_dir()/resolve() raise for these (RuntimeError for a loop in Python 3.11): they were
    tracebacks. A folder that may not be searched is simulated (root searches any folder): os.stat
    refuses what is under it, as the kernel does for another user."""
    if kind == "symbolic link loop":
        path, reason = tmp_path / "loop", "Too many levels of symbolic links"
        path.symlink_to(path)
    elif kind == "name too long":
        path, reason = tmp_path / ("a" * 300), "File name too long"  # NAME_MAX is 255
    else:
        locked = tmp_path / "locked"
        locked.mkdir()
        path, reason = locked / "x", "Permission denied"
        real_stat = os.stat

        def refusing_stat(target: Any, *args: Any, **kwargs: Any) -> Any:
            if Path(os.fspath(target)).parent == locked:
                raise PermissionError(13, "Permission denied", os.fspath(target))
            return real_stat(target, *args, **kwargs)
        monkeypatch.setattr(os, "stat", refusing_stat)
    options = {"--data": str(small_csv), "--out": str(tmp_path / "out"), option: str(path)}
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    code, out, err, _ = run_cli([*(part for pair in options.items() for part in pair), "--tracking-uri", uri], capsys)
    assert code == 2
    what = {"--data": "the training data", "--out": "--out", "--config": "--config"}[option]
    assert err == f"error: cannot use {what} {path}: {reason}\n"
    assert "[1/" not in out and not (tmp_path / "out").exists()


def test_data_that_opens_but_cannot_be_read_is_one_line_and_starts_no_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """/proc/self/mem passes the open check and its read fails (EIO): a traceback from read_bytes before."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert cli.main(["--data", "/proc/self/mem", "--out", str(tmp_path / "out"), "--tracking-uri", uri]) == 1
    err = capsys.readouterr().err
    assert err.splitlines()[-2:] == ["error: data validation failed with 1 problem(s):",
                                     f"  - cannot read /proc/{os.getpid()}/mem: Input/output error"]  # resolved
    assert "Traceback" not in err
    client = MlflowClient(tracking_uri=uri)
    assert client.search_runs([e.experiment_id for e in client.search_experiments()]) == []


@pytest.mark.parametrize("option", ["--data", "--out", "--config", "--experiment", "--registered-model", "--tracking-uri"])
@pytest.mark.parametrize("value", ["", " "], ids=["empty", "blank"])
def test_an_empty_option_is_a_usage_error_not_the_default(
        option: str, value: str, tmp_path: Path, small_csv: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """`--experiment ""` (an unset shell variable) used to log to the config's experiment without a word;
    `--data ""` took $CHURN_DATA, `--config ""` the default config and `--out ""` the current folder (the
    bundle was written there)."""
    monkeypatch.setenv("CHURN_DATA", str(small_csv))
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    options = {"--data": str(small_csv), "--out": str(tmp_path / "out"),
               "--tracking-uri": f"sqlite:///{tmp_path / 'mlflow.db'}", option: value}
    code, out, err, _ = run_cli([part for pair in options.items() for part in pair], capsys)
    assert code == 2
    assert err == f"error: {option} is empty; leave it out to use the default\n"
    assert "[1/" not in out  # nothing started
    assert list(cwd.iterdir()) == [] and not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["telco/churn", "telco:churn", "..churn", "telco@churn"])
def test_a_registered_model_name_the_config_would_refuse_is_a_usage_error_before_the_run(
        name: str, tmp_path: Path, small_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The config's [mlflow] registered_model was held to MLflow's rule and --registered-model was not: MLflow
    answered the champion lookup with the code it uses for "no such alias", so all six steps ran (about two
    minutes on the full data) and the run failed at registration, a FINISHED run no version can ever name."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    code, out, err, _ = run_cli(["--data", str(small_csv), "--out", str(tmp_path / "out"), "--tracking-uri", uri,
                                 "--registered-model", name], capsys)
    assert code == 2
    assert err == f'error: --registered-model "{name}": must be {NAME_RULE}\n'  # the config's refusal's words
    assert "[1/" not in out  # nothing started
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    assert client.search_runs([e.experiment_id for e in client.search_experiments()]) == []
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("value", ["", " "], ids=["empty", "blank"])
def test_an_empty_tracking_uri_variable_is_a_usage_error_not_the_local_store(
        value: str, tmp_path: Path, small_csv: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """`MLFLOW_TRACKING_URI=$MLFLOW_URL` with MLFLOW_URL unset: the run went to model/mlflow.db (created there)
    and a first run there became "champion" and rewrote the bundle; `--tracking-uri ''` was already refused."""
    monkeypatch.setenv(pipeline.TRACKING_URI_ENV, value)
    monkeypatch.setattr(pipeline, "LOCAL_TRACKING_DB", tmp_path / "local" / "mlflow.db")
    code, out, err, _ = run_cli(["--data", str(small_csv), "--out", str(tmp_path / "out")], capsys)
    assert code == 2
    assert err == (f"error: MLFLOW_TRACKING_URI is set but empty; unset it to use {tmp_path / 'local' / 'mlflow.db'} "
                   "or set it to the tracking store\n")
    assert "[1/" not in out  # nothing started
    assert not (tmp_path / "local").exists() and not (tmp_path / "out").exists()
    # --tracking-uri names the store: the variable is not used
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert cli.main(["--data", str(small_csv), "--out", str(tmp_path / "out"), "--tracking-uri", uri,
                     "--no-register"]) == 0


def test_force_champion_with_no_register_is_a_usage_error(
        tmp_path: Path, small_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--no-register registers no version, so there is nothing to force the alias onto: it was ignored."""
    code, out, err, _ = run_cli(["--data", str(small_csv), "--out", str(tmp_path / "out"), "--force-champion", "--no-register"], capsys)
    assert code == 2
    assert "--force-champion moves the champion alias to the registered version, and --no-register registers none" in err
    assert "[1/" not in out


def _balanced_csv(tmp_path: Path, per_class: int) -> Path:
    """`per_class` churners and as many non-churners, generated (the data's minimum is 50 of each)."""
    frame = synthetic.churn_frame(20 * per_class, seed=5)
    picked = pd.concat([frame[frame["Churn"] == "Yes"].head(per_class), frame[frame["Churn"] == "No"].head(per_class)])
    return write_csv(picked, tmp_path / f"balanced-{per_class}.csv")


@pytest.mark.parametrize(("settings", "expected"), [
    # 20 folds need 20 of each class in the training part; 30% of 50 is 15.
    ({"test_size": "0.7", "cv_folds": "20"},
     "the training part gets 15 non-churners, at least 20 are needed for 20-fold CV; "
     "the training part gets 15 churners, at least 20 are needed for 20-fold CV"),
    # 3% of the 80 training rows holds one churner: no threshold can be chosen on it.
    ({"validation_size": "0.03"}, "the validation slice gets 1 churners, at least 2 are needed for early stopping"),
    # 3% of 100 rows is 1 row per class for the training part: no stratified validation slice.
    ({"test_size": "0.97"}, "a stratified validation slice of 0.2 cannot be taken from a training part of 1 non-churners"),
    ({"test_size": "0.005"}, "a stratified test split of 0.005 cannot be taken"),
])
def test_split_settings_the_data_cannot_meet_are_a_usage_error_before_the_run(
        settings: dict[str, str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """They failed inside scikit-learn with a traceback, after the MLflow run had started (ended FAILED)."""
    data = _balanced_csv(tmp_path, 50)
    text = (REPO_ROOT / "model" / "config.toml").read_text()
    for key, value in settings.items():
        text, replaced = re.subn(rf"^{key} = \S+", f"{key} = {value}", text, flags=re.M)
        assert replaced == 1, key
    config = tmp_path / "config.toml"
    config.write_text(text)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    code, out, err, _ = run_cli(["--data", str(data), "--config", str(config), "--out", str(tmp_path / "out"),
                                 "--tracking-uri", uri], capsys)
    assert code == 2
    line = err.splitlines()[-1]  # after the sqlite store's own INFO lines
    assert line.startswith(f"error: the config {config} does not fit the data {data}: [split] ")
    assert "do not fit 100 rows (50 churners): " in line and expected in line
    assert "Traceback" not in err
    assert "[2/" not in out  # nothing trained
    assert MlflowClient(tracking_uri=uri).search_runs(
        [e.experiment_id for e in MlflowClient(tracking_uri=uri).search_experiments()]) == []
    assert not (tmp_path / "out").exists()


def test_a_file_whose_billed_totals_all_fall_in_the_test_split_is_a_usage_error_before_the_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Validation reads the whole file; the feature spec's observed range of TotalCharges comes from the training
    part alone, and min([]) failed there after the MLflow run had started."""
    frame = pd.read_csv(_balanced_csv(tmp_path, 50), dtype=str, keep_default_na=False)
    labels = (frame["Churn"] == "Yes").to_numpy(dtype=np.int64)
    test_row = int(train.split_indices(labels, load_config().split).test[0])
    unbilled = frame.index != test_row
    frame.loc[unbilled, "tenure"] = "0"
    frame.loc[unbilled, "TotalCharges"] = " "
    data = write_csv(frame, tmp_path / "one-billed.csv")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    code, out, err, _ = run_cli(["--data", str(data), "--out", str(tmp_path / "out"), "--tracking-uri", uri], capsys)
    assert code == 2
    line = err.splitlines()[-1]
    assert "do not fit 100 rows (50 churners): the training part gets no row with a TotalCharges (each of the 1 that " \
           "have one falls in the test split), at least 1 is needed for the feature spec's observed range" in line
    assert "Traceback" not in err and "[2/" not in out
    assert MlflowClient(tracking_uri=uri).search_runs(
        [e.experiment_id for e in MlflowClient(tracking_uri=uri).search_experiments()]) == []


def test_a_failed_parity_check_names_the_failed_run_and_is_its_description(
        small_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A reviewer opening the FAILED run in MLflow finds why it failed (it had no description), and the
    line names the run and what was left, as an MLflow failure's does."""
    text = (REPO_ROOT / "model" / "config.toml").read_text()
    text, replaced = re.subn(r"^tolerance = \S+", "tolerance = 1e-15", text, flags=re.M)  # no export is this close
    assert replaced == 1
    config = tmp_path / "config.toml"
    config.write_text(text)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    out_dir = tmp_path / "out"
    code = cli.main(["--data", str(small_csv), "--config", str(config), "--out", str(out_dir), "--tracking-uri", uri,
                     "--experiment", "parity", "--registered-model", "parity"])
    err = capsys.readouterr().err.splitlines()[-1]
    assert code == 1
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("parity")
    assert experiment is not None
    [run] = client.search_runs([experiment.experiment_id])
    match = re.fullmatch(r"error: (ONNX export disagrees with xgboost: max \|dp\| = \S+ > 1e-15; run (\w+) had "
                         r"logged training_config\.json) and ends FAILED; nothing was registered, the bundle in "
                         r"(\S+) was not written and champion was not moved", err)
    assert match is not None, err
    assert match.group(2) == run.info.run_id and match.group(3) == str(out_dir)
    assert run.info.status == "FAILED"
    assert run.data.tags["mlflow.note.content"] == match.group(1)
    assert client.search_registered_models() == []
    assert not out_dir.exists()


def test_a_model_that_finds_no_churner_fails_its_run_and_registers_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Valid data with no signal and few churners (50 among 2,050, labels shuffled): validation F1 was 0 at
    every threshold, argmax picked grid_start, and the run registered and wrote a model that flags no one
    (exit 0). Now the run ends FAILED saying why, as a failed parity check does, before anything is registered."""
    frame = synthetic.churn_frame(8000, seed=1).sample(frac=1, random_state=1).head(2050).reset_index(drop=True)
    frame["Churn"] = np.random.default_rng(1).permutation(["Yes"] * 50 + ["No"] * 2000)
    data = write_csv(frame, tmp_path / "no-signal.csv")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    out_dir = tmp_path / "out"
    code = cli.main(["--data", str(data), "--out", str(out_dir), "--tracking-uri", uri, "--experiment", "no-signal",
                     "--registered-model", "no-signal"])
    err = capsys.readouterr().err.splitlines()[-1]
    assert code == 1
    match = re.fullmatch(r"error: (validation F1 is 0 at every threshold from 0\.05 to 0\.95: each of the 8 churners "
                         r"among the 328 rows of the validation slice gets a probability below 0\.05 \(at most \S+\), so "
                         r"the model flags none and no threshold can be chosen; the data holds too few churners or "
                         r"nothing that tells them apart; run (\w+) had logged training_config\.json) and "
                         r"ends FAILED; nothing was registered, the bundle in (\S+) was not written and champion was not "
                         r"moved", err)
    assert match is not None, err
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("no-signal")
    assert experiment is not None
    [run] = client.search_runs([experiment.experiment_id])
    assert (match.group(2), match.group(3)) == (run.info.run_id, str(out_dir))
    assert run.info.status == "FAILED" and run.data.tags["mlflow.note.content"] == match.group(1)
    assert client.search_registered_models() == [] and not out_dir.exists()


def test_help_says_when_the_bundle_in_out_is_replaced(capsys: pytest.CaptureFixture[str]) -> None:
    """--no-register read as 'log the run but do not register the model', a dry run; it replaces the served
    bundle. And a version that does not become champion writes no bundle at all."""
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--help"])
    assert exit_.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "replaced only when the new version becomes champion or with --no-register" in text
    assert ("do not register the model; the bundle is still written to --out (default model/bundle, the one the "
            "gateway serves)") in text
    assert "even when its test ROC AUC is lower than the champion's or not comparable" in text


@pytest.mark.parametrize(("version", "alias", "bundle_dir", "expected"), [
    ("3", "champion", Path("/b"), [("registered version", "3"), ("alias", "champion"), ("bundle", "/b")]),
    ("4", None, None, [("registered version", "4"), ("alias", "none (not champion)"),
                       ("bundle", "not written (not champion)")]),
    (None, None, Path("/b"), [("registered version", "none (--no-register)"), ("alias", "none (--no-register)"),
                              ("bundle", "/b")]),
])
def test_the_summary_says_why_there_is_no_version_or_alias(
        version: str | None, alias: str | None, bundle_dir: Path | None, expected: list[tuple[str, str]]) -> None:
    """It printed Python's `None` for both, for a version that lost and for --no-register alike."""
    result = PipelineResult(metrics={"test_roc_auc": 0.8}, params={}, threshold=0.4, medium_from=0.2,
                                run_id="r1", version=version, alias=alias, bundle_dir=bundle_dir)
    rows = [tuple(part.strip() for part in line.split("|")) for line in cli.summary(result).splitlines()[1:-1]]
    assert rows[-3:] == expected
    assert "None" not in cli.summary(result)


def test_an_explainer_that_fails_its_check_stops_the_run_in_one_line(
        tmp_path: Path, small_csv: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """As a failed ONNX parity check: exit 1, one line naming the check and the run (ended FAILED with that
    reason), nothing registered, no bundle written. Forced by a tolerance no sum can meet."""
    monkeypatch.setattr(explain, "REFERENCE_SUM_TOLERANCE", -1.0)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    out = tmp_path / "out"
    assert cli.main(["--data", str(small_csv), "--out", str(out), "--tracking-uri", uri]) == 1
    err = capsys.readouterr().err.splitlines()[-1]  # above it, MLflow's own notes on creating a new sqlite store
    assert re.fullmatch(r"error: SHAP reference row \d+ sums to \S+, its case's margin is \S+ \(\|delta\| \S+ > -1\); "
                        r"run (\w+) had logged training_config\.json and ends FAILED; nothing was registered, the bundle "
                        rf"in {re.escape(str(out))} was not written and champion was not moved", err), err
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    run_id = re.search(r"run (\w+) had logged", err).group(1)  # type: ignore[union-attr]
    run = client.get_run(run_id)
    assert run.info.status == "FAILED" and run.data.tags["mlflow.note.content"].startswith("SHAP reference row ")
    assert client.search_registered_models() == [] and not out.exists()
