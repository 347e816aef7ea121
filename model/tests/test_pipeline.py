"""End-to-end run on a generated file: bundle written, and the run is in MLflow with params,
metrics, artifacts and the champion alias (read back through MlflowClient)."""
from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_GIT_COMMIT

from churn_model import cli, features, pipeline, synthetic
from churn_model.config import DEFAULT_CONFIG_PATH, ConfigFile, TrainingConfig
from churn_model.data import load_dataset
from churn_model.mlflow_errors import RunFailedError
from churn_model.pipeline import PipelineOptions, PipelineResult
from tests.conftest import run_cli, write_csv
from tests.test_git_commit import git, make_repo

Run = tuple[PipelineResult, str, PipelineOptions]


def test_small_run_learns_and_writes_bundle(small_run: Run) -> None:
    result, _, opts = small_run
    assert result.metrics["test_roc_auc"] > 0.65  # generated data carries real signal
    manifest = json.loads((opts.out_dir / "manifest.json").read_text())
    assert manifest["registeredModel"] == {"name": "test-churn", "version": result.version, "alias": "champion"}
    assert manifest["run"]["runId"] == result.run_id
    assert manifest["riskBands"]["highFrom"] == manifest["threshold"] == result.threshold
    assert manifest["metrics"] == result.metrics


def test_the_bundle_is_its_five_files(small_run: Run) -> None:
    assert sorted(f.name for f in small_run[2].out_dir.iterdir()) == [
        "explainer.json", "group_report.json", "manifest.json", "model.onnx", "parity.json"]


def test_the_group_report_names_the_bundle_it_is_written_with(small_run: Run, tmp_path: Path) -> None:
    """What the gateway checks before serving group_report.json (the manifest does not name it): the report's
    bundle.onnxSha256, bundle.runId, threshold and datasetSha256 are the manifest's, in the published bundle and in
    the run's bundle/ artifact alike; the two reports are the same text."""
    result, uri, opts = small_run
    logged_dir = Path(MlflowClient(tracking_uri=uri).download_artifacts(result.run_id, "bundle", str(tmp_path)))
    published = (opts.out_dir / "group_report.json").read_text()
    assert (logged_dir / "group_report.json").read_text() == published
    for folder in (opts.out_dir, logged_dir):
        manifest = json.loads((folder / "manifest.json").read_text())
        report = json.loads((folder / "group_report.json").read_text())
        assert hashlib.sha256((folder / "model.onnx").read_bytes()).hexdigest() == manifest["onnx"]["sha256"]
        assert report["bundle"] == {"onnxSha256": manifest["onnx"]["sha256"], "runId": manifest["run"]["runId"]}
        assert report["bundle"]["runId"] == result.run_id
        assert report["threshold"] == manifest["threshold"]
        assert report["datasetSha256"] == manifest["datasetSha256"]
        assert "groupReport" not in manifest and "group_report.json" not in json.dumps(manifest)  # not in the manifest
    assert published == json.dumps(json.loads(published), indent=2, sort_keys=True) + "\n"  # as the offline tool writes it


