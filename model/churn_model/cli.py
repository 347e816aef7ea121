"""Command line entry point: `python -m churn_model.cli --data <csv>` (see scripts/train.sh).

Returns: exit status 0 after printing a summary table; 2 for usage errors (no data path, a data
path that is a directory, not a regular file or cannot be read, a path the OS will not look up, an
empty option or MLFLOW_TRACKING_URI set but empty, a --registered-model MLflow refuses, --force-champion with --no-register, an unusable config or config value, `--out` or
MLflow tracking store, a deleted MLflow experiment, an MLflow artifact store that cannot be
written, [split] settings the data cannot be split by, a champion whose MLflow run is gone; all
found before training), 1 for invalid data, a model that finds no churner (validation F1 0), a
failed ONNX parity check, a bundle that could not be written after all (the champion alias is
then left where it was, or moved back) or MLflow failing mid-run (the one line says what was
logged and registered, whether the bundle was written and where the alias points); 130 for
Ctrl-C (one line: during which step, which MLflow run, and what was and was not logged,
registered, moved and written).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

# Ctrl-C before anything is done. Loading the libraries (mlflow, xgboost) takes seconds, enough for an
# operator who sees a wrong option in the command just typed.
NOTHING_DONE = ("nothing was read, trained, logged or registered, no MLflow run was started, no bundle was written "
                "and no alias was moved")
try:
    from churn_model.config import DEFAULT_CONFIG_PATH, MODEL_DIR, registered_model_problem
    from churn_model.config_values import toml_text
    from churn_model.data import DataValidationError
    from churn_model.entry import (config_file, data_file, os_error_text, output_path, path_error, usage_error,
                                   writable_folder)
    from churn_model.entry import resolve_path as resolve_path
    from churn_model.explain import ExplainerError
    from churn_model.export import ParityError
    from churn_model.interrupt import EXIT_CODE, INTERRUPTED, Interrupted
    from churn_model.mlflow_errors import MlflowRunError, RunFailedError
    from churn_model.pipeline import (ArtifactStoreError, BundleWriteError, ChampionRunMissingError, PipelineOptions,
                                      PipelineResult, TrackingStoreError, default_tracking_uri,
                                      run_pipeline)
    from churn_model.train import SplitSettingsError
except KeyboardInterrupt:
    if __name__ != "__main__":
        raise
    print(f"error: interrupted (Ctrl-C) while loading the libraries, before step 1/6; {NOTHING_DONE}", file=sys.stderr)
    sys.exit(130)

SUMMARY_METRICS = ("test_roc_auc", "test_roc_auc_ci95_low", "test_roc_auc_ci95_high", "test_pr_auc",
                   "test_f1", "test_precision", "test_recall", "test_accuracy", "test_log_loss",
                   "test_brier", "test_tn", "test_fp", "test_fn", "test_tp", "cv_roc_auc_mean",
                   "cv_roc_auc_std", "threshold", "parity_max_abs_diff")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="train", description="Train the Telco churn model, log the run to MLflow, register it, and write the "
                                  "bundle to --out when the new version becomes champion (or with --no-register).")
    parser.add_argument("--data", help="training CSV (default: $CHURN_DATA)")
    parser.add_argument("--out", default=str(MODEL_DIR / "bundle"),
                        help="bundle directory (a relative one is in the current folder), replaced only when the new "
                             "version becomes champion or with --no-register (default: model/bundle, the bundle the "
                             "gateway serves)")
    parser.add_argument("--config", default=str(DEFAULT_CONFIG_PATH), help="config TOML (default: model/config.toml)")
    parser.add_argument("--experiment", help="MLflow experiment (default from config)")
    parser.add_argument("--registered-model", help="MLflow registered model name (default from config)")
    parser.add_argument("--tracking-uri", help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI or model/mlflow.db)")
    parser.add_argument("--force-champion", action="store_true",
                        help="move the champion alias to the new version and write the bundle even when its test ROC "
                             "AUC is lower than the champion's or not comparable (other data file or test split)")
    parser.add_argument("--no-register", action="store_true",
                        help="log the run but do not register the model; the bundle is still written to --out "
                             "(default model/bundle, the one the gateway serves), with no version or alias")
    return parser.parse_args(argv)


def check_out_dir(out_dir: Path) -> None:
    """Usage error unless `out_dir` is (or can be made) a directory we can write a file in.

    Checked before training: the bundle is written after the run is logged and registered, so
    a bad `--out` found only then would cost a whole run and leave a registered version with no
    bundle. Folders made for the check are removed again, so a run that writes no bundle (bad
    data, not champion) leaves nothing behind."""
    try:
        is_file = out_dir.exists() and not out_dir.is_dir()
    except OSError as err:  # a folder on the way that may not be searched, a name too long
        raise path_error("--out", str(out_dir), err) from err
    if is_file:
        raise usage_error(f"--out must be a directory: {out_dir} is a file")
    try:
        writable_folder(out_dir)
    except OSError as err:
        raise usage_error(f"cannot write the bundle to --out {out_dir}: {os_error_text(err, out_dir)}") from err


def data_path(args: argparse.Namespace) -> Path:
    raw = args.data or os.environ.get("CHURN_DATA")
    if not raw:
        raise usage_error("no training data: pass --data <csv> or set CHURN_DATA")
    return data_file(raw)


def check_options(args: argparse.Namespace) -> None:
    """Usage errors for options that would otherwise be dropped without a word."""
    for name in ("data", "out", "config", "experiment", "registered_model", "tracking_uri"):
        value = getattr(args, name)
        # `x or default` would quietly take the default (--data '' took $CHURN_DATA), and an empty path
        # is the current folder (--out '' wrote the bundle there)
        if value is not None and not value.strip():
            raise usage_error(f"--{name.replace('_', '-')} is empty; leave it out to use the default")
    # The rule [mlflow] registered_model is held to: MLflow would refuse the name only at registration.
    if args.registered_model is not None and (problem := registered_model_problem(args.registered_model)):
        raise usage_error(f"--registered-model {toml_text(args.registered_model)}: must be {problem}")
    if args.tracking_uri is None:
        try:  # before the config and the data are read, as for --tracking-uri ''
            default_tracking_uri()
        except TrackingStoreError as err:
            raise usage_error(str(err)) from err
    if args.force_champion and args.no_register:
        raise usage_error("--force-champion moves the champion alias to the registered version, "
                          "and --no-register registers none: use one of them")


def summary(result: PipelineResult) -> str:
    rows = [(name, f"{result.metrics[name]:.6g}") for name in SUMMARY_METRICS if name in result.metrics]
    unregistered = "none (--no-register)"
    rows += [("mediumFrom", f"{result.medium_from:g}"), ("run_id", result.run_id),
             ("registered version", result.version or unregistered),
             ("alias", result.alias or (unregistered if result.version is None else "none (not champion)")),
             ("bundle", str(result.bundle_dir) if result.bundle_dir else "not written (not champion)")]
    width = max(len(n) for n, _ in rows)
    line = "-" * (width + 3 + max(len(v) for _, v in rows))
    return "\n".join([line, *(f"{n:<{width}} | {v}" for n, v in rows), line])


def finished(result: PipelineResult) -> str:
    """What a run that got to the end left, as the summary says it."""
    return (f"run {result.run_id} is FINISHED; "
            + (f"version {result.version} is registered" if result.version else "nothing was registered")
            + (f" and {result.alias} names it" if result.alias else "")
            + (f"; the bundle in {result.bundle_dir} holds it" if result.bundle_dir else "; no bundle was written"))


def main(argv: list[str] | None = None) -> int:
    """The training command; its exit status (module doc). Ctrl-C: one line on stderr, EXIT_CODE."""
    results: list[PipelineResult] = []
    try:
        return _main(argv, results)
    except Interrupted as err:  # during the pipeline: it says which step and what state is left
        _quiet_destructors()
        print(f"error: {err}", file=sys.stderr)
    except KeyboardInterrupt:
        _quiet_destructors()
        if results:
            print(f"error: {INTERRUPTED} after step 6/6, while printing the summary; {finished(results[0])}",
                  file=sys.stderr)
        else:
            print(f"error: {INTERRUPTED} while checking the options, before step 1/6; {NOTHING_DONE}", file=sys.stderr)
    return EXIT_CODE


def _quiet_destructors() -> None:
    """After a Ctrl-C, objects it cut short while they were being built complain when they are freed
    (xgboost's DataIter: 'Exception ignored in … Traceback … no attribute _temporary_data', at exit):
    the one line above is what the user reads, so such complaints are not printed after it."""
    sys.unraisablehook = lambda _unraisable: None


def _main(argv: list[str] | None, results: list[PipelineResult]) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    check_options(args)
    config_path = resolve_path(args.config, "--config")
    source, cfg = config_file(config_path, args.config)
    out_dir = output_path(args.out, "--out")
    check_out_dir(out_dir)
    opts = PipelineOptions(
        data_path=data_path(args), out_dir=out_dir,
        experiment=args.experiment or cfg.mlflow.experiment,
        registered_model=args.registered_model or cfg.mlflow.registered_model,
        force_champion=args.force_champion, register=not args.no_register, tracking_uri=args.tracking_uri,
        config=source)
    try:
        result = run_pipeline(cfg, opts)
    except (TrackingStoreError, ArtifactStoreError, ChampionRunMissingError) as err:  # before training: fix, rerun
        raise usage_error(str(err)) from err
    except SplitSettingsError as err:  # raised before the run starts: the config's [split] against this data
        raise usage_error(f"the config {config_path} does not fit the data {opts.data_path}: {err}") from err
    except (DataValidationError, ParityError, ExplainerError, RunFailedError, BundleWriteError,
            MlflowRunError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    results.append(result)
    print(summary(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
