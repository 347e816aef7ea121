"""Orchestrator: data -> features -> train -> evaluate -> export -> bundle -> MLflow.

Returns: `run_pipeline(...)` -> `PipelineResult` (metrics, params, threshold, run id,
registered version/alias, bundle path). With `mlflow_errors.py` (the run's start and end, each
call's failure as one line saying what state is left) and `publish.py` (bundle and alias), the
only module that talks to MLflow: it checks the tracking store before anything else
(`check_tracking_store`), starts the run once the data is valid and logs the training config as
its first artifact, which is also the check that the artifact store takes a write
(`log_training_config`), all before training; then it logs params, metrics, tags, plots, the
ONNX model, the feature spec and the whole bundle (artifact path `bundle/`, its group report
`group_report.json` included), logs the xgboost model, registers it, and writes the bundle to
`--out` and moves the champion alias together (`publish`: the bundle staged, the alias moved,
the bundle swapped in).
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import platform
import re
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import mlflow
import numpy as np
import pandas as pd
import xgboost as xgb
from mlflow.entities import Run, RunInfo
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature
from mlflow.models.model import ModelInfo
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_GIT_COMMIT

from churn_model import (bundle, evaluate, explain, export, features, group_report, pyfunc_model, schema, synthetic,
                         train)
from churn_model.config import DEFAULT_CONFIG_PATH, MODEL_DIR, REPO_ROOT, ConfigFile, TrainingConfig, load_config
from churn_model.data import Dataset, load_dataset
from churn_model.interrupt import INTERRUPTED, Interrupted, Progress, sigint_ignored
from churn_model.lineage import SourceState, config_path_in
from churn_model.mlflow_errors import AUTH_STATUSES as _AUTH_STATUSES
from churn_model.mlflow_errors import CHECK_HTTP_ENV as _CHECK_HTTP_ENV
from churn_model.mlflow_errors import environ as _environ
from churn_model.mlflow_errors import (MlflowRunError, RunFailedError, RunNotedError, best_effort, logging_step, step,
                                      tracked_run)
from churn_model.mlflow_errors import why as _why
from churn_model.publish import BundleWriteError as BundleWriteError
from churn_model.publish import ChampionDecision as ChampionDecision
from churn_model.publish import Publishing, Superseded, alias_version, move_back, publish

Log = Callable[[str], None]
STEPS = 6


@dataclass(frozen=True)
class PipelineOptions:
    data_path: Path
    out_dir: Path
    experiment: str
    registered_model: str
    force_champion: bool = False
    register: bool = True
    tracking_uri: str | None = None
    # The file `cfg` was parsed from, as read (cli); None: model/config.toml, read when the run starts.
    config: ConfigFile | None = None


@dataclass(frozen=True)
class PipelineResult:
    metrics: dict[str, float]
    params: dict[str, str]
    threshold: float
    medium_from: float
    run_id: str
    version: str | None
    alias: str | None
    # Where the bundle was written; None when the new version did not become champion, so the
    # bundle the gateway serves (model/bundle by default) was left as it was.
    bundle_dir: Path | None


TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"
LOCAL_TRACKING_DB = MODEL_DIR / "mlflow.db"


class TrackingStoreError(RuntimeError):
    """The MLflow tracking store cannot be used; found before training (a usage error)."""


def default_tracking_uri() -> str:
    """$MLFLOW_TRACKING_URI, or the local store model/mlflow.db when it is unset. Set but empty
    (`MLFLOW_TRACKING_URI=$MLFLOW_URL` with MLFLOW_URL unset, as a scheduled retrain may set it) is a
    TrackingStoreError, as `--tracking-uri ''` is a usage error: it used to mean the local store
    without a word, so the run (and a first "champion" bundle) went to a throwaway store."""
    value = os.environ.get(TRACKING_URI_ENV)
    if value is None:
        return f"sqlite:///{LOCAL_TRACKING_DB}"
    if not value.strip():
        raise TrackingStoreError(f"{TRACKING_URI_ENV} is set but empty; unset it to use {LOCAL_TRACKING_DB} "
                                 "or set it to the tracking store")
    return value


# `host:port` with the scheme forgotten (`127.0.0.1:5000`, `mlflow:5000`): MLflow would take it for
# a file-store path or an unknown scheme and fail only when the trained model is logged.
_SERVER_WITHOUT_SCHEME = re.compile(r"^[A-Za-z0-9.-]+:[0-9]+(/.*)?$")
_CREDENTIALS_TODO = ("set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (or MLFLOW_TRACKING_TOKEN) to an "
                     "account of this server that may use the experiment")


def check_tracking_store(tracking_uri: str) -> None:
    """Raise TrackingStoreError unless one cheap call (search one experiment) to the store
    succeeds within seconds. Run before training: every run logs to MLflow (`--no-register`
    too), and a store found broken only afterwards costs the run and ends in a traceback."""
    hint = "--tracking-uri or MLFLOW_TRACKING_URI"
    if _SERVER_WITHOUT_SCHEME.match(tracking_uri):
        raise TrackingStoreError(f"MLflow tracking URI {tracking_uri!r} has no scheme: for a tracking server "
                                 f"set {hint} to http://{tracking_uri}")
    try:
        parts = urlparse(tracking_uri)
    except ValueError as err:  # `http://[::1` (Invalid IPv6 URL), a bracketed host that is no address
        raise TrackingStoreError(f"MLflow tracking URI {tracking_uri!r} is not a valid URI: {err}; check {hint}") from err
    if not parts.scheme and tracking_uri != "databricks":  # MLflow's one scheme-less name
        raise TrackingStoreError(f"MLflow tracking URI {tracking_uri!r} has no scheme: set {hint} to "
                                 "sqlite:///<path>/mlflow.db for a local store or http(s)://host:port for a server")
    if parts.scheme == "sqlite" and parts.path.removeprefix("/") in ("", ":memory:"):
        # `sqlite:///$DB` with DB unset: SQLAlchemy opens a database that is gone when the process
        # ends, so the run and the registered version would be lost while the bundle claims them.
        raise TrackingStoreError(f"MLflow tracking URI {tracking_uri!r} names no database file: the run and its model "
                                 "version would be kept in memory and lost when training ends; set "
                                 f"{hint} to sqlite:///<path>/mlflow.db")
    try:
        with _environ(_CHECK_HTTP_ENV):
            MlflowClient(tracking_uri=tracking_uri).search_experiments(max_results=1)
    except Exception as err:  # whatever the store's failure (HTTP, sqlite, unknown scheme), it is this one line
        if parts.scheme == "file" and "MLFLOW_ALLOW_FILE_STORE=true" in str(err):
            # MLflow 3 refuses its file store (`file:./mlruns`, MLflow 2's default) unless told to keep
            # it, in a paragraph that `_why` cuts before its last sentence, the one naming the opt-out.
            # Read from MLflow's refusal, not the variable: MLflow alone decides what value keeps it
            # (one it cannot read, `yes`, is its own error, which names the variable but not `=true`).
            raise TrackingStoreError(
                f"MLflow tracking URI {tracking_uri!r} is a file store, which MLflow {mlflow.__version__} refuses (in "
                f"maintenance mode since MLflow 3): for the local store {LOCAL_TRACKING_DB} leave {hint} unset, or "
                "set it to sqlite:///<path>/mlflow.db, or to http(s)://host:port for a server; "
                "MLFLOW_ALLOW_FILE_STORE=true is MLflow's own way to keep the file store") from err
        why = _why(err)
        if any(f"({reason})" in why for reason in _AUTH_STATUSES.values()):
            todo = _CREDENTIALS_TODO
        elif parts.scheme in ("http", "https"):
            todo = f"start the server or set {hint} to a running one"
        else:
            todo = f"check {hint}"
        raise TrackingStoreError(f"MLflow tracking store {tracking_uri} cannot be used: {why}; {todo}") from err


class ArtifactStoreError(RunNotedError):
    """The run's MLflow artifact store cannot take a write; found before training (a usage error).
    Its text is already the run's description when raised."""


