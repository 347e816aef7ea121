"""MLflow failing mid-run, after the up-front checks passed: a real `mlflow server` behind a local
proxy (tests/mlflow_proxy.py) that answers chosen endpoints with HTTP 503 from a chosen moment
on. Each failure is one line on stderr saying which call failed, why, and what state is left,
exit 1, no traceback; the run, the registry and --out are then as the line says."""
from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from churn_model import cli
from tests.conftest import running_mlflow_server
from tests.mlflow_proxy import FailingProxy, failing_proxy

SECONDS = 120.0  # MLflow's own retries are turned off below; the run itself takes seconds


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("mlflow-mid-run")
    with running_mlflow_server(root, ["--artifacts-destination", str(root / "artifacts")]) as uri:
        yield uri


@pytest.fixture
def proxy(mlflow_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FailingProxy]:
    """MLflow's 7 retries with backoff would take about 4 minutes on each failing call; the
    failure reported is the same with none."""
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    with failing_proxy(mlflow_server) as proxy:
        yield proxy


def train(proxy: FailingProxy, small_csv: Path, out: Path, name: str, capsys: pytest.CaptureFixture[str],
          *extra: str) -> tuple[int, str, str]:
    started = time.monotonic()
    code = cli.main(["--data", str(small_csv), "--out", str(out), "--tracking-uri", proxy.uri,
                     "--experiment", name, "--registered-model", name, *extra])
    out_text, err = capsys.readouterr()
    assert time.monotonic() - started < SECONDS
    return code, out_text, err


def error_line(err: str) -> str:
    """The command's one error line: stderr's last (MLflow's own progress messages may come before it)."""
    assert "Traceback" not in err and err.endswith("\n")
    (line,) = [text for text in err.splitlines() if text.startswith("error:")]
    assert err.splitlines()[-1] == line
    return line + "\n"


def only_run(client: MlflowClient, name: str) -> tuple[str, str, dict[str, str]]:
    experiment = client.get_experiment_by_name(name)
    assert experiment is not None
    (run,) = client.search_runs([experiment.experiment_id])
    return run.info.run_id, run.info.status, run.data.tags


# (endpoint that fails, what the line says was being done, what the run had logged)
IN_RUN = [
    (("POST", r"/runs/log-batch$"), "logging the params", "training_config.json"),
    (("PUT", r"/artifacts/bundle/"), "logging the artifacts (bundle/, onnx/, feature_spec.json, plots/)",
     "training_config.json, params, metrics, tags"),
    (("POST", r"/logged-models$"), "logging the model (mlflow.pyfunc.log_model)",
     "training_config.json, params, metrics, tags, artifacts"),
]


@pytest.mark.parametrize(("endpoint", "doing", "logged"), IN_RUN, ids=[d for _, d, _ in IN_RUN])
def test_a_logging_call_that_fails_ends_the_run_failed_and_says_so(
        proxy: FailingProxy, small_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        endpoint: tuple[str, str], doing: str, logged: str) -> None:
    proxy.failing.add(endpoint)
    name = f"mid-run-{IN_RUN.index((endpoint, doing, logged))}"
    out = tmp_path / "out"
    code, out_text, err = train(proxy, small_csv, out, name, capsys)
    client = MlflowClient(tracking_uri=proxy.upstream, registry_uri=proxy.upstream)
    run_id, status, tags = only_run(client, name)
    assert code == 1 and "[5/" in out_text  # trained, then MLflow failed
    err = error_line(err)
    assert err.startswith(f"error: MLflow failed {doing}: HTTP 503 for {proxy.uri}/")
    assert err.endswith(f"; run {run_id} had logged {logged} and ends FAILED; nothing was registered, the bundle in "
                        f"{out} was not written and champion was not moved\n")
    assert status == "FAILED" and tags["mlflow.note.content"] in err
    assert client.search_registered_models() == [] and not out.exists()