def test_the_registered_model_gives_the_bundles_probability_and_decision(
        small_run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    """Through MLflow, as `mlflow models serve` and `pyfunc.load_model` users take it: the registered version's
    pyfunc returns P(churn) (the booster's predict_proba[:, 1], which parity.json records) and will_churn at the
    manifest's threshold. It used to be the xgboost flavour: labels at a 0.5 cut-off, unnamed tensor input."""
    result, uri, opts = small_run
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", uri)  # undone after the test: other tests' stores stay theirs
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    try:
        model = mlflow.pyfunc.load_model(f"models:/{opts.registered_model}/{result.version}")
    finally:
        mlflow.set_tracking_uri(previous)
    manifest = json.loads((opts.out_dir / "manifest.json").read_text())
    names = features.feature_names(manifest["featureSpec"])
    assert model.metadata.get_input_schema().input_names() == names  # named as the feature spec names them
    outputs = model.metadata.get_output_schema().to_dict()
    assert [(o["name"], o["type"]) for o in outputs] == [("churn_probability", "double"), ("will_churn", "boolean")]
    parity = json.loads((opts.out_dir / "parity.json").read_text())["cases"]
    x = features.encode_records([case["input"] for case in parity], manifest["featureSpec"])
    frame = pd.DataFrame(x.astype(np.float64), columns=names)[names[::-1]]  # columns found by name, not place
    scored = model.predict(frame)
    assert list(scored.columns) == ["churn_probability", "will_churn"] and len(scored) == len(parity)
    p = scored["churn_probability"].to_numpy()
    assert np.allclose(p, [case["probability"] for case in parity], rtol=1e-6, atol=1e-7)
    threshold = manifest["threshold"]
    assert threshold == result.threshold
    assert scored["will_churn"].tolist() == (p >= threshold).tolist()
    assert 0 < scored["will_churn"].sum() < len(scored)  # both decisions are exercised
    # float32 columns, as the encoder gives them, are taken too
    assert np.allclose(model.predict(pd.DataFrame(x, columns=names))["churn_probability"].to_numpy(), p)


def test_the_explainer_is_written_with_its_manifest_entry(small_run: Run) -> None:
    result, _, opts = small_run
    manifest = json.loads((opts.out_dir / "manifest.json").read_text())
    text = (opts.out_dir / "explainer.json").read_bytes()
    explainer = json.loads(text)
    assert manifest["explainer"] == {
        "file": "explainer.json", "sha256": hashlib.sha256(text).hexdigest(), "trees": int(result.params["n_rounds"]),
        "referenceCount": len(range(0, manifest["parity"]["count"], 10)), "tolerance": 1e-4}
    assert len(explainer["trees"]) == manifest["explainer"]["trees"]
    assert explainer["reference"]["parityCases"] == list(range(0, manifest["parity"]["count"], 10))
    assert len(explainer["reference"]["contributions"]) == manifest["explainer"]["referenceCount"]
    assert explainer["featureCount"] == len(manifest["featureSpec"]["features"])


def test_run_is_logged_to_mlflow(small_run: Run) -> None:
    result, uri, _ = small_run
    client = MlflowClient(tracking_uri=uri)
    run = client.get_run(result.run_id)
    assert run.data.params == result.params
    assert run.data.metrics["test_roc_auc"] == result.metrics["test_roc_auc"]
    for name in ("test_f1", "test_tp", "cv_roc_auc_mean", "cv_roc_auc_std", "test_brier", "test_log_loss"):
        assert name in run.data.metrics
    assert run.data.tags["dataset_sha256"] == json.loads(
        (small_run[2].out_dir / "manifest.json").read_text())["datasetSha256"]
    assert run.data.tags["dataset_sha256"] == hashlib.sha256(small_run[2].data_path.read_bytes()).hexdigest()
    assert "version.xgboost" in run.data.tags and "git_commit" in run.data.tags
    git_commit = json.loads((small_run[2].out_dir / "manifest.json").read_text())["gitCommit"]
    assert run.data.tags["git_commit"] == (git_commit or "none")
    if git_commit:  # MLflow's own field says the same (it was the entry script's checkout at run start, never -dirty)
        assert run.data.tags[MLFLOW_GIT_COMMIT] == git_commit
    churners = sum(line.endswith(",Yes") for line in small_run[2].data_path.read_text().splitlines())
    sizes = {name: int(value) for name, value in run.data.tags.items() if name.endswith(("_rows", "_churners"))}
    assert sizes["dataset_rows"] == 600 and sizes["dataset_churners"] == churners > 0
    assert sizes["test_rows"] + sizes["train_rows"] == 600 and sizes["fit_rows"] + sizes["validation_rows"] == sizes[
        "train_rows"]
    assert sizes["test_churners"] + sizes["fit_churners"] + sizes["validation_churners"] == churners
    assert sizes["test_churners"] == result.metrics["test_tp"] + result.metrics["test_fn"]
    assert sizes["train_churners"] == sizes["fit_churners"] + sizes["validation_churners"]
    assert len(sizes) == 10
    bundle_files = {a.path for a in client.list_artifacts(result.run_id, "bundle")}
    assert bundle_files == {"bundle/model.onnx", "bundle/manifest.json", "bundle/parity.json", "bundle/explainer.json",
                            "bundle/group_report.json"}
    top = {a.path for a in client.list_artifacts(result.run_id)}
    assert {"feature_spec.json", "onnx", "plots"} <= top
    assert "group_report.json" not in top  # one place only: the bundle's
    plots = {a.path for a in client.list_artifacts(result.run_id, "plots")}
    assert {"plots/roc_curve.png", "plots/calibration.png", "plots/confusion_matrix.json"} <= plots


def test_the_run_records_the_config_it_trained_with(cfg: TrainingConfig, small_run: Run, tmp_path: Path) -> None:
    """Its first artifact, logged before training (which also checks that the store takes a write)."""
    result, uri, _ = small_run
    local = MlflowClient(tracking_uri=uri).download_artifacts(result.run_id, pipeline.CONFIG_ARTIFACT, str(tmp_path))
    assert json.loads(Path(local).read_text()) == json.loads(json.dumps(asdict(cfg)))


def test_the_data_sizes_are_tags_of_the_run_not_fields_of_the_manifest(small_run: Run) -> None:
    """They describe the data the run read; the bundle's manifest is the format docs/model-bundle.md defines,
    and the committed bundle must not change when the pipeline logs more about its data."""
    text = (small_run[2].out_dir / "manifest.json").read_text()
    assert not any(word in text for word in ("_rows", "_churners", "churners"))


def test_run_manifest_artifact_has_no_registration(small_run: Run, tmp_path: Path) -> None:
    result, uri, _ = small_run
    local = MlflowClient(tracking_uri=uri).download_artifacts(result.run_id, "bundle/manifest.json", str(tmp_path))
    assert json.loads(Path(local).read_text())["registeredModel"]["version"] is None


def test_registry_alias_points_at_the_run(small_run: Run) -> None:
    result, uri, opts = small_run
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    version = client.get_model_version_by_alias(opts.registered_model, "champion")
    assert str(version.version) == result.version
    assert version.run_id == result.run_id
    assert version.tags == {"run_id": result.run_id, pipeline.DECISION_TAG: "champion: no champion yet"}
    run = client.get_run(result.run_id).data
    sha, params = run.tags["dataset_sha256"], result.params

    def decide(auc: float, dataset: str = sha, split: dict[str, str] = params, force: bool = False) -> bool:
        return pipeline.champion_decision(client, opts.registered_model, "champion", auc, dataset, split, force).promote

    assert not decide(0.0)
    assert decide(0.0, force=True)
    assert decide(1.0)
    assert decide(result.metrics["test_roc_auc"])  # ties promote, as documented
    # Another data set or another test split: the AUCs are not comparable, so no promotion.
    assert not decide(1.0, dataset="0" * 64)
    assert not decide(1.0, split={**params, "random_state": "7"})
    assert not decide(1.0, split={**params, "test_size": "0.3"})
    assert pipeline.champion_decision(client, opts.registered_model, "no-such-alias", 0.0, sha, params, False).promote


def test_the_same_rows_resaved_are_not_compared_and_the_reason_says_why(small_run: Run, tmp_path: Path) -> None:
    """The data set is identified by the file's sha256: Excel's "CSV UTF-8" (a byte order mark and
    CRLF) reads as the same rows but is another file, and the operator must be told that is why."""
    result, uri, opts = small_run
    resaved = tmp_path / "resaved.csv"
    resaved.write_bytes(b"\xef\xbb\xbf" + opts.data_path.read_bytes().replace(b"\n", b"\r\n"))
    again = load_dataset(resaved)
    assert again.records == load_dataset(opts.data_path).records
    decision = pipeline.champion_decision(MlflowClient(tracking_uri=uri, registry_uri=uri), opts.registered_model,
                                          "champion", 1.0, again.sha256, result.params, False)
    assert not decision.promote
    assert "of the file's bytes: the same rows saved with another line ending or a byte order mark count as " \
           "another file" in decision.reason


def test_a_version_that_does_not_become_champion_leaves_the_bundle_alone(
        cfg: TrainingConfig, small_run: Run, tmp_path: Path) -> None:
    _, uri, opts = small_run
    other = write_csv(synthetic.churn_frame(600, seed=8), tmp_path / "other.csv")  # another data set
    out = tmp_path / "bundle"
    second = pipeline.run_pipeline(cfg, replace(opts, data_path=other, out_dir=out), log=lambda _m: None)
    assert second.version is not None and second.alias is None
    assert second.bundle_dir is None and not out.exists()
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    champion = client.get_model_version_by_alias(opts.registered_model, "champion")
    assert champion.run_id == small_run[0].run_id
    # The reviewer opening the version that lost finds why, not only an absent alias.
    tags = client.get_model_version(opts.registered_model, str(second.version)).tags
    assert tags["run_id"] == second.run_id
    assert tags[pipeline.DECISION_TAG].startswith(
        f"not champion: champion version {champion.version} was trained on another data file (sha256 ")


def test_a_bundle_that_cannot_be_written_leaves_the_champion_alone(
        cfg: TrainingConfig, small_run: Run, tmp_path: Path) -> None:
    """The bundle is written before the alias moves: a failed write must not send gateways that
    follow models:/<name>@champion to a version whose command reported failure."""
    _, uri, opts = small_run
    (tmp_path / "a-file").write_text("x")
    out = tmp_path / "a-file" / "bundle"  # passed to run_pipeline directly: no CLI check in front
    with pytest.raises(pipeline.BundleWriteError, match="champion was not moved"):
        pipeline.run_pipeline(cfg, replace(opts, out_dir=out, force_champion=True), log=lambda _m: None)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    champion = client.get_model_version_by_alias(opts.registered_model, "champion")
    assert champion.run_id == small_run[0].run_id
    newest = max(client.search_model_versions(f"name = '{opts.registered_model}'"), key=lambda v: int(v.version))
    assert int(newest.version) > int(champion.version) and not newest.aliases  # registered, not promoted
    # Chosen (forced) but not made champion: the version's tag must not claim it is.
    assert newest.tags[pipeline.DECISION_TAG].startswith(
        f"not champion: chosen (forced (--force-champion)), not carried out: cannot write the bundle to {out}: ")


def test_same_data_and_seed_give_identical_results(cfg: TrainingConfig, small_csv: Path) -> None:
    first = pipeline.train_and_export(cfg, small_csv, log=lambda _m: None)
    second = pipeline.train_and_export(cfg, small_csv, log=lambda _m: None)
    assert first.metrics == second.metrics
    assert first.onnx_export.model_bytes == second.onnx_export.model_bytes
    assert first.parity_text == second.parity_text
    assert first.explainer.text == second.explainer.text
    assert np.array_equal(first.p_test, second.p_test)


def test_a_later_champion_moves_the_alias_to_its_own_version(
        cfg: TrainingConfig, small_csv: Path, tmp_path: Path) -> None:
    """The alias read back after a second version is promoted: it names that version, not the first."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    opts = PipelineOptions(data_path=small_csv, out_dir=tmp_path / "bundle", experiment="later-churn",
                           registered_model="later-churn", tracking_uri=uri)
    first = pipeline.run_pipeline(cfg, opts, log=lambda _m: None)
    second = pipeline.run_pipeline(cfg, replace(opts, force_champion=True), log=lambda _m: None)
    assert (first.version, first.alias, second.version, second.alias) == ("1", "champion", "2", "champion")
    tags = MlflowClient(tracking_uri=uri, registry_uri=uri).get_model_version("later-churn", "2").tags
    assert tags[pipeline.DECISION_TAG] == "champion: forced (--force-champion)"
    champion = MlflowClient(tracking_uri=uri, registry_uri=uri).get_model_version_by_alias("later-churn", "champion")
    assert (str(champion.version), champion.run_id) == ("2", second.run_id)
    manifest = json.loads((tmp_path / "bundle" / "manifest.json").read_text())
    assert manifest["registeredModel"] == {"name": "later-churn", "version": "2", "alias": "champion"}
    assert manifest["run"]["runId"] == second.run_id
    # The group report is replaced with the rest of the bundle: it names the second run's model.
    report = json.loads((tmp_path / "bundle" / "group_report.json").read_text())
    assert report["bundle"] == {"runId": second.run_id, "onnxSha256": manifest["onnx"]["sha256"]}


def test_a_second_champion_on_a_sqlite_store_is_not_told_another_run_moved_the_alias(
        cfg: TrainingConfig, small_csv: Path, tmp_path: Path) -> None:
    """Two runs in a row, nothing else running: a sqlite store gives the alias's version as the int 1, a REST
    store as "1", and the decision kept the int while the alias read again before the move is a str, so every
    promotion on sqlite printed "(another run moved it)", decided again and rewrote the decision tag."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    opts = PipelineOptions(data_path=small_csv, out_dir=tmp_path / "bundle", experiment="again-churn",
                           registered_model="again-churn", tracking_uri=uri)
    pipeline.run_pipeline(cfg, opts, log=lambda _m: None)
    lines: list[str] = []
    second = pipeline.run_pipeline(cfg, opts, log=lines.append)
    assert (second.version, second.alias) == ("2", "champion")  # same data and seed: equal AUC promotes
    assert not [line for line in lines if "another run moved it" in line]
    assert any("champion moves with the bundle (test ROC AUC" in line and "vs champion version 1's" in line
               for line in lines)
    decision = pipeline.champion_decision(MlflowClient(tracking_uri=uri, registry_uri=uri), "again-churn", "champion",
                                          1.0, load_dataset(small_csv).sha256, second.params, False)
    assert decision.against == "2"