# The run's first artifact, logged before training: the config it trains with, as parsed.
CONFIG_ARTIFACT = "training_config.json"
# For that first write only: a couple of quick retries (a dropped keep-alive connection), not
# MLflow's 7 with doubling backoff, which take about 4 minutes to give up on a tracking server
# whose own artifact store fails (HTTP 500). Later artifacts keep MLflow's defaults.
_FIRST_ARTIFACT_HTTP_ENV = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
                            "MLFLOW_HTTP_REQUEST_TIMEOUT": "10"}


def _artifact_store_todo(artifact_uri: str, tracking_uri: str) -> str:
    if urlparse(artifact_uri).scheme in ("mlflow-artifacts", "http", "https"):
        return ("the tracking server stores this run's artifacts: make its --artifacts-destination writable "
                "(the server's log says more)")
    if urlparse(tracking_uri).scheme in ("http", "https"):
        return ("this machine writes the artifacts itself (the tracking server does not serve them): make the "
                "location writable from here (folder, cloud-storage credentials and client library) or start the "
                "server with --serve-artifacts")
    return "make the location writable from this machine"


def log_training_config(cfg: TrainingConfig, run: RunInfo, tracking_uri: str, staging: Path) -> None:
    """Log the active run's (`run`) first artifact, the training config (`training_config.json`). Run
    before training: it records the config from the start, and it is the check that the run's
    artifact store takes a write, so a store that cannot (a path under a file, a bucket without
    credentials, a server whose --artifacts-destination fails) does not cost a training run and
    end in a traceback. Raises ArtifactStoreError, after setting the reason as the run's
    description; the caller's `mlflow.start_run` block then ends the run FAILED."""
    config_file = staging / CONFIG_ARTIFACT
    config_file.write_text(json.dumps(dataclasses.asdict(cfg), sort_keys=True, indent=2) + "\n")
    try:
        with _environ(_FIRST_ARTIFACT_HTTP_ENV):
            mlflow.log_artifact(str(config_file))
    except Exception as err:  # whatever the store's failure (OS, HTTP, a missing boto3), it is this one line
        message = (f"MLflow artifact store {run.artifact_uri} cannot be written: {_why(err)}; nothing was "
                   f"trained (run {run.run_id} ends FAILED); " + _artifact_store_todo(run.artifact_uri, tracking_uri))
        with contextlib.suppress(Exception), _environ(_CHECK_HTTP_ENV):  # the reason, where an operator looks
            mlflow.set_tag("mlflow.note.content", message)
        raise ArtifactStoreError(message) from err


def library_versions() -> dict[str, str]:
    """The installed versions of the libraries that train, convert, check and score the model (skl2onnx: the
    ONNX export's converters beside onnxmltools'; scipy: the metrics; protobuf: what writes the ONNX file)."""
    import importlib.metadata as md

    import onnx
    import onnxruntime
    import pandas
    import scipy
    import sklearn
    return {"python": platform.python_version(), "xgboost": xgb.__version__, "onnx": onnx.__version__,
            "onnxruntime": onnxruntime.__version__, "onnxmltools": md.version("onnxmltools"),
            "skl2onnx": md.version("skl2onnx"), "mlflow": mlflow.__version__, "scikit-learn": sklearn.__version__,
            "pandas": pandas.__version__, "numpy": np.__version__, "scipy": scipy.__version__,
            "protobuf": md.version("protobuf")}