def test_a_run_that_cannot_be_ended_says_it_shows_running(
        proxy: FailingProxy, small_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    proxy.failing.add(("POST", r"/runs/update$"))
    out = tmp_path / "out"
    code, _, err = train(proxy, small_csv, out, "mid-run-end", capsys)
    client = MlflowClient(tracking_uri=proxy.upstream, registry_uri=proxy.upstream)
    run_id, status, _ = only_run(client, "mid-run-end")
    assert code == 1
    err = error_line(err)
    assert err.startswith(f"error: MLflow failed ending run {run_id} as FINISHED: HTTP 503 for ")
    assert err.endswith("; it had logged training_config.json, params, metrics, tags, artifacts, the model but shows "
                        f"RUNNING; nothing was registered, the bundle in {out} was not written and champion was not "
                        "moved\n")
    assert status == "RUNNING" and client.search_registered_models() == [] and not out.exists()


def test_registering_that_fails_leaves_no_version_and_no_bundle(
        proxy: FailingProxy, small_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    proxy.failing.add(("POST", r"/model-versions/create$"))
    out = tmp_path / "out"
    code, _, err = train(proxy, small_csv, out, "mid-run-register", capsys)
    client = MlflowClient(tracking_uri=proxy.upstream, registry_uri=proxy.upstream)
    run_id, status, _ = only_run(client, "mid-run-register")
    assert code == 1
    err = error_line(err)
    assert err.startswith("error: MLflow failed registering a version of mid-run-register: HTTP 503 for ")
    assert f"; run {run_id} is FINISHED with the model logged (models:/m-" in err
    assert err.endswith("; no version of mid-run-register was registered (one the server made before failing has no "
                        f"alias), the bundle in {out} was not written and champion was not moved\n")
    assert status == "FINISHED" and client.search_model_versions("name = 'mid-run-register'") == []
    assert not out.exists()


def test_a_version_is_never_registered_without_its_run_id_and_champion_decision_tags(
        proxy: FailingProxy, small_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """They were set by separate calls after the version was created, so a failing set-tag left a version
    without them (and no reason for a reviewer); now they are part of the call that creates it, and the
    tag endpoint is not needed at all for a run that succeeds."""
    proxy.failing.add(("POST", r"/model-versions/set-tag$"))
    out = tmp_path / "out"
    code, _, err = train(proxy, small_csv, out, "mid-run-tag", capsys)
    assert code == 0, err
    client = MlflowClient(tracking_uri=proxy.upstream, registry_uri=proxy.upstream)
    (version,) = client.search_model_versions("name = 'mid-run-tag'")
    run_id, _, _ = only_run(client, "mid-run-tag")
    assert version.tags == {"run_id": run_id, "champion_decision": "champion: no champion yet"}
    assert str(client.get_model_version_by_alias("mid-run-tag", "champion").version) == str(version.version)
    assert (out / "manifest.json").is_file()


ALIAS_MOVE = ("POST", r"/registered-models/alias$")


def champion_version(proxy: FailingProxy, name: str) -> str:
    client = MlflowClient(tracking_uri=proxy.upstream, registry_uri=proxy.upstream)
    return str(client.get_model_version_by_alias(name, "champion").version)


def test_an_alias_that_cannot_be_moved_leaves_the_old_bundle_and_says_where_it_points(
        proxy: FailingProxy, small_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The bundle used to be written (its manifest naming the new version champion) before the
    alias move failed: the served bundle then claimed an alias the registry did not give it."""
    out = tmp_path / "out"
    assert train(proxy, small_csv, out, "mid-run-alias", capsys)[0] == 0
    before = {f.name: f.read_bytes() for f in out.iterdir()}
    proxy.failing.add(ALIAS_MOVE)
    code, _, err = train(proxy, small_csv, out, "mid-run-alias", capsys, "--force-champion")
    assert code == 1
    assert error_line(err) == (
        f"error: MLflow failed moving champion to mid-run-alias version 2: HTTP 503 for {proxy.uri}/api/2.0/mlflow/"
        f"registered-models/alias; mid-run-alias version 2 is registered and the bundle in {out} was not replaced; "
        "champion still names version 1\n")
    assert {f.name: f.read_bytes() for f in out.iterdir()} == before  # manifest: version 1, champion
    assert champion_version(proxy, "mid-run-alias") == "1"
    tags = MlflowClient(tracking_uri=proxy.upstream, registry_uri=proxy.upstream).get_model_version(
        "mid-run-alias", "2").tags
    assert tags["champion_decision"].startswith("not champion: chosen (forced (--force-champion)), not carried out: "
                                                "MLflow failed moving champion to mid-run-alias version 2: HTTP 503")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # the staged bundle was removed


def test_a_bundle_that_cannot_be_swapped_in_moves_the_alias_back(
        proxy: FailingProxy, small_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A real failure of the last step: the staged bundle vanishes while the alias is being moved
    (the proxy deletes it then), so the swap fails after the registry already names the new
    version; the alias goes back to the version the old bundle holds."""
    out = tmp_path / "out"
    assert train(proxy, small_csv, out, "mid-run-swap", capsys)[0] == 0
    before = {f.name: f.read_bytes() for f in out.iterdir()}

    def remove_staged_bundle() -> None:
        for staged in tmp_path.glob(".out.new-*"):
            shutil.rmtree(staged)

    proxy.before[ALIAS_MOVE] = remove_staged_bundle
    code, _, err = train(proxy, small_csv, out, "mid-run-swap", capsys, "--force-champion")
    assert code == 1
    line = error_line(err)
    assert line.startswith(f"error: cannot write the bundle to {out}: [Errno 2] No such file or directory")
    assert line.endswith("; mid-run-swap version 2 is registered and champion was moved back to version 1\n")
    assert {f.name: f.read_bytes() for f in out.iterdir()} == before
    assert champion_version(proxy, "mid-run-swap") == "1"
