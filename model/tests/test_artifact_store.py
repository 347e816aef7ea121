"""The MLflow artifact store is checked before training, by the run's first artifact (the
training config): against a real `mlflow server` whose artifact store cannot be written, the
command stops after validating the data with one line on stderr naming the location and what to
do, exit 2, in seconds; nothing is trained or registered, and the attempt is a FAILED run that
says why. A store that works gets the config as an artifact (test_pipeline.py)."""
from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from tests.conftest import run_cli, running_mlflow_server

# Generous: the point is "before training and without MLflow's own retries", which take about
# 4 minutes to give up on a server whose artifact store answers HTTP 500.
SECONDS = 60.0
# An S3 client with credentials that lead nowhere, failing fast (no instance metadata lookup,
# an endpoint where nothing listens); also what the server would use, were it to write there.
AWS_NOWHERE = {"AWS_ACCESS_KEY_ID": "AKIANOWHERE", "AWS_SECRET_ACCESS_KEY": "nowhere",
               "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"}


@dataclass(frozen=True)
class UnwritableStore:
    tracking_uri: str
    location: str  # what the message names: the start of the run's artifact URI
    reason: str    # the part of the message that says why ("" where it depends on installed libraries)
    todo: str      # the part that says what to do


@pytest.fixture(scope="module")
def refused_endpoint() -> Iterator[str]:
    with socket.socket() as sock:  # bound, not listening: connections are refused
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


CLIENT_WRITES = ("this machine writes the artifacts itself (the tracking server does not serve them): make the "
                 "location writable from here (folder, cloud-storage credentials and client library) or start the "
                 "server with --serve-artifacts")


@pytest.fixture(scope="module", params=["path-under-a-file", "s3-without-credentials", "served-destination-fails"])
def unwritable_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                     refused_endpoint: str) -> Iterator[UnwritableStore]:
    root = tmp_path_factory.mktemp("mlflow-server")
    (root / "a-file").write_text("not a folder\n")  # root: nothing makes a folder under a regular file
    blocked = root / "a-file" / "artifacts"
    env = {**os.environ, **AWS_NOWHERE, "MLFLOW_S3_ENDPOINT_URL": refused_endpoint}
    store: dict[str, tuple[list[str], str, str, str]] = {
        "path-under-a-file": (["--no-serve-artifacts", "--default-artifact-root", str(blocked)],
                              str(blocked), f"Not a directory: {blocked}", CLIENT_WRITES),
        "s3-without-credentials": (["--no-serve-artifacts", "--default-artifact-root", "s3://churn-nowhere/mlruns"],
                                   "s3://churn-nowhere/mlruns/", "", CLIENT_WRITES),
        "served-destination-fails": (["--artifacts-destination", str(blocked)], "mlflow-artifacts:/", "HTTP 500 for ",
                                     "the tracking server stores this run's artifacts: make its "
                                     "--artifacts-destination writable (the server's log says more)"),
    }
    args, location, reason, todo = store[request.param]
    with running_mlflow_server(root, args, env=env) as uri:
        yield UnwritableStore(uri, location, reason, todo)


def test_an_artifact_store_that_cannot_be_written_stops_the_run_before_training(
        unwritable_store: UnwritableStore, refused_endpoint: str, small_csv: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for name, value in {**AWS_NOWHERE, "MLFLOW_S3_ENDPOINT_URL": refused_endpoint}.items():
        monkeypatch.setenv(name, value)
    uri = unwritable_store.tracking_uri
    code, out, err, seconds = run_cli(["--data", str(small_csv), "--out", str(tmp_path / "out"),
                                       "--tracking-uri", uri, "--experiment", "churn-artifacts"], capsys)
    assert code == 2 and seconds < SECONDS
    assert "[1/" in out and "[2/" not in out  # the data was validated, nothing was trained
    assert err.count("\n") == 1 and "Traceback" not in err
    prefix = f"error: MLflow artifact store {unwritable_store.location}"
    assert err.startswith(prefix) and "/artifacts cannot be written: " in err
    assert unwritable_store.reason in err and err.endswith(f"; {unwritable_store.todo}\n")
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    assert client.search_registered_models() == []
    experiment = client.get_experiment_by_name("churn-artifacts")
    assert experiment is not None
    (run,) = client.search_runs([experiment.experiment_id])
    assert f"nothing was trained (run {run.info.run_id} ends FAILED)" in err
    assert run.info.status == "FAILED" and run.data.metrics == {} and run.data.params == {}
    assert run.data.tags["mlflow.note.content"] == err.removeprefix("error: ").rstrip("\n")
    assert not (tmp_path / "out").exists()  # --out was checked, and left as it was