def _fit(cfg: TrainingConfig, hyper: dict[str, Any], x: np.ndarray, y: np.ndarray, split: train.Split, log: Log
         ) -> tuple[xgb.XGBClassifier, dict[str, Any]]:
    params = train.model_params(hyper, y[split.fit], cfg.split.random_state)
    model = train.fit_model(x[split.fit], y[split.fit], x[split.validation], y[split.validation],
                            params, cfg.early_stopping_rounds, cfg.eval_metric)
    log(f"  fit {len(split.fit)} rows, validation {len(split.validation)}, test {len(split.test)}; "
        f"best iteration {model.best_iteration}")
    return model, params


def _params(cfg: TrainingConfig, params: dict[str, Any], model: xgb.XGBClassifier, n_features: int,
            rule: str) -> dict[str, str]:
    logged = {k: str(v) for k, v in params.items()}
    logged.update(best_iteration=str(model.best_iteration), n_rounds=str(model.best_iteration + 1),
                  refit_on_training_part=str(cfg.refit_on_training_part),
                  early_stopping_rounds=str(cfg.early_stopping_rounds), eval_metric=cfg.eval_metric,
                  test_size=str(cfg.split.test_size), validation_size=str(cfg.split.validation_size),
                  cv_folds=str(cfg.split.cv_folds), n_features=str(n_features), threshold_rule=rule,
                  medium_from_fraction=str(cfg.threshold.medium_from_fraction))
    return dict(sorted(logged.items()))


def _export(cfg: TrainingConfig, model: xgb.XGBClassifier, spec: features.FeatureSpec,
            x_test: np.ndarray, log: Log) -> tuple[export.OnnxExport, str, int, float, explain.Explainer]:
    onnx_export = export.to_onnx(model, x_test.shape[1], cfg.export.opset)
    cases = synthetic.parity_customers(cfg.export.parity_count, cfg.export.parity_seed)
    x_cases = features.encode_records(cases, spec)
    delta = max(export.check_parity(onnx_export, model, x_test, cfg.export.tolerance),
                export.check_parity(onnx_export, model, x_cases, cfg.export.tolerance))
    log(f"  ONNX opset {onnx_export.opset}; parity on {len(x_test)} test rows + {len(cases)} generated "
        f"customers: max |dp| = {delta:.3g} (tolerance {cfg.export.tolerance:g})")
    probs = export.xgboost_probabilities(model, x_cases).tolist()
    started = time.monotonic()
    explainer = explain.build_explainer(model, x_test, x_cases)
    log(f"  explainer: {explainer.tree_count} trees walk to xgboost's margins on the test rows and generated "
        f"customers (max |delta| {explainer.max_margin_delta:.3g}, tolerance {explain.MARGIN_TOLERANCE:g}); SHAP "
        f"reference for {explainer.reference_count} parity cases sums to their margins (max |delta| "
        f"{explainer.max_reference_delta:.3g}, tolerance {explain.REFERENCE_SUM_TOLERANCE:g}); "
        f"{len(explainer.text.encode()):,} bytes in {time.monotonic() - started:.2f} s")
    return onnx_export, bundle.parity_json(cases, probs, cfg.export.tolerance), len(cases), delta, explainer


@dataclass(frozen=True)
class Evaluated:
    """Steps 2-4 on one dataset: the fitted model and its held-out metrics (no export yet)."""
    spec: features.FeatureSpec
    model: xgb.XGBClassifier
    x_test: np.ndarray
    p_test: np.ndarray
    y_test: np.ndarray
    params: dict[str, str]
    metrics: dict[str, float]
    threshold: float
    threshold_rule: str
    # Rows and churners of the file and of each part of the split (`data_size_tags`), for the run's
    # tags only: they describe the data, and the manifest stays as docs/model-bundle.md defines it.
    data_sizes: dict[str, int]


def data_sizes(y: np.ndarray, split: train.Split) -> dict[str, int]:
    """Rows and churners of the whole file and of each part: train (fit + validation, what the refit and
    CV use), fit, validation, test."""
    parts = {"dataset": np.arange(len(y)), "train": split.train, "fit": split.fit, "validation": split.validation,
             "test": split.test}
    sizes: dict[str, int] = {}
    for part, rows in parts.items():
        sizes[f"{part}_rows"] = len(rows)
        sizes[f"{part}_churners"] = int(y[rows].sum())
    return sizes


@dataclass(frozen=True)
class TrainedModel(Evaluated):
    """Steps 1-5, everything computed before MLflow is touched: the evaluated model, its data
    and its ONNX export (metrics include the parity check's)."""
    dataset: Dataset
    medium_from: float
    onnx_export: export.OnnxExport
    parity_text: str
    parity_count: int
    explainer: explain.Explainer


