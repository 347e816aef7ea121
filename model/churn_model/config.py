"""Load model/config.toml into a typed, frozen TrainingConfig.

Returns: `TrainingConfig` (split, xgboost hyperparameters, threshold rule, export and
MLflow settings). Nothing else reads the config file.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MODEL_DIR = Path(__file__).resolve().parent.parent
REPO_ROOT = MODEL_DIR.parent
DEFAULT_CONFIG_PATH = MODEL_DIR / "config.toml"


@dataclass(frozen=True)
class SplitConfig:
    test_size: float
    validation_size: float
    random_state: int
    cv_folds: int


@dataclass(frozen=True)
class ThresholdConfig:
    rule: str
    grid_start: float
    grid_stop: float
    grid_step: float
    medium_from_fraction: float


@dataclass(frozen=True)
class ExportConfig:
    opset: int
    tolerance: float
    parity_count: int
    parity_seed: int


@dataclass(frozen=True)
class MlflowConfig:
    experiment: str
    registered_model: str
    alias: str


@dataclass(frozen=True)
class TrainingConfig:
    split: SplitConfig
    xgboost: dict[str, Any]
    early_stopping_rounds: int
    eval_metric: str
    refit_on_training_part: bool
    prior_correction: bool                 # shift the log-odds by -log(scale_pos_weight)
    ratio_features: tuple[tuple[str, str], ...]
    monotone_constraints: dict[str, int]   # feature name -> +1 / -1 (unlisted: 0)
    threshold: ThresholdConfig
    export: ExportConfig
    mlflow: MlflowConfig


def load_config(path: Path = DEFAULT_CONFIG_PATH) -> TrainingConfig:
    """Parse the TOML file at `path` into a TrainingConfig."""
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    return TrainingConfig(
        split=SplitConfig(**raw["split"]),
        xgboost=dict(raw["xgboost"]),
        early_stopping_rounds=int(raw["training"]["early_stopping_rounds"]),
        eval_metric=str(raw["training"]["eval_metric"]),
        refit_on_training_part=bool(raw["training"]["refit_on_training_part"]),
        prior_correction=bool(raw["calibration"]["prior_correction"]),
        ratio_features=tuple((r["numerator"], r["denominator"]) for r in raw["features"]["ratios"]),
        monotone_constraints={str(k): int(v) for k, v in raw.get("monotone_constraints", {}).items()},
        threshold=ThresholdConfig(**raw["threshold"]),
        export=ExportConfig(**raw["export"]),
        mlflow=MlflowConfig(**raw["mlflow"]),
    )
