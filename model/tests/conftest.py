"""Shared fixtures: the real config, generated CSV files, one small end-to-end MLflow run, and a
real `mlflow server` process started with the arguments a test gives it."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest

from churn_model import cli, synthetic
from churn_model.config import TrainingConfig, load_config
from churn_model.pipeline import PipelineOptions, PipelineResult, run_pipeline


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False, lineterminator="\n")
    return path


@pytest.fixture(scope="session")
def cfg() -> TrainingConfig:
    return load_config()


@pytest.fixture(scope="session")
def small_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """600 generated customers with a learnable churn signal."""
    return write_csv(synthetic.churn_frame(600, seed=7), tmp_path_factory.mktemp("data") / "small.csv")


@pytest.fixture(scope="session")
def small_run(cfg: TrainingConfig, small_csv: Path, tmp_path_factory: pytest.TempPathFactory
              ) -> tuple[PipelineResult, str, PipelineOptions]:
    """One end-to-end run on the small file, logged to a throwaway sqlite MLflow store."""
    root = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    opts = PipelineOptions(data_path=small_csv, out_dir=root / "bundle", experiment="test-churn",
                           registered_model="test-churn", tracking_uri=uri)
    return run_pipeline(cfg, opts, log=lambda _msg: None), uri, opts


# The ports this project's tests may give an `mlflow server`.
MLFLOW_TEST_PORTS = range(18461, 18469)


def _free_test_port() -> int:
    for port in MLFLOW_TEST_PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    # On CI (CI set) a skip would pass every MLflow-server test unrun: fail instead.
    (pytest.fail if os.environ.get("CI") else pytest.skip)(f"no free port in {MLFLOW_TEST_PORTS} for an mlflow server")


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int | str | None, str, str, float]:
    """`cli.main(args)`, expected to exit: its exit code, stdout, stderr and the seconds it took."""
    started = time.monotonic()
    with pytest.raises(SystemExit) as exit_:
        cli.main(args)
    out, err = capsys.readouterr()
    return exit_.value.code, out, err, time.monotonic() - started


@contextmanager
def running_mlflow_server(root: Path, artifact_args: list[str], env: dict[str, str] | None = None) -> Iterator[str]:
    """A real `mlflow server` from this venv (sqlite backend in `root`) with `artifact_args`
    (`--artifacts-destination <dir>`, `--no-serve-artifacts --default-artifact-root <uri>`);
    yields its URI and stops it (its whole process group) afterwards."""
    port = _free_test_port()
    uri = f"http://127.0.0.1:{port}"
    log = (root / "server.log").open("w")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "mlflow"), "server", "--backend-store-uri",
         f"sqlite:///{root / 'mlflow.db'}", *artifact_args, "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1"],
        cwd=root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env)
    try:
        deadline = time.monotonic() + 120  # the first start on a new sqlite file runs the migrations
        while True:
            try:
                with urllib.request.urlopen(f"{uri}/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"mlflow server did not start on {uri}: {(root / 'server.log').read_text()[-3000:]}")
            time.sleep(0.5)
        # /health answers before the store is touched; its first call is slow (0.35 s against 0.03 s
        # after it, idle) and on a loaded machine outlasted the 5 s the pipeline's up-front check gives
        # a server. Made here, so a test's first training meets a server that is ready.
        search = urllib.request.Request(f"{uri}/api/2.0/mlflow/experiments/search", data=b'{"max_results": 1}',
                                        headers={"content-type": "application/json"}, method="POST")
        with urllib.request.urlopen(search, timeout=max(deadline - time.monotonic(), 10)) as answer:
            assert answer.status == 200, f"mlflow server on {uri} answered {answer.status} to its first store call"
        yield uri
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # its uvicorn worker and job consumers share the process group
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()