def fit_and_evaluate(cfg: TrainingConfig, dataset: Dataset, log: Log, cross_validate: bool = True) -> Evaluated:
    """Steps 2-4: split, features, fit (threshold on validation, refit), evaluate on the test split.

    `cross_validate=False` leaves out the CV ROC AUC (its metrics are then absent): the split
    study (split_study.py) runs this many times and reads only the test metrics.
    """
    log(f"[2/{STEPS}] features: building the feature spec and encoding")
    y = np.asarray(dataset.labels, dtype=np.int64)
    split = train.split_indices(y, cfg.split)
    # The spec's observed ranges come from the training part only: nothing about the test
    # split reaches the bundle except the metrics measured on it.
    spec = features.build_feature_spec([dataset.records[i] for i in split.train], cfg.ratio_features)
    x = features.encode_records(dataset.records, spec)
    log(f"  {x.shape[1]} features (float32)")
    log(f"[3/{STEPS}] train: XGBoost with early stopping, threshold on validation, {cfg.split.cv_folds}-fold CV")
    hyper = train.hyperparameters(cfg.xgboost, cfg.monotone_constraints, features.feature_names(spec))
    early_stopped, params = _fit(cfg, hyper, x, y, split, log)
    n_rounds = early_stopped.best_iteration + 1
    shift = train.prior_correct(early_stopped) if cfg.prior_correction else None  # threshold on the served scale
    p_val = export.xgboost_probabilities(early_stopped, x[split.validation])
    threshold = train.choose_threshold(y[split.validation], p_val, cfg.threshold)
    model = early_stopped
    if cfg.refit_on_training_part:
        model = train.refit_model(x[split.train], y[split.train], hyper, n_rounds, cfg.split.random_state)
        params = train.model_params(hyper, y[split.train], cfg.split.random_state) | {"n_estimators": n_rounds}
        log(f"  refit on the whole training part ({len(split.train)} rows) with {n_rounds} rounds")
        if cfg.prior_correction:
            shift = train.prior_correct(model)
    if shift is not None:
        params = params | {"prior_correction_logit_shift": shift}
        log(f"  prior correction: log-odds shifted by {shift:.4f} (-log scale_pos_weight)")
    metrics: dict[str, float] = {}
    if cross_validate:
        cv_mean, cv_std = train.cross_validate_auc(x[split.train], y[split.train], hyper, n_rounds, cfg.split)
        metrics.update(cv_roc_auc_mean=cv_mean, cv_roc_auc_std=cv_std)
        log(f"  threshold {threshold:g}; CV ROC AUC {cv_mean:.4f} ± {cv_std:.4f} "
            f"(std over the {cfg.split.cv_folds} folds, population std, ddof=0)")
    log(f"[4/{STEPS}] evaluate: held-out test split")
    p_test = export.xgboost_probabilities(model, x[split.test])
    metrics.update(evaluate.test_metrics(y[split.test], p_test, threshold))
    val = evaluate.test_metrics(y[split.validation], p_val, threshold)
    metrics.update(threshold=threshold, validation_f1=val["test_f1"], validation_roc_auc=val["test_roc_auc"])
    log(f"  test ROC AUC {metrics['test_roc_auc']:.4f} (95% CI {metrics['test_roc_auc_ci95_low']:.4f}–"
        f"{metrics['test_roc_auc_ci95_high']:.4f}), F1 {metrics['test_f1']:.4f}")
    rule = train.threshold_rule_text(cfg.threshold)
    return Evaluated(spec=spec, model=model, x_test=x[split.test], p_test=p_test, y_test=y[split.test],
                     params=_params(cfg, params, early_stopped, x.shape[1], rule),
                     metrics=dict(sorted(metrics.items())), threshold=threshold, threshold_rule=rule,
                     data_sizes=data_sizes(y, split))


def load_data(data_path: Path, log: Log) -> Dataset:
    """Step 1: read and validate the CSV (DataValidationError lists every problem)."""
    log(f"[1/{STEPS}] data: loading and validating {data_path}")
    dataset = load_dataset(data_path)
    log(f"  {len(dataset.records)} valid rows, churn rate {np.mean(dataset.labels):.4f}, sha256 {dataset.sha256[:12]}…")
    return dataset


def train_and_export(cfg: TrainingConfig, data_path: Path, log: Log) -> TrainedModel:
    """Steps 1-5: everything up to (not including) MLflow and the bundle files."""
    return export_trained(cfg, load_data(data_path, log), log)


def export_trained(cfg: TrainingConfig, dataset: Dataset, log: Log) -> TrainedModel:
    """Steps 2-5 on validated data: fit, evaluate, export to ONNX and check parity."""
    ev = fit_and_evaluate(cfg, dataset, log)
    log(f"[5/{STEPS}] export: ONNX + parity check, explainer")
    onnx_export, parity_text, count, delta, explainer = _export(cfg, ev.model, ev.spec, ev.x_test, log)
    evaluated = {f.name: getattr(ev, f.name) for f in fields(ev)}
    return TrainedModel(**(evaluated | {"metrics": dict(sorted((ev.metrics | {"parity_max_abs_diff": delta}).items()))}),
                        dataset=dataset, medium_from=train.medium_from(ev.threshold, cfg.threshold),
                        onnx_export=onnx_export, parity_text=parity_text, parity_count=count, explainer=explainer)


def _experiment_id(client: MlflowClient, name: str, tracking_uri: str) -> str:
    """Existing experiment id, or a new one; local sqlite stores keep artifacts in ./mlruns beside the DB."""
    with step(f"looking up experiment {name!r}", lambda: "nothing was trained or logged"):
        existing = client.get_experiment_by_name(name)
    if existing is not None:
        if existing.lifecycle_stage == "deleted":  # in MLflow's trash: the name is taken and no run can start in it
            raise TrackingStoreError(
                f"MLflow experiment {name!r} (id {existing.experiment_id}) in {tracking_uri} is deleted: restore it "
                f"(mlflow experiments restore --experiment-id {existing.experiment_id}) or choose another with "
                "--experiment")
        return existing.experiment_id
    location = None
    if tracking_uri.startswith("sqlite:///"):
        location = (Path(tracking_uri.removeprefix("sqlite:///")).parent / "mlruns").resolve().as_uri()
    with step(f"creating experiment {name!r}", lambda: "nothing was trained or logged"):
        return client.create_experiment(name, artifact_location=location)


def _manifest(cfg: TrainingConfig, trained: TrainedModel, run: bundle.RunInfo, model_name: str,
              created_at: str, commit: str | None, config: ConfigFile) -> bundle.Manifest:
    return bundle.build_manifest(
        run=run, model_name=model_name, created_at=created_at, git_commit=commit,
        config={"sha256": config.sha256, "path": config_path_in(REPO_ROOT, config)},
        dataset_sha256=trained.dataset.sha256, library_versions=library_versions(),
        params=trained.params, metrics=trained.metrics, threshold=trained.threshold,
        threshold_rule=trained.threshold_rule, medium_from=trained.medium_from,
        onnx_sha256=bundle.sha256_hex(trained.onnx_export.model_bytes),
        input_name=trained.onnx_export.input_name, output_name=trained.onnx_export.output_name,
        opset=trained.onnx_export.opset, parity_sha256=bundle.sha256_hex(trained.parity_text.encode()),
        parity_count=trained.parity_count, tolerance=cfg.export.tolerance, explainer=trained.explainer,
        feature_spec=trained.spec)


