"""The repeated-holdout study (churn_model.split_study) measures the pipeline a training run uses."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from churn_model import split_study, synthetic
from churn_model.config import TrainingConfig
from churn_model.data import load_dataset
from churn_model.pipeline import PipelineOptions, PipelineResult
from churn_model.targets import F1_TARGET, ROC_AUC_TARGET
from tests.conftest import write_csv

BUNDLE = Path(__file__).resolve().parents[1] / "bundle"


def test_the_configured_seed_reproduces_a_full_training_run(
        cfg: TrainingConfig, small_csv: Path, small_run: tuple[PipelineResult, str, PipelineOptions]) -> None:
    # The end-to-end run (CV, export, MLflow) and the study's path without CV score the same model.
    row = split_study.run_seed(load_dataset(small_csv), cfg, cfg.split.random_state)
    result = small_run[0]
    assert row["test_roc_auc"] == result.metrics["test_roc_auc"]
    assert row["test_f1"] == result.metrics["test_f1"]
    assert row["threshold"] == result.threshold


def test_each_seed_draws_its_own_split(cfg: TrainingConfig, small_csv: Path) -> None:
    dataset = load_dataset(small_csv)
    a, b = (split_study.run_seed(dataset, cfg, seed) for seed in (1, 2))
    assert (a["test_roc_auc"], a["test_f1"]) != (b["test_roc_auc"], b["test_f1"])


def test_summary_counts_the_targets_and_ranks_the_committed_split() -> None:
    rows = [{"seed": s, "test_roc_auc": auc, "test_f1": f1} for s, auc, f1 in
            [(1, ROC_AUC_TARGET - 0.01, F1_TARGET + 0.01), (2, ROC_AUC_TARGET, F1_TARGET - 0.01),
             (3, ROC_AUC_TARGET + 0.01, F1_TARGET), (4, ROC_AUC_TARGET + 0.02, F1_TARGET + 0.02)]]
    summary = split_study.summarize(rows, committed_seed=3)
    assert summary["splits"] == 4
    assert summary["splits_meeting"] == {"test_roc_auc": 3, "test_f1": 3, "both": 2}
    assert summary["committed_split"]["splits_with_lower_roc_auc"] == 2
    assert summary["test_roc_auc"]["median"] == pytest.approx(ROC_AUC_TARGET + 0.005)


def test_committed_study_belongs_to_the_committed_bundle(cfg: TrainingConfig) -> None:
    # Retraining the bundle (other config or data) leaves the study stale: rerun it (model/README.md).
    manifest = json.loads((BUNDLE / "manifest.json").read_text())
    study = json.loads(split_study.DEFAULT_OUT.read_text())
    committed = study["summary"]["committed_split"]
    assert study["dataset_sha256"] == manifest["datasetSha256"]
    assert committed["seed"] == study["committed_seed"] == cfg.split.random_state
    assert committed["test_roc_auc"] == manifest["metrics"]["test_roc_auc"]
    assert committed["test_f1"] == manifest["metrics"]["test_f1"]
    assert study["summary"]["splits"] == len(study["splits"]) >= 100


def test_a_split_whose_model_flags_no_churner_ends_the_study_in_one_line_naming_its_seed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """choose_threshold refuses a validation F1 of 0 at every threshold (train.NoThresholdError): the study
    showed it as a traceback; it is one line naming the seed, and no results file is written."""
    frame = synthetic.churn_frame(8000, seed=1).sample(frac=1, random_state=1).head(2050).reset_index(drop=True)
    frame["Churn"] = np.random.default_rng(1).permutation(["Yes"] * 50 + ["No"] * 2000)
    data = write_csv(frame, tmp_path / "no-signal.csv")
    out = tmp_path / "study.json"
    with pytest.raises(SystemExit) as exited:
        split_study.main(["--data", str(data), "--first-seed", "42", "--splits", "2", "--out", str(out)])
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("split_study: seed 42: validation F1 is 0 at every threshold") and err.endswith("; nothing was written\n")
    assert "Traceback" not in err
    assert not out.exists()
