"""Repeated-holdout study: how far the test metrics move with the split alone.

The pipeline as configured (model/config.toml, unchanged) is trained and evaluated again
with other values of `[split] random_state`: each seed draws another stratified 80/20 test
split, validation slice and xgboost seed, and the same code as a training run
(`pipeline.fit_and_evaluate`, without CV) fits, picks the threshold and scores the test split.

It selects nothing: no result feeds back into the config or the bundle. It measures the
spread that one test split of 1,409 customers leaves, and where the committed split (seed
42) falls in it. Not part of a training run:
    PYTHONPATH=model model/.venv/bin/python -m churn_model.split_study --data <csv> \\
        [--first-seed 42] [--splits 50] [--out model/results/split-study.json]
"""
from __future__ import annotations

import argparse
import json
from dataclasses import replace
from typing import Any

import numpy as np

from churn_model import entry, pipeline, train
from churn_model.config import DEFAULT_CONFIG_PATH, MODEL_DIR, SEED_MAX, TrainingConfig
from churn_model.data import Dataset
from churn_model.targets import F1_TARGET, ROC_AUC_TARGET

DEFAULT_OUT = MODEL_DIR / "results" / "split-study.json"


def run_seed(dataset: Dataset, cfg: TrainingConfig, seed: int) -> dict[str, Any]:
    """The pipeline's test metrics with `seed` as its split (and xgboost) seed."""
    seeded = replace(cfg, split=replace(cfg.split, random_state=seed))
    try:
        ev = pipeline.fit_and_evaluate(seeded, dataset, log=lambda _m: None, cross_validate=False)
    except train.NoThresholdError as err:
        raise train.NoThresholdError(f"seed {seed}: {err}") from err
    return {"seed": seed, "test_roc_auc": ev.metrics["test_roc_auc"], "test_f1": ev.metrics["test_f1"],
            "threshold": ev.threshold, "n_rounds": int(ev.params["n_rounds"])}


def _spread(values: np.ndarray) -> dict[str, float]:
    q05, q25, median, q75, q95 = np.quantile(values, [0.05, 0.25, 0.5, 0.75, 0.95])
    return {"mean": float(values.mean()), "std": float(values.std(ddof=1)), "min": float(values.min()),
            "q05": float(q05), "q25": float(q25), "median": float(median), "q75": float(q75),
            "q95": float(q95), "max": float(values.max())}


def summarize(rows: list[dict[str, Any]], committed_seed: int) -> dict[str, Any]:
    """Spread of the test metrics over the splits, the share meeting each target, and the committed split's rank."""
    auc = np.array([r["test_roc_auc"] for r in rows])
    f1 = np.array([r["test_f1"] for r in rows])
    summary: dict[str, Any] = {
        "splits": len(rows),
        "targets": {"test_roc_auc": ROC_AUC_TARGET, "test_f1": F1_TARGET},
        "test_roc_auc": _spread(auc),
        "test_f1": _spread(f1),
        "splits_meeting": {"test_roc_auc": int((auc >= ROC_AUC_TARGET).sum()), "test_f1": int((f1 >= F1_TARGET).sum()),
                           "both": int(((auc >= ROC_AUC_TARGET) & (f1 >= F1_TARGET)).sum())},
    }
    committed = next((r for r in rows if r["seed"] == committed_seed), None)
    if committed is not None:
        summary["committed_split"] = {"seed": committed_seed, "test_roc_auc": committed["test_roc_auc"],
                                      "test_f1": committed["test_f1"],
                                      "splits_with_lower_roc_auc": int((auc < committed["test_roc_auc"]).sum())}
    return summary


def study(dataset: Dataset, cfg: TrainingConfig, seeds: list[int]) -> dict[str, Any]:
    rows = []
    for seed in seeds:
        rows.append(run_seed(dataset, cfg, seed))
        print(json.dumps(rows[-1]), flush=True)
    return {"dataset_sha256": dataset.sha256, "committed_seed": cfg.split.random_state,
            "summary": summarize(rows, cfg.split.random_state), "splits": rows}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="split_study", description="The configured pipeline on other test splits (seeds).")
    parser.add_argument("--data", required=True, help="training CSV")
    parser.add_argument("--first-seed", type=entry.whole_number(0, SEED_MAX), default=42, help="the first split's seed")
    # Two at least: the summary's spread (std) needs two; one would write NaN, which is not JSON.
    parser.add_argument("--splits", type=entry.whole_number(2), default=50, help="how many seeds, from --first-seed")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="results JSON (default: model/results/split-study.json)")
    args = parser.parse_args(argv)
    if args.first_seed + args.splits - 1 > SEED_MAX:
        parser.error(f"--first-seed {args.first_seed} with --splits {args.splits} goes past the largest seed, {SEED_MAX}")
    # Checked before the study, which takes minutes: a bad --out found at the end would lose it.
    out = entry.output_file(args.out, "--out")
    data = entry.data_file(args.data)
    cfg = entry.training_config(DEFAULT_CONFIG_PATH)
    try:
        result = study(entry.dataset(data), cfg, list(range(args.first_seed, args.first_seed + args.splits)))
    except train.NoThresholdError as err:  # a split whose model flags no churner: the study has no threshold to read
        parser.exit(1, f"split_study: {err}; nothing was written\n")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print(json.dumps(result["summary"], indent=2))


if __name__ == "__main__":
    main()