def _hard_delete_run(uri: str, run_id: str) -> None:
    """What an MLflow admin does: delete the run, then `mlflow gc` removes it from the store for good."""
    MlflowClient(tracking_uri=uri).delete_run(run_id)
    subprocess.run([str(Path(sys.executable).parent / "mlflow"), "gc", "--backend-store-uri", uri, "--run-ids", run_id],
                   check=True, capture_output=True, timeout=300)


def test_a_champion_whose_run_was_hard_deleted_stops_training_up_front_and_says_what_to_do(
        cfg: TrainingConfig, small_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every later training failed at the comparison, after training, with 'Run ... not found' and no
    hint. It is found before training now (exit 2: nothing trained, logged or registered, the alias not
    moved), names the version and its run, and --force-champion gets past it."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    out = tmp_path / "bundle"
    opts = PipelineOptions(data_path=small_csv, out_dir=out, experiment="gone", registered_model="gone",
                           tracking_uri=uri)
    first = pipeline.run_pipeline(cfg, opts, log=lambda _m: None)
    _hard_delete_run(uri, first.run_id)
    before = {f.name: f.read_bytes() for f in out.iterdir()}
    args = ["--data", str(small_csv), "--out", str(out), "--tracking-uri", uri, "--experiment", "gone",
            "--registered-model", "gone"]
    code, stdout, err, _ = run_cli(args, capsys)
    assert code == 2 and "[2/" not in stdout
    assert err.splitlines()[-1] == (
        f"error: champion names gone version 1, whose MLflow run {first.run_id} is no longer in the tracking store "
        "(deleted and removed for good, e.g. by mlflow gc), so its test ROC AUC cannot be compared with a new "
        "version's; rerun with --force-champion to make the new version champion, or first point champion at a "
        "version whose run exists (MlflowClient().set_registered_model_alias('gone', 'champion', '<version>')); "
        "champion was not moved; nothing was trained, logged or registered")
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    assert [str(v.version) for v in client.search_model_versions("name = 'gone'")] == ["1"]
    experiment = client.get_experiment_by_name("gone")
    assert experiment is not None and client.search_runs([experiment.experiment_id]) == []  # no run started
    assert {f.name: f.read_bytes() for f in out.iterdir()} == before
    assert cli.main([*args, "--force-champion"]) == 0
    assert str(client.get_model_version_by_alias("gone", "champion").version) == "2"


def test_a_champion_run_deleted_while_training_registers_nothing(
        cfg: TrainingConfig, small_csv: Path, tmp_path: Path) -> None:
    """The check before training passed; the run went during training (another admin's mlflow gc): no
    version is registered without a decision, no bundle written, the alias not moved, and the line says so."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    out = tmp_path / "bundle"
    opts = PipelineOptions(data_path=small_csv, out_dir=out, experiment="gone-late", registered_model="gone-late",
                           tracking_uri=uri)
    first = pipeline.run_pipeline(cfg, opts, log=lambda _m: None)
    before = {f.name: f.read_bytes() for f in out.iterdir()}

    def log(message: str) -> None:
        if message.startswith("[5/"):  # after the check, before the comparison
            _hard_delete_run(uri, first.run_id)

    with pytest.raises(RunFailedError) as err:
        pipeline.run_pipeline(cfg, opts, log=log)
    text = str(err.value)
    assert text.startswith(f"champion names gone-late version 1, whose MLflow run {first.run_id} is no longer in ")
    assert re.search(r"champion was not moved; run \w+ is FINISHED with the model logged \(models:/m-\w+\); "
                     rf"nothing was registered, the bundle in {re.escape(str(out))} was not written$", text), text
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    assert [str(v.version) for v in client.search_model_versions("name = 'gone-late'")] == ["1"]
    assert {f.name: f.read_bytes() for f in out.iterdir()} == before


def _train_in_repo(cfg: TrainingConfig, small_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                   root: Path, during: Callable[[], None] = lambda: None, config: Path | None = None
                   ) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """A --no-register run whose training code is the checkout `root` (a real git repository, or not), calling
    `during` once training has started ("[3/" printed), with the config file `config` (default: `root`'s
    model/config.toml, written with the real config's bytes if `root` has none). Its manifest, its MLflow run's tags,
    its log lines."""
    monkeypatch.setattr(pipeline, "REPO_ROOT", root)
    if config is None:
        config = root / "model" / "config.toml"
        if not config.exists():
            config.parent.mkdir(parents=True, exist_ok=True)
            config.write_bytes(DEFAULT_CONFIG_PATH.read_bytes())
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    opts = PipelineOptions(data_path=small_csv, out_dir=tmp_path / "bundle", experiment="lineage",
                           registered_model="lineage", register=False, tracking_uri=uri, config=ConfigFile.read(config))
    lines: list[str] = []

    def log(message: str) -> None:
        lines.append(message)
        if message.startswith("[3/"):
            during()

    result = pipeline.run_pipeline(cfg, opts, log=log)
    manifest = json.loads((opts.out_dir / "manifest.json").read_text())
    return manifest, MlflowClient(tracking_uri=uri).get_run(result.run_id).data.tags, lines


def test_a_commit_made_during_training_does_not_get_the_credit(
        cfg: TrainingConfig, small_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """gitCommit is HEAD when training starts (with createdAt), not when the manifest is written: a config change
    committed mid-run used to be credited, clean, with the model the old config trained. Now the start's commit,
    marked -dirty, with a warning line; the MLflow tag git_commit is the same."""
    root = tmp_path / "checkout"
    root.mkdir()
    head = make_repo(root)

    def commit_a_change() -> None:
        (root / "model" / "config.toml").write_text("[xgboost]\nmax_depth = 4\n")
        git(root, "commit", "-q", "-am", "deeper trees")

    manifest, tags, lines = _train_in_repo(cfg, small_csv, tmp_path, monkeypatch, root, commit_a_change)
    assert git(root, "rev-parse", "HEAD") != head  # the commit was made during the run
    assert manifest["gitCommit"] == f"{head}-dirty"
    assert tags["git_commit"] == manifest["gitCommit"]
    assert tags[MLFLOW_GIT_COMMIT] == manifest["gitCommit"]  # MLflow's own field (its UI's "Git commit") agrees
    assert [line for line in lines if "warning" in line] == [
        f"  warning: HEAD or the training sources changed during the run (HEAD {head} at the start, "
        # the new HEAD holds another model/config.toml than the run read: it is not this run's commit either
        f"{git(root, 'rev-parse', 'HEAD')}-dirty now): gitCommit is recorded as {head}-dirty"]


def test_an_unchanged_checkout_is_credited_clean(
        cfg: TrainingConfig, small_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "checkout"
    root.mkdir()
    head = make_repo(root)
    (root / "README.md").write_text("edited notes\n")  # not training code
    manifest, tags, lines = _train_in_repo(cfg, small_csv, tmp_path, monkeypatch, root)
    assert manifest["gitCommit"] == tags["git_commit"] == tags[MLFLOW_GIT_COMMIT] == head
    assert not [line for line in lines if "warning" in line]
    sha = hashlib.sha256(DEFAULT_CONFIG_PATH.read_bytes()).hexdigest()
    assert manifest["config"] == {"sha256": sha, "path": "model/config.toml"}
    assert (tags["config_sha256"], tags["config_path"]) == (sha, "model/config.toml")


def test_a_config_from_outside_the_checkout_is_not_credited_to_a_clean_commit(
        cfg: TrainingConfig, small_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--config` naming a file outside the checkout: an auditor training at gitCommit would read model/config.toml,
    not this file, so the commit is -dirty with a warning naming the config (as for an edited model/config.toml);
    the manifest and the MLflow run record the config's sha256, the run its path, the manifest no path."""
    root = tmp_path / "checkout"
    root.mkdir()
    head = make_repo(root)
    outside = tmp_path / "trial.toml"
    outside.write_bytes(DEFAULT_CONFIG_PATH.read_bytes())  # the same settings, but no checkout holds this file
    manifest, tags, lines = _train_in_repo(cfg, small_csv, tmp_path, monkeypatch, root, config=outside)
    assert manifest["gitCommit"] == tags["git_commit"] == tags[MLFLOW_GIT_COMMIT] == f"{head}-dirty"
    assert [line for line in lines if "warning" in line] == [
        f"  warning: the config {outside} is outside the checkout {root}: gitCommit will be {head}-dirty, "
        "which no checkout reproduces"]
    sha = hashlib.sha256(outside.read_bytes()).hexdigest()
    assert manifest["config"] == {"sha256": sha, "path": None}
    assert (tags["config_sha256"], tags["config_path"]) == (sha, str(outside))


def test_training_outside_git_warns_and_records_no_commit(
        cfg: TrainingConfig, small_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "export"  # the code without its .git
    root.mkdir()
    manifest, tags, lines = _train_in_repo(cfg, small_csv, tmp_path, monkeypatch, root)
    assert manifest["gitCommit"] is None and tags["git_commit"] == "none"
    assert [line for line in lines if "warning" in line] == [
        f"  warning: {root} is not a git checkout (or git cannot read it): the manifest's gitCommit will be null "
        "(MLflow tag git_commit 'none'), so the model will name no training code"]
    assert set(manifest["libraryVersions"]) >= {"skl2onnx", "scipy", "protobuf", "xgboost", "onnxmltools"}
