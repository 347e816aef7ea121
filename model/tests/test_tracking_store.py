"""The MLflow tracking store is checked before training: a URI without a scheme, a port nothing
listens on, a server that never answers and a server that is not MLflow are each one line on
stderr and exit 2 within seconds; a real `mlflow server` passes and gets the run."""
from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from churn_model import cli, pipeline
from churn_model.config import MODEL_DIR
from tests.conftest import run_cli, running_mlflow_server

# Far below MLflow's default of about 4 minutes of retries (a check that takes that long is not a
# check), with room for starting Python and importing mlflow on a loaded 2-core machine (20 s was
# exceeded once there by train.sh, whose time includes both).
FAST = 60.0


@pytest.fixture
def refused_uri() -> Iterator[str]:
    """A port bound but not listening: connecting is refused, and nothing else can take the port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.mark.parametrize("extra", [[], ["--no-register"]])
def test_an_unreachable_server_is_a_usage_error_before_training(
        refused_uri: str, small_csv: Path, tmp_path: Path, extra: list[str], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", refused_uri)
    monkeypatch.delenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", raising=False)
    code, out, err, seconds = run_cli(["--data", str(small_csv), "--out", str(tmp_path / "out"), *extra], capsys)
    assert code == 2 and seconds < FAST
    assert "[1/" not in out  # nothing trained
    assert err == (f"error: MLflow tracking store {refused_uri} cannot be used: Connection refused; start the "
                   "server or set --tracking-uri or MLFLOW_TRACKING_URI to a running one\n")
    assert "MLFLOW_HTTP_REQUEST_MAX_RETRIES" not in os.environ  # short retries were for the check only


@pytest.mark.parametrize("uri", ["127.0.0.1:18461", "localhost:18461"])
def test_a_server_address_without_a_scheme_is_a_usage_error(
        uri: str, small_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err, _ = run_cli(["--data", str(small_csv), "--out", str(tmp_path / "out"), "--tracking-uri", uri],
                                capsys)
    assert code == 2 and "[1/" not in out
    assert err == (f"error: MLflow tracking URI '{uri}' has no scheme: for a tracking server set --tracking-uri "
                   f"or MLFLOW_TRACKING_URI to http://{uri}\n")
    assert list(tmp_path.iterdir()) == []  # not taken for a file-store path


def test_a_path_without_a_scheme_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(pipeline.TrackingStoreError, match="has no scheme: .* sqlite:///<path>/mlflow.db"):
        pipeline.check_tracking_store(str(tmp_path / "mlruns"))


def test_a_server_that_never_answers_times_out_within_seconds() -> None:
    with socket.socket() as sock:  # listening, so the connection is accepted by the kernel; nobody reads
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        started = time.monotonic()
        with pytest.raises(pipeline.TrackingStoreError, match="no answer \\(timed out\\)"):
            pipeline.check_tracking_store(f"http://127.0.0.1:{sock.getsockname()[1]}")
        assert time.monotonic() - started < FAST


def test_a_server_that_is_not_mlflow_is_named_as_such() -> None:
    class NotMlflow(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self.send_error(404)

        do_POST = do_GET  # noqa: N815

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), NotMlflow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(pipeline.TrackingStoreError, match="HTTP 404 .*is it an MLflow tracking server"):
            pipeline.check_tracking_store(f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(("status", "why"), [(401, "not authenticated"), (403, "permission denied")])
def test_a_server_that_wants_credentials_is_not_called_down_or_not_mlflow(status: int, why: str) -> None:
    """An MLflow server with authentication (`mlflow server --app-name basic-auth`) answers 401
    without credentials and 403 to a user without permission: it is up and it is MLflow, so
    "is it an MLflow tracking server? start the server" sends the operator the wrong way."""
    class Authenticating(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self.send_response(status)
            self.send_header("WWW-Authenticate", 'Basic realm="mlflow"')
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"You are not authenticated.")

        do_POST = do_GET  # noqa: N815

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Authenticating)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    uri = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with pytest.raises(pipeline.TrackingStoreError) as err:
            pipeline.check_tracking_store(uri)
    finally:
        server.shutdown()
        server.server_close()
    assert str(err.value) == (
        f"MLflow tracking store {uri} cannot be used: HTTP {status} for /api/2.0/mlflow/experiments/search ({why}); "
        "set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (or MLFLOW_TRACKING_TOKEN) to an account "
        "of this server that may use the experiment")


def test_an_unusable_sqlite_store_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(pipeline.TrackingStoreError, match="cannot be used: .*check --tracking-uri"):
        pipeline.check_tracking_store(f"sqlite:///{tmp_path / 'a-file' / 'mlflow.db'}")


@pytest.mark.parametrize("uri", ["sqlite:///", "sqlite://", "sqlite:///:memory:"])
def test_a_sqlite_uri_without_a_file_is_a_usage_error_not_a_lost_run(
        uri: str, small_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """`--tracking-uri sqlite:///$DB` with DB unset trained, registered and wrote the bundle as
    version 1 champion of a database in memory, gone when the command ended, its artifacts in ./mlruns."""
    monkeypatch.chdir(tmp_path)
    code, out, err, _ = run_cli(["--data", str(small_csv), "--out", str(tmp_path / "out"), "--tracking-uri", uri],
                                capsys)
    assert code == 2 and out == ""
    assert err == (f"error: MLflow tracking URI {uri!r} names no database file: the run and its model version would "
                   "be kept in memory and lost when training ends; set --tracking-uri or MLFLOW_TRACKING_URI to "
                   "sqlite:///<path>/mlflow.db\n")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("uri", ["file:./mlruns", "file:///{tmp}/mlruns"])
def test_a_file_store_is_a_usage_error_that_says_what_to_use_instead(
        uri: str, small_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """MLflow 3 refuses `file:` stores (MLflow 2's default, `file:./mlruns`) in a paragraph whose
    last sentence names the opt-out; the line quoted it cut at 300 characters, mid-URL, before that sentence."""
    uri = uri.format(tmp=str(tmp_path).lstrip("/"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    code, out, err, _ = run_cli(["--data", str(small_csv), "--out", str(tmp_path / "out")], capsys)
    assert code == 2 and out == ""
    assert err == (f"error: MLflow tracking URI {uri!r} is a file store, which MLflow {mlflow.__version__} refuses (in "
                   f"maintenance mode since MLflow 3): for the local store {pipeline.LOCAL_TRACKING_DB} leave "
                   "--tracking-uri or MLFLOW_TRACKING_URI unset, or set it to sqlite:///<path>/mlflow.db, or to "
                   "http(s)://host:port for a server; MLFLOW_ALLOW_FILE_STORE=true is MLflow's own way to keep the "
                   "file store\n")
    assert list(tmp_path.iterdir()) == []


def test_a_file_store_mlflow_is_told_to_keep_passes_the_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    pipeline.check_tracking_store(f"file:{tmp_path / 'mlruns'}")
    assert (tmp_path / "mlruns").is_dir()  # MLflow's file store, not refused by the check


def test_an_opt_out_value_mlflow_cannot_read_is_named_not_taken_for_no_opt_out(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "yes")
    with pytest.raises(pipeline.TrackingStoreError, match=r"cannot be used: MLFLOW_ALLOW_FILE_STORE value must be one "
                                                          r"of .* but got yes; check --tracking-uri"):
        pipeline.check_tracking_store(f"file:{tmp_path / 'mlruns'}")


@pytest.mark.parametrize(("uri", "why"), [("http://[::1:5000", "Invalid IPv6 URL"),
                                          ("https://[mlflow]:443", "'mlflow' does not appear to be an IPv4 or IPv6 address")])
def test_a_malformed_uri_is_a_usage_error_not_a_traceback(
        uri: str, why: str, small_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err, _ = run_cli(["--data", str(small_csv), "--out", str(tmp_path / "out"), "--tracking-uri", uri],
                                capsys)
    assert code == 2 and out == ""
    assert err == f"error: MLflow tracking URI {uri!r} is not a valid URI: {why}; check --tracking-uri or MLFLOW_TRACKING_URI\n"


def test_train_sh_reports_an_unreachable_server_in_seconds(refused_uri: str, small_csv: Path, tmp_path: Path) -> None:
    """As the reviewer ran it: train.sh with MLFLOW_TRACKING_URI naming a port nothing listens on."""
    env = {**os.environ, "MLFLOW_TRACKING_URI": refused_uri}
    started = time.monotonic()
    done = subprocess.run(["bash", str(MODEL_DIR / "scripts" / "train.sh"), "--data", str(small_csv),
                           "--out", str(tmp_path / "out")], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and time.monotonic() - started < FAST
    assert "Traceback" not in done.stderr and "[1/" not in done.stdout
    assert done.stderr.strip().splitlines()[-1].startswith(f"error: MLflow tracking store {refused_uri} cannot be used")


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `mlflow server` (sqlite backend, served artifacts) from this venv."""
    root = tmp_path_factory.mktemp("mlflow-server")
    with running_mlflow_server(root, ["--artifacts-destination", str(root / "artifacts")]) as uri:
        yield uri


def test_a_running_mlflow_server_passes_the_check_and_gets_the_run(
        mlflow_server: str, small_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    pipeline.check_tracking_store(mlflow_server)
    assert time.monotonic() - started < FAST
    out = tmp_path / "bundle"
    assert cli.main(["--data", str(small_csv), "--out", str(out), "--tracking-uri", mlflow_server,
                     "--no-register"]) == 0
    run_id = next(line.split("|")[1].strip() for line in capsys.readouterr().out.splitlines()
                  if line.startswith("run_id "))
    assert MlflowClient(tracking_uri=mlflow_server).get_run(run_id).info.status == "FINISHED"
    assert (out / "manifest.json").is_file()


def test_an_experiment_deleted_in_mlflow_is_a_usage_error_not_a_traceback(
        small_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Deleting the experiment in the MLflow UI only moves it to the trash: its name is still
    taken, and a run cannot start in it. Said in one line, with the two ways out, before training."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    experiment_id = client.create_experiment("in-the-trash")
    client.delete_experiment(experiment_id)
    capsys.readouterr()  # MLflow's own log of creating the store
    code, out, err, _ = run_cli(["--data", str(small_csv), "--out", str(tmp_path / "out"), "--tracking-uri", uri,
                                 "--experiment", "in-the-trash"], capsys)
    assert code == 2
    assert "[2/" not in out  # nothing trained
    assert err == (f"error: MLflow experiment 'in-the-trash' (id {experiment_id}) in {uri} is deleted: restore it "
                   f"(mlflow experiments restore --experiment-id {experiment_id}) or choose another with "
                   "--experiment\n")
    assert not (tmp_path / "out").exists()