def _log_artifacts(trained: TrainedModel, manifest: bundle.Manifest, staging: Path) -> str:
    """Log the run's artifacts: the bundle (`bundle/`, its five files), its model.onnx again (`onnx/`), the feature
    spec and the plots. Returns group_report.json's text, which the published bundle holds too."""
    # The bundle, by demographic group (group_report.py), from the manifest and model.onnx it is written with: its
    # metrics are this run's, not re-checked. It goes into the bundle, so it is logged and published with it.
    groups = group_report.report(trained.dataset, group_report.BundleModel.of_files(
        bundle.manifest_json(manifest), trained.onnx_export.model_bytes), check_evaluation=False)
    report_text = group_report.report_json(groups)
    bundle_dir = bundle.write_bundle(staging / "bundle", trained.onnx_export.model_bytes, manifest,
                                     trained.parity_text, trained.explainer.text, report_text)
    mlflow.log_artifacts(str(bundle_dir), artifact_path="bundle")
    mlflow.log_artifact(str(bundle_dir / bundle.MODEL_FILE), artifact_path="onnx")
    spec_file = staging / "feature_spec.json"
    spec_file.write_text(json.dumps(trained.spec, sort_keys=True, indent=2) + "\n")
    mlflow.log_artifact(str(spec_file))
    for plot in evaluate.write_plots(trained.y_test, trained.p_test, trained.threshold, staging / "plots"):
        mlflow.log_artifact(str(plot), artifact_path="plots")
    return report_text


def _log_model(trained: TrainedModel) -> str:
    """Log the pyfunc model (pyfunc_model.py): P(churn) and the decision at the run's threshold, as the
    bundle gives them; the booster is its artifact. Its input example is five test rows named as the
    feature spec names them, and its signature is inferred from what the model returns for them."""
    names = features.feature_names(trained.spec)
    example = pd.DataFrame(trained.x_test[:5].astype(np.float64), columns=names)
    scorer = pyfunc_model.ChurnModel()
    scorer.model, scorer.features, scorer.threshold = trained.model, names, trained.threshold
    with tempfile.TemporaryDirectory() as tmp:
        booster, decision = Path(tmp) / "booster.json", Path(tmp) / "decision.json"
        trained.model.save_model(booster)
        settings = {pyfunc_model.THRESHOLD_KEY: trained.threshold, pyfunc_model.FEATURES_KEY: names}
        decision.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
        # Its progress messages ("Validating input example against model signature") with ours: stderr is for the error.
        with contextlib.redirect_stderr(sys.stdout):
            info: ModelInfo = mlflow.pyfunc.log_model(  # documented to return ModelInfo; unannotated in mlflow
                name="model", python_model=pyfunc_model.__file__,
                artifacts={pyfunc_model.BOOSTER_ARTIFACT: str(booster), pyfunc_model.DECISION_ARTIFACT: str(decision)},
                input_example=example, signature=infer_signature(example, scorer.predict(None, example)),
                pip_requirements=[f"xgboost-cpu=={xgb.__version__}", f"numpy=={np.__version__}",
                                  f"pandas=={pd.__version__}"])
    return info.model_uri


# The model version tag recording whether it was made champion and why (`decision_tag_value`).
DECISION_TAG = "champion_decision"


def decision_tag_value(decision: ChampionDecision, alias: str) -> str:
    """`champion: <reason>` or `not champion: <reason>`, as a reviewer opening the version reads it."""
    return f"{'' if decision.promote else 'not '}{alias}: {decision.reason}"


def _retag_decision(name: str, version: str, value: str) -> None:
    """Rewrite the version's DECISION_TAG (set when it was created) after the decision changed or was
    not carried out; best effort, as the command is already ending on what it reports."""
    best_effort(lambda: MlflowClient().set_model_version_tag(name, version, DECISION_TAG, value))


class ChampionRunMissingError(RuntimeError):
    """The version the alias names has a run the tracking store no longer holds (hard-deleted): its
    test ROC AUC cannot be read, so no comparison can decide, and the alias is not moved on a guess."""


# What makes two runs' test ROC AUCs comparable: the same data set and the same test split.
SPLIT_PARAMS = ("test_size", "random_state")


def champion_run(client: MlflowClient, name: str, alias: str) -> tuple[ModelVersion, Run | None] | None:
    """The version `name@alias` names and its run (None: the version records none); None when there is no
    such model or alias. Raises ChampionRunMissingError when the version names a run that is gone."""
    try:
        current = client.get_model_version_by_alias(name, alias)
    except MlflowException as err:
        # No model / no alias. MLflow answers a name it refuses with INVALID_PARAMETER_VALUE too: the config and
        # the command line check the name first (config.registered_model_problem), so that is not read as "none".
        if err.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return None
        raise
    if not current.run_id:
        return current, None
    try:
        return current, client.get_run(current.run_id)
    except MlflowException as err:
        if err.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
        raise ChampionRunMissingError(
            f"{alias} names {name} version {current.version}, whose MLflow run {current.run_id} is no longer in the "
            f"tracking store (deleted and removed for good, e.g. by mlflow gc), so its test ROC AUC cannot be "
            f"compared with a new version's; rerun with --force-champion to make the new version {alias}, or first "
            f"point {alias} at a version whose run exists (MlflowClient().set_registered_model_alias({name!r}, "
            f"{alias!r}, '<version>')); {alias} was not moved") from err


