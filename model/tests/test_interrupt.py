"""Ctrl-C during training: `bash model/scripts/train.sh` run as an operator runs it (its own process
group, as a terminal's foreground job), sent SIGINT once its progress output shows the step a test
wants. Each phase ends in exit 130 and one line on stderr, no traceback, saying during which step,
which MLflow run and what was and was not logged, registered, moved or written; the run, the
registry and --out are then read back and must be as the line says."""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from churn_model.config import MODEL_DIR
from tests.conftest import running_mlflow_server
from tests.mlflow_proxy import FailingProxy, failing_proxy
from tests.test_train_sh import clean_env

TRAIN_SH = MODEL_DIR / "scripts" / "train.sh"
SECONDS = 90.0  # a stuck process fails the test rather than hanging the suite


def start(args: list[str]) -> subprocess.Popen[str]:
    """train.sh in a new session (its own process group, which a terminal's Ctrl-C signals), unbuffered
    stdout so that each progress line is seen when it is printed."""
    return subprocess.Popen(["bash", str(TRAIN_SH), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True, env=clean_env(PYTHONUNBUFFERED="1"))


def ctrl_c(proc: subprocess.Popen[str]) -> None:
    os.killpg(proc.pid, signal.SIGINT)


def finish(proc: subprocess.Popen[str], seen: str = "") -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("train.sh did not end after Ctrl-C")
    return proc.returncode, seen + out, err


def interrupt_at(proc: subprocess.Popen[str], marker: str) -> tuple[int, str, str]:
    """Ctrl-C as soon as a stdout line starts with `marker`; the exit code, all stdout and stderr."""
    assert proc.stdout is not None
    seen = []
    deadline = time.monotonic() + SECONDS
    for line in proc.stdout:
        seen.append(line)
        if line.startswith(marker):
            ctrl_c(proc)
            break
        assert time.monotonic() < deadline
    else:
        pytest.fail(f"train.sh ended before printing {marker!r}: {''.join(seen)}{finish(proc)[2]}")
    return finish(proc, "".join(seen))


def one_line(err: str) -> str:
    """stderr must be exactly one line (no traceback, no MLflow message around it)."""
    assert "Traceback" not in err, err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    return err


def sqlite_store(root: Path) -> str:
    """A tracking store whose tables exist already (a new sqlite store logs its migrations on stderr)."""
    uri = f"sqlite:///{root / 'mlflow.db'}"
    MlflowClient(tracking_uri=uri).search_experiments(max_results=1)
    return uri


def only_run(client: MlflowClient, experiment: str) -> tuple[str, str, dict[str, str]]:
    found = client.get_experiment_by_name(experiment)
    assert found is not None
    (run,) = client.search_runs([found.experiment_id])
    return run.info.run_id, run.info.status, run.data.tags


NOTHING = "nothing was registered, the bundle in {out} was not written and champion was not moved"


def test_ctrl_c_while_the_tracking_store_is_checked_starts_nothing(tmp_path: Path, small_csv: Path) -> None:
    """A tracking server that takes the connection and never answers: the check (5 s timeout) is
    waiting when Ctrl-C comes."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        silent.settimeout(SECONDS)
        uri = f"http://127.0.0.1:{silent.getsockname()[1]}"
        out = tmp_path / "out"
        proc = start(["--data", str(small_csv), "--out", str(out), "--tracking-uri", uri])
        conn, _ = silent.accept()
        with conn:
            time.sleep(0.2)
            ctrl_c(proc)
            code, stdout, err = finish(proc)
    assert code == 130
    assert one_line(err) == (f"error: interrupted (Ctrl-C) while checking the MLflow tracking store {uri}, before "
                             "step 1/6; no MLflow run was started: nothing was trained or logged, "
                             + NOTHING.format(out=out) + "\n")
    assert "[1/" not in stdout and not out.exists()


def test_ctrl_c_during_validation_starts_no_run(tmp_path: Path, small_csv: Path) -> None:
    """204,000 rows (the small file 340 times, each copy's ids made unique): validating them takes
    long enough to be interrupted in step 1. With 20,400 it took 0.6 s of CPU, less than a machine busy
    with other work can hold this test's reading of the progress lines: Ctrl-C would then come in a later
    step (as it did once for training, test_ctrl_c_during_training_ends_the_run_failed)."""
    header, *rows = small_csv.read_text().splitlines()
    big = tmp_path / "big.csv"
    big.write_text("\n".join([header, *(f"{k}-{row}" for k in range(340) for row in rows)]) + "\n")
    uri = sqlite_store(tmp_path)
    out = tmp_path / "out"
    code, _, err = interrupt_at(start(["--data", str(big), "--out", str(out), "--tracking-uri", uri,
                                       "--experiment", "interrupted"]), "[1/")
    assert code == 130
    assert one_line(err) == ("error: interrupted (Ctrl-C) during step 1/6 (data); no MLflow run was started: nothing "
                             "was trained or logged, " + NOTHING.format(out=out) + "\n")
    client = MlflowClient(tracking_uri=uri)
    assert client.get_experiment_by_name("interrupted") is None and client.search_registered_models() == []
    assert not out.exists()


def slow_config(tmp_path: Path) -> Path:
    """The committed config with early stopping that never stops and ten times the rounds: step 3 fits
    all 30,000, several times (fit, refit, CV), so Ctrl-C lands in it. With 3,000 it took seconds on the
    small file, and on a machine busy enough to hold this test's reading of the progress lines that
    long, the run had ended (exit 0) before Ctrl-C was sent (a CI run, once)."""
    text = (MODEL_DIR / "config.toml").read_text()
    slow, count = re.subn(r"(?m)^early_stopping_rounds = \d+", "early_stopping_rounds = 30000", text)
    assert count == 1
    slow, count = re.subn(r"(?m)^n_estimators = \d+", "n_estimators = 30000", slow)
    assert count == 1
    config = tmp_path / "slow.toml"
    config.write_text(slow)
    return config


def test_ctrl_c_during_training_ends_the_run_failed(tmp_path: Path, small_csv: Path) -> None:
    uri = sqlite_store(tmp_path)
    out = tmp_path / "out"
    code, stdout, err = interrupt_at(start(["--data", str(small_csv), "--out", str(out), "--tracking-uri", uri,
                                            "--experiment", "interrupted", "--config", str(slow_config(tmp_path))]),
                                     "[3/")
    client = MlflowClient(tracking_uri=uri)
    run_id, status, tags = only_run(client, "interrupted")
    assert code == 130
    note = f"interrupted (Ctrl-C) during step 3/6 (train); run {run_id} had logged training_config.json"
    assert one_line(err) == f"error: {note} and ends FAILED; " + NOTHING.format(out=out) + "\n"
    assert status == "FAILED" and tags["mlflow.note.content"] == note
    assert "[4/" not in stdout
    assert client.search_registered_models() == [] and not out.exists()


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("mlflow-interrupt")
    with running_mlflow_server(root, ["--artifacts-destination", str(root / "artifacts")]) as uri:
        yield uri


@pytest.fixture
def proxy(mlflow_server: str) -> Iterator[FailingProxy]:
    with failing_proxy(mlflow_server) as proxy:
        yield proxy


def interrupt_after(proxy: FailingProxy, endpoint: tuple[str, str], args: list[str]) -> tuple[int, str, str]:
    """Ctrl-C once the real server has answered `endpoint` and before train.sh has the answer: what
    the call did is done, and the command does not know it."""
    proc = start(["--tracking-uri", proxy.uri, *args])

    def interrupt() -> None:
        ctrl_c(proc)
        time.sleep(0.5)  # the answer reaches a command already handling its KeyboardInterrupt

    proxy.after[endpoint] = interrupt
    return finish(proc)


def test_ctrl_c_while_moving_the_alias_moves_it_back_and_keeps_the_old_bundle(
        proxy: FailingProxy, small_csv: Path, tmp_path: Path) -> None:
    """The move was made by the server, the bundle naming version 2 was never swapped in: the alias
    must not stay on version 2. Version 1 and its bundle stand in for an earlier run's (--force-champion
    does not compare with it; a whole training run for them would double the test's time)."""
    name, out = "interrupt-alias", tmp_path / "out"
    client = MlflowClient(tracking_uri=proxy.upstream, registry_uri=proxy.upstream)
    client.create_registered_model(name)
    earlier = client.create_run(client.create_experiment(f"{name}-earlier")).info.run_id
    client.create_model_version(name, f"runs:/{earlier}/model", run_id=earlier)
    client.set_registered_model_alias(name, "champion", "1")
    out.mkdir()
    (out / "manifest.json").write_text(json.dumps({"run": {"runId": earlier},
                                                   "registeredModel": {"name": name, "version": "1"}}))
    (out / "model.onnx").write_bytes(b"version 1")
    before = {f.name: f.read_bytes() for f in out.iterdir()}
    code, _, err = interrupt_after(proxy, ("POST", r"/registered-models/alias$"),
                                   ["--data", str(small_csv), "--out", str(out), "--experiment", name,
                                    "--registered-model", name, "--force-champion"])
    runs = client.search_runs([client.get_experiment_by_name(name).experiment_id],  # type: ignore[union-attr]
                              order_by=["attributes.start_time DESC"])
    run = runs[0]
    assert code == 130
    line = one_line(err)
    assert line.startswith(f"error: interrupted (Ctrl-C) during step 6/6 (bundle + MLflow), moving champion to {name} "
                           f"version 2; run {run.info.run_id} is FINISHED with the model logged (models:/m-")
    assert line.endswith(f"); {name} version 2 is registered; champion was moved to it and moved back to version 1; "
                         f"the bundle in {out} was not written (it holds version 1)\n")
    assert run.info.status == "FINISHED"
    assert str(client.get_model_version_by_alias(name, "champion").version) == "1"
    assert client.get_model_version(name, "2").tags["champion_decision"] == (
        "not champion: chosen (forced (--force-champion)), not carried out: interrupted (Ctrl-C)")
    assert {f.name: f.read_bytes() for f in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staged bundle left beside it


def test_ctrl_c_while_registering_leaves_a_version_that_says_it_is_not_champion(
        proxy: FailingProxy, small_csv: Path, tmp_path: Path) -> None:
    """The server created the version (tagged `champion: no champion yet` in that call); the alias was
    never moved and no bundle written, so its tag must not claim it is champion."""
    name, out = "interrupt-register", tmp_path / "out"
    code, _, err = interrupt_after(proxy, ("POST", r"/model-versions/create$"),
                                   ["--data", str(small_csv), "--out", str(out), "--experiment", name,
                                    "--registered-model", name])
    client = MlflowClient(tracking_uri=proxy.upstream, registry_uri=proxy.upstream)
    run_id, status, _ = only_run(client, name)
    assert code == 130
    line = one_line(err)
    assert line.startswith(f"error: interrupted (Ctrl-C) during step 6/6 (bundle + MLflow), registering a version of "
                           f"{name}; run {run_id} is FINISHED with the model logged (models:/m-")
    assert line.endswith(f"); {name} version 1 is registered; the bundle in {out} was not written and champion was "
                         "not moved\n")
    assert status == "FINISHED"
    (version,) = client.search_model_versions(f"name = '{name}'")
    assert version.aliases == [] and version.tags["champion_decision"] == (
        "not champion: chosen (no champion yet), not carried out: interrupted (Ctrl-C)")
    assert not out.exists()


def test_an_object_cut_short_by_ctrl_c_does_not_add_a_traceback_after_the_line() -> None:
    """A Ctrl-C inside xgboost's DataIter constructor leaves an object whose destructor raises when it
    is freed ('Exception ignored in … Traceback … no attribute _temporary_data', printed at exit after
    the one line). The timing cannot be forced through train.sh, so the CLI is run with its work
    replaced by one that holds such an object and is interrupted."""
    code = (
        "import sys\n"
        "from churn_model import cli\n"
        "class CutShort:\n"
        "    def __del__(self):\n"
        "        raise AttributeError(\"'SingleBatchInternalIter' object has no attribute '_temporary_data'\")\n"
        "def interrupted(argv, results):\n"
        "    held = CutShort()\n"
        "    raise KeyboardInterrupt\n"
        "cli._main = interrupted\n"
        "sys.exit(cli.main([]))\n"
    )
    done = subprocess.run([str(MODEL_DIR / ".venv" / "bin" / "python"), "-c", code], cwd=MODEL_DIR,
                          capture_output=True, text=True, timeout=SECONDS, env=clean_env())
    assert done.returncode == 130
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith("error: interrupted (Ctrl-C) while checking the options, before step 1/6; ")
