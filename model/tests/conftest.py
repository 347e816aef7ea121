"""Shared fixtures: the real config, generated CSV files, and one small end-to-end MLflow run."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from churn_model import synthetic
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