def champion_decision(client: MlflowClient, name: str, alias: str, auc: float, dataset_sha256: str,
                      params: dict[str, str], force: bool) -> ChampionDecision:
    """Promote when forced, when there is no champion yet, or when `auc` >= the champion's
    test_roc_auc measured on the same data set and test split. A champion trained on other
    data (or split) is not compared: its AUC comes from a different test set. A champion whose
    run is gone is ChampionRunMissingError (no decision without `force`)."""
    if force:
        return ChampionDecision(True, "forced (--force-champion)")
    found = champion_run(client, name, alias)
    if found is None:
        return ChampionDecision(True, f"no {alias} yet")
    current, champion = found
    # str as publish.alias_version reads it again (recheck compares the two): a sqlite store's
    # ModelVersion.version is an int, a REST store's a str, and 4 != "4" made every promotion on sqlite
    # log "another run moved it" and decide again
    against = str(current.version)
    if champion is None:
        return ChampionDecision(True, f"{alias} version {current.version} has no run to compare with", against)
    run = champion.data
    if run.tags.get("dataset_sha256") != dataset_sha256:
        return ChampionDecision(False, f"{alias} version {current.version} was trained on another data file "
                                       f"(sha256 {str(run.tags.get('dataset_sha256'))[:12]}… of the file's bytes: the "
                                       "same rows saved with another line ending or a byte order mark count as "
                                       "another file): its test AUC is not comparable; --force-champion to promote "
                                       "anyway", against)
    differing = [p for p in SPLIT_PARAMS if run.params.get(p) != params.get(p)]
    if differing:
        return ChampionDecision(False, f"{alias} version {current.version} used another test split "
                                       f"({', '.join(differing)}); --force-champion to promote anyway", against)
    champion_auc = run.metrics.get("test_roc_auc")
    if champion_auc is None:
        return ChampionDecision(True, f"{alias} version {current.version} has no test_roc_auc", against)
    return ChampionDecision(auc >= champion_auc, f"test ROC AUC {auc:.4f} vs {alias} version "
                                                 f"{current.version}'s {champion_auc:.4f}", against)


def _register(cfg: TrainingConfig, opts: PipelineOptions, model_uri: str, run_id: str,
              trained: TrainedModel, done: Done, progress: Progress) -> tuple[str, ChampionDecision]:
    """Register a new version and decide whether it becomes champion; the alias is moved later.
    The version is created with its run_id and champion_decision tags in the same call, so no
    version exists without them. An MLflow failure is MlflowRunError saying what is registered
    (the bundle is not written yet); a champion whose run is gone is RunFailedError, nothing registered."""
    client = MlflowClient()
    name, alias = opts.registered_model, cfg.mlflow.alias
    untouched = f"the bundle in {opts.out_dir} was not written and {alias} was not moved"
    finished = f"run {run_id} is FINISHED with the model logged ({model_uri})"
    progress.doing(f"reading {name}@{alias} to compare with")
    try:
        with step(f"reading {name}@{alias} to compare with",
                  lambda: f"{finished}; nothing was registered, {untouched}"):
            decision = champion_decision(client, name, alias, trained.metrics["test_roc_auc"],
                                         trained.dataset.sha256, trained.params, opts.force_champion)
    except MlflowRunError as err:
        if isinstance(err.__cause__, ChampionRunMissingError):  # deleted while this run trained
            raise RunFailedError(f"{err.__cause__}; {finished}; nothing was registered, the bundle in "
                                 f"{opts.out_dir} was not written") from err.__cause__
        raise
    done.decision = decision
    progress.doing(f"registering a version of {name}")
    done.registering = True
    with step(f"registering a version of {name}",
              lambda: f"{finished}; no version of {name} was registered (one the server made before failing has "
                      f"no alias), {untouched}"):
        tags = {"run_id": run_id, DECISION_TAG: decision_tag_value(decision, alias)}
        with contextlib.redirect_stderr(sys.stdout):  # its progress messages, with ours: stderr is for the error
            version = str(mlflow.register_model(model_uri, name, tags=tags).version)
    done.version = version
    return version, decision


def check_champion_run(opts: PipelineOptions, alias: str) -> None:
    """Before training (unless --force-champion or --no-register): ChampionRunMissingError when the
    champion's run is gone, since the comparison after training could not be made."""
    if not opts.register or opts.force_champion:
        return
    try:
        with step(f"reading {opts.registered_model}@{alias} to compare with", lambda: "nothing was trained or logged"):
            champion_run(MlflowClient(), opts.registered_model, alias)
    except MlflowRunError as err:
        if isinstance(err.__cause__, ChampionRunMissingError):
            raise ChampionRunMissingError(f"{err.__cause__}; nothing was trained, logged or registered") from err
        raise


@dataclass
class Done:
    """How far a training run got, for the line a Ctrl-C ends it with (`_interrupted`)."""
    run_id: str | None = None  # the MLflow run, once started
    model_uri: str | None = None  # once logged
    decision: ChampionDecision | None = None
    registering: bool = False  # the version was asked for: one may exist though `version` is None
    version: str | None = None
    alias: str | None = None  # the alias the new version was chosen for
    publishing: Publishing | None = None  # publish() was entered
    champion: bool = False  # the alias names the new version and the bundle holds it (read back)


def run_pipeline(cfg: TrainingConfig, opts: PipelineOptions, log: Log = print) -> PipelineResult:
    """Train end to end, log to MLflow, register, stage the bundle, move the alias, swap the bundle into
    `opts.out_dir`. Ctrl-C is `Interrupted`: one line saying during which step, which run, and what was
    and was not logged, registered, moved and written (read back where it could have gone either way;
    an alias moved to a version whose bundle was not written is moved back)."""
    progress, done = Progress(STEPS), Done()
    try:
        return _run_pipeline(cfg, opts, progress.log(log), progress, done)
    except KeyboardInterrupt as err:  # inside the run it is tracked_run's Interrupted, which passes here
        with sigint_ignored():  # a second Ctrl-C does not cut short reading back and putting right
            line = _interrupted(cfg, opts, progress, done)
            if done.decision is not None and done.decision.promote and done.version and not done.champion:
                # chosen, not made champion: its tag (set when it was created) must not say it is
                _retag_decision(opts.registered_model, done.version,
                                f"not {cfg.mlflow.alias}: chosen ({done.decision.reason}), not carried out: {INTERRUPTED}")
            raise Interrupted(line) from err


def _bundle_holds(out_dir: Path) -> tuple[str | None, str | None]:
    """The run id and version the manifest in `out_dir` names; (None, None) without a readable one."""
    try:
        manifest = json.loads((out_dir / bundle.MANIFEST_FILE).read_text())
        return manifest["run"]["runId"], manifest["registeredModel"]["version"]
    except (OSError, ValueError, KeyError, TypeError):
        return None, None


def _interrupted(cfg: TrainingConfig, opts: PipelineOptions, progress: Progress, done: Done) -> str:
    """The line for a Ctrl-C outside the MLflow run (before it started, or after it ended FINISHED), after
    reading back what could have gone either way (into `done`) and putting right an alias the bundle does
    not follow."""
    name, alias, out = opts.registered_model, cfg.mlflow.alias, opts.out_dir
    untouched = (("nothing was registered, " if opts.register else "") + f"the bundle in {out} was not written"
                 + (f" and {alias} was not moved" if opts.register else ""))
    head = f"{INTERRUPTED} {progress.where}"
    if done.run_id is None:
        return f"{head}; no MLflow run was started: nothing was trained or logged, {untouched}"
    run_id, client = done.run_id, MlflowClient()
    head += f"; run {run_id} is FINISHED" + (f" with the model logged ({done.model_uri})" if done.model_uri else "")
    if not opts.register:
        parts = ["nothing was registered (--no-register)"]
    elif done.version is None and done.registering:  # the version may have been made: ask for this run's
        found: list[list[ModelVersion]] = []
        if best_effort(lambda: found.append(client.search_model_versions(f"name = '{name}' and run_id = '{run_id}'"))):
            done.version = str(found[0][0].version) if found[0] else None
            parts = [f"{name} version {done.version} is registered" if done.version else
                     f"no version of {name} was registered"]
        else:
            parts = [f"a version of {name} may have been registered (MLflow does not answer: look for one of run "
                     f"{run_id})"]
    elif done.version is None:
        return f"{head}; {untouched}"
    else:
        parts = [f"{name} version {done.version} is registered"]
    if done.publishing is None:
        return "; ".join([head, *parts, untouched.removeprefix("nothing was registered, ")])
    held_run, held_version = _bundle_holds(out)
    written = held_run == run_id
    if done.alias and done.version:
        now: list[str | None] = []
        if not best_effort(lambda: now.append(alias_version(client, name, alias))):
            parts.append(f"{alias} could not be read back (MLflow does not answer): check models:/{name}@{alias}, which "
                         + (f"must name version {held_version}, as the bundle in {out} does"
                            if held_version else f"must not name version {done.version}"))
        elif now[0] != done.version:
            parts.append(f"{alias} still names version {now[0]}" if now[0] else f"{name} still has no {alias}")
        elif written:
            done.champion = True
            parts.append(f"{alias} names it")
        else:  # moved, but the bundle was not swapped in: the alias goes back
            previous = done.publishing.previous if done.publishing.previous_read else held_version
            parts.append(f"{alias} was moved to it and "
                         + move_back(client, name, alias, done.version, previous, out).removeprefix("was "))
    parts.append(f"the bundle in {out} was written" + (f" (it holds version {done.version})" if done.version else "")
                 if written else f"the bundle in {out} was not written"
                 + (f" (it holds version {held_version})" if held_version else ""))
    return "; ".join([head, *parts])


def _run_pipeline(cfg: TrainingConfig, opts: PipelineOptions, log: Log, progress: Progress, done: Done
                  ) -> PipelineResult:
    created_at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    config = opts.config or ConfigFile.read(DEFAULT_CONFIG_PATH)
    if load_config(config) != cfg:  # what is hashed and compared with HEAD must be what trains
        raise ValueError(f"the config passed to run_pipeline is not the one in {config.path}")
    sources = SourceState.at_start(REPO_ROOT, log, config)  # with created_at: the code this run trains with
    tracking_uri = opts.tracking_uri or default_tracking_uri()
    progress.doing(f"while checking the MLflow tracking store {tracking_uri}")
    check_tracking_store(tracking_uri)
    log(f"MLflow tracking store {tracking_uri} answers")
    dataset = load_data(opts.data_path, log)
    progress.after_step(f"preparing the MLflow run (experiment {opts.experiment!r})")
    # Before a run is started: a nullable column's values all in the test split left the feature spec none.
    present = {col: np.array([r[col] is not None for r in dataset.records]) for col in sorted(schema.NULLABLE_COLUMNS)}
    train.check_split_fits(np.asarray(dataset.labels, dtype=np.int64), cfg.split, present)
    mlflow.set_tracking_uri(tracking_uri)
    experiment_id = _experiment_id(MlflowClient(), opts.experiment, tracking_uri)
    check_champion_run(opts, cfg.mlflow.alias)
    # The run starts before training (bad data starts none): its first artifact, the config, proves
    # the artifact store takes a write; an exception from here on ends the run FAILED, and an MLflow
    # call that fails is one line saying what was logged (tracked_run, logging_step).
    logged: list[str] = []
    after_run = (("nothing was registered, " if opts.register else "")
                 + f"the bundle in {opts.out_dir} was not written" + (f" and {cfg.mlflow.alias} was not moved"
                                                                     if opts.register else ""))
    progress.after_step("starting the MLflow run")

    def logging(doing: str, what: str) -> contextlib.AbstractContextManager[None]:
        progress.doing(doing)
        return logging_step(doing, logged, what)

    # A reported error (a failed check, a model that finds no churner) is one line naming the run, exit 1.
    reported = (export.ParityError, explain.ExplainerError, train.NoThresholdError)
    with (tracked_run(experiment_id, logged, after_run, reported=reported, where=lambda: progress.where) as active,
          tempfile.TemporaryDirectory() as tmp):
        done.run_id = active.info.run_id
        progress.after_step(f"logging {CONFIG_ARTIFACT}")
        try:
            log_training_config(cfg, active.info, tracking_uri, Path(tmp))
        except KeyboardInterrupt:
            logged.append(f"perhaps {CONFIG_ARTIFACT}")
            raise
        logged.append(CONFIG_ARTIFACT)
        log(f"  MLflow run {active.info.run_id} (experiment {opts.experiment!r}), artifacts in "
            f"{active.info.artifact_uri}: {CONFIG_ARTIFACT} logged")
        trained = export_trained(cfg, dataset, log)
        log(f"[6/{STEPS}] bundle + MLflow ({tracking_uri}, experiment {opts.experiment!r})")
        run = bundle.RunInfo(active.info.run_id, experiment_id, opts.experiment)
        progress.doing("writing the manifest")
        manifest = _manifest(cfg, trained, run, opts.registered_model, created_at, sources.at_end(log), config)
        with logging("logging the params", "params"):
            mlflow.log_params(trained.params)
        with logging("logging the metrics", "metrics"):
            mlflow.log_metrics(trained.metrics)
        with logging("logging the tags", "tags"):
            # MLflow's own `mlflow.source.git.commit` (its UI's "Git commit", set when the run starts from the
            # checkout of the entry script, never "-dirty") is overwritten with the manifest's: one commit per run.
            commit_tags = {"git_commit": manifest["gitCommit"] or "none"}
            if manifest["gitCommit"]:
                commit_tags[MLFLOW_GIT_COMMIT] = manifest["gitCommit"]
            # The config's path relative to the checkout, as the manifest has it, or where it was read (outside it).
            config_tags = {"config_sha256": manifest["config"]["sha256"],
                           "config_path": manifest["config"]["path"] or str(config.path)}
            mlflow.set_tags({**commit_tags, **config_tags, "dataset_sha256": trained.dataset.sha256,
                             "dataset_path": str(opts.data_path),
                             **{name: str(count) for name, count in trained.data_sizes.items()},
                             **{f"version.{k}": v for k, v in manifest["libraryVersions"].items()}})
        with logging("logging the artifacts (bundle/, onnx/, feature_spec.json, plots/)", "artifacts"):
            report_text = _log_artifacts(trained, manifest, Path(tmp))
        with logging("logging the model (mlflow.pyfunc.log_model)", "the model"):
            model_uri = _log_model(trained)
        done.model_uri = model_uri
        progress.doing("ending the MLflow run")
    version: str | None = None
    alias: str | None = None
    if opts.register:
        version, decision = _register(cfg, opts, model_uri, run.run_id, trained, done, progress)
        alias = cfg.mlflow.alias if decision.promote else None
        done.alias = alias
        log(f"  registered {opts.registered_model} version {version}, "
            + (f"{alias} moves with the bundle" if alias else f"{cfg.mlflow.alias} kept")
            + f" ({decision.reason})")
    out_dir: Path | None = opts.out_dir
    if opts.register and alias is None:
        # The bundle directory is what the gateway serves: only a champion replaces it.
        out_dir = None
        log(f"  bundle NOT written to {opts.out_dir}: version {version} did not become {cfg.mlflow.alias} "
            "(it is in MLflow; --force-champion to promote and write it)")
    else:
        # The gateways follow models:/<name>@<alias> or read the bundle: staged bundle, alias, then the
        # swap, so that a failure leaves neither naming a version the other does not (publish.py).
        final = bundle.with_registration(manifest, version, alias)
        done.publishing = Publishing(doing=progress.doing)

        def recheck(now: str | None) -> ChampionDecision | None:
            """Another run may have moved the alias while this one waited to publish (publish.py): the
            decision is made again against the version it names now, and kept in `done.decision`."""
            if opts.force_champion or now == decision.against:
                return None
            done.decision = champion_decision(MlflowClient(), opts.registered_model, cfg.mlflow.alias,
                                              trained.metrics["test_roc_auc"], trained.dataset.sha256,
                                              trained.params, False)
            return done.decision

        try:
            publish(MlflowClient(), opts.out_dir, (trained.onnx_export.model_bytes, final, trained.parity_text,
                                                     trained.explainer.text, report_text),
                    opts.registered_model, version, alias, log, done.publishing, recheck)
        except Superseded as err:
            assert version is not None, "only a promotion is rechecked"
            _retag_decision(opts.registered_model, version, decision_tag_value(err.decision, cfg.mlflow.alias))
            done.alias, alias, out_dir = None, None, None
            log(f"  bundle NOT written to {opts.out_dir}: {err}")
        except (BundleWriteError, MlflowRunError) as err:
            if version is not None and alias is not None:  # decided champion, not made one: the tag says so
                reason = done.decision.reason if done.decision else decision.reason
                _retag_decision(opts.registered_model, version, f"not {alias}: chosen ({reason}), not carried out: {err}")
            raise
        else:
            if version is not None and done.decision is not decision and done.decision is not None:
                # promoted against the version another run had made champion meanwhile
                _retag_decision(opts.registered_model, version, decision_tag_value(done.decision, cfg.mlflow.alias))
    progress.after_step("returning the result")
    return PipelineResult(metrics=trained.metrics, params=trained.params, threshold=trained.threshold,
                          medium_from=trained.medium_from, run_id=run.run_id, version=version,
                          alias=alias, bundle_dir=out_dir)
