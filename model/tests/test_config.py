"""The config's values are checked when it is read: a value out of range, of the wrong type,
missing or unknown is one line naming the key, the value and what is allowed, exit 2 before
anything runs (it used to fail mid-run inside scikit-learn, xgboost or ONNX with a traceback,
or, for `"false"`, a float round count or a misspelt key, be quietly misread)."""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest

from churn_model import train
from churn_model.config import DEFAULT_CONFIG_PATH, load_config
from churn_model.config_values import ConfigError
from tests.conftest import run_cli


def edited_config(tmp_path: Path, line: str, replacement: str) -> Path:
    """A copy of the committed config with the one line starting `line` replaced."""
    text, count = re.subn(rf"(?m)^{re.escape(line)}.*$", replacement, DEFAULT_CONFIG_PATH.read_text())
    assert count == 1, line
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_a_test_size_of_zero_is_a_usage_error_before_anything_runs(
        tmp_path: Path, small_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = edited_config(tmp_path, "test_size =", "test_size = 0")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    code, out, err, _ = run_cli(["--data", str(small_csv), "--config", str(config), "--out", str(tmp_path / "out"),
                                 "--tracking-uri", uri], capsys)
    assert code == 2
    assert err == f"error: cannot use the config {config}: [split] test_size = 0: must be a number > 0 and < 1\n"
    assert out == ""  # no step started, MLflow not asked
    assert not (tmp_path / "mlflow.db").exists() and not (tmp_path / "out").exists()


# The rules as the refusal words them (MLflow's, and what the gateway's MODEL_URI can name: test/one-source.test.ts).
NAME_RULE = ("a name without '/', ':' or '@', not '.', not beginning with '..' and not only white space (MLflow's rules, "
             "and the gateway's MODEL_URI, models:/<name>@<alias>, ends the name at '@')")
ALIAS_RULE = ("ASCII letters, digits, '_' and '-' (at most 255), not 'latest' and not v<number> (MLflow's rules, in the "
              "ASCII the gateway's MODEL_URI names)")
BAD_VALUES = [
    ("test_size =", "test_size = 1.0", "[split] test_size = 1.0: must be a number > 0 and < 1"),
    ("validation_size =", "validation_size = -0.2", "[split] validation_size = -0.2: must be a number > 0 and < 1"),
    ("random_state =", "random_state = -1", "[split] random_state = -1: must be an integer from 0 to 4294967295"),
    ("random_state =", "random_state = 4.2", "[split] random_state = 4.2: must be an integer from 0 to 4294967295"),
    ("cv_folds =", "cv_folds = 1", "[split] cv_folds = 1: must be an integer from 2 to 20"),
    ("early_stopping_rounds =", "early_stopping_rounds = 0",
     "[training] early_stopping_rounds = 0: must be an integer >= 1"),
    ("eval_metric =", 'eval_metric = "accuracy"',
     '[training] eval_metric = "accuracy": must be one of "auc", "aucpr", "logloss", "error"'),
    ("refit_on_training_part =", 'refit_on_training_part = "false"',
     '[training] refit_on_training_part = "false": must be true or false'),
    ("n_estimators =", "n_estimators = 0", "[xgboost] n_estimators = 0: must be an integer >= 1"),
    ("n_estimators =", "n_estimators = 100.7", "[xgboost] n_estimators = 100.7: must be an integer >= 1"),
    ("max_depth =", "max_depth = 0", "[xgboost] max_depth = 0: must be an integer >= 1"),
    ("learning_rate =", "learning_rate = 0", "[xgboost] learning_rate = 0: must be a number > 0 and <= 1"),
    ("learning_rate =", "learning_rate = 1.5", "[xgboost] learning_rate = 1.5: must be a number > 0 and <= 1"),
    ("min_child_weight =", "min_child_weight = inf", "[xgboost] min_child_weight = inf: must be a number >= 0"),
    ("subsample =", "subsample = 0", "[xgboost] subsample = 0: must be a number > 0 and <= 1"),
    ("colsample_bytree =", "colsample_bytree = 2", "[xgboost] colsample_bytree = 2: must be a number > 0 and <= 1"),
    ("reg_lambda =", "reg_lambda = -1", "[xgboost] reg_lambda = -1: must be a number >= 0"),
    ("gamma =", 'gamma = "0"', '[xgboost] gamma = "0": must be a number >= 0'),
    ("tree_method =", 'tree_method = "gpu"', '[xgboost] tree_method = "gpu": must be one of "hist", "approx", "exact"'),
    ("n_jobs =", "n_jobs = 0", "[xgboost] n_jobs = 0: must be an integer >= 1"),
    ("max_depth =", "max_dept = 2", "[xgboost] max_dept is not a setting: allowed keys are n_estimators, max_depth, "
     "learning_rate, min_child_weight, subsample, colsample_bytree, reg_lambda, reg_alpha, gamma, tree_method, "
     "n_jobs; [xgboost] max_depth is missing: must be an integer >= 1"),
    ('"tenure" =', '"tenure" = 2', "[monotone_constraints] tenure = 2: must be -1, 0 or 1"),
    ('"tenure" =', '"tenur" = -1', '[monotone_constraints] "tenur" is not a feature: allowed are the feature names '
     "(gender=Female, …, TotalCharges/tenure; a one-hot one is column=value)"),
    ("ratios =", 'ratios = [{ numerator = "tenure", denominator = "TotalCharges" }]',
     '[features] ratios = [{ numerator = "tenure", denominator = "TotalCharges" }]: must be a list of { numerator = '
     "<SeniorCitizen | tenure | MonthlyCharges | TotalCharges>, denominator = <SeniorCitizen | tenure | "
     "MonthlyCharges> }, each pair once"),
    ("prior_correction =", "prior_correction = 1", "[calibration] prior_correction = 1: must be true or false"),
    ("rule =", 'rule = "max_auc"', '[threshold] rule = "max_auc": must be one of "max_f1_validation"'),
    ("grid_start =", "grid_start = 0", "[threshold] grid_start = 0: must be a number > 0 and < 1"),
    ("grid_start =", "grid_start = 0.96", "[threshold] grid_stop = 0.95: must be greater than grid_start (0.96)"),
    ("grid_step =", "grid_step = 0", "[threshold] grid_step = 0: must be a number >= 0.0001"),
    ("grid_step =", "grid_step = 2", "[threshold] grid_step = 2: must be at most grid_stop - grid_start (0.9)"),
    ("medium_from_fraction =", "medium_from_fraction = 1.5",
     "[threshold] medium_from_fraction = 1.5: must be a number > 0 and <= 1"),
    ("opset =", "opset = 18", "[export] opset = 18: must be an integer from 7 to 15"),
    ("tolerance =", "tolerance = 0", "[export] tolerance = 0: must be a number > 0 and <= 0.01"),
    ("parity_count =", "parity_count = 10", "[export] parity_count = 10: must be an integer from 100 to 100000"),
    # a parity.json of 1,000,000 cases is longer than the gateway (V8) can hold as a string
    ("parity_count =", "parity_count = 100001",
     "[export] parity_count = 100001: must be an integer from 100 to 100000"),
    ("parity_seed =", "parity_seed = -5", "[export] parity_seed = -5: must be an integer from 0 to 4294967295"),
    ("experiment =", 'experiment = " "', '[mlflow] experiment = " ": must be a non-empty string'),
    *(("registered_model =", f'registered_model = "{name}"', f'[mlflow] registered_model = "{name}": must be {NAME_RULE}')
      for name in ("team/churn", "..churn", "telco@churn")),
    *(("alias =", f'alias = "{alias}"', f'[mlflow] alias = "{alias}": must be {ALIAS_RULE}')
      for alias in ("latest", "v2", "produção")),
    ("[split]", "[spilt]", "[spilt] is not a table of this config: allowed tables are split, training, xgboost, "
     "features, calibration, threshold, export, mlflow, monotone_constraints; [split] is missing: the table with "
     "test_size, validation_size, random_state, cv_folds is required"),
]


@pytest.mark.parametrize(("line", "replacement", "problem"), BAD_VALUES, ids=[b[1] for b in BAD_VALUES])
def test_each_bad_value_is_named_with_what_is_allowed(tmp_path: Path, line: str, replacement: str,
                                                      problem: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(edited_config(tmp_path, line, replacement))
    assert str(raised.value) == problem


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    config = edited_config(tmp_path, "test_size =", "test_size = 0\ncv_folds_typo = 3")
    with pytest.raises(ConfigError) as raised:
        load_config(config)
    assert str(raised.value) == ("[split] cv_folds_typo is not a setting: allowed keys are test_size, validation_size, "
                                 "random_state, cv_folds; [split] test_size = 0: must be a number > 0 and < 1")


def test_the_committed_config_reads_as_written() -> None:
    """Values keep their TOML type: the params logged and written in the manifest are their str."""
    cfg = load_config()
    assert cfg.xgboost["min_child_weight"] == 5 and isinstance(cfg.xgboost["min_child_weight"], int)
    assert cfg.split.test_size == 0.2 and cfg.monotone_constraints["tenure"] == -1
    assert cfg.ratio_features == (("TotalCharges", "tenure"),)


def test_the_threshold_grid_never_passes_grid_stop() -> None:
    cfg = load_config(DEFAULT_CONFIG_PATH).threshold
    committed = train.threshold_grid(cfg)
    assert (committed[0], committed[-1]) == (cfg.grid_start, cfg.grid_stop)
    assert len(committed) == round((cfg.grid_stop - cfg.grid_start) / cfg.grid_step) + 1
    # A step that does not divide the range: the config check accepts it (at most the range), and
    # rounding the point count up once chose 0.75 here, past grid_stop and outside the rule's text.
    uneven = dataclasses.replace(cfg, grid_start=0.05, grid_stop=0.6, grid_step=0.35)
    assert train.threshold_grid(uneven) == [0.05, 0.4]
    # Best F1 (1.0) at any threshold in (0.5, 0.8]: the old grid's 0.75; inside the grid, 0.05 and
    # 0.4 tie (0.8) and the lowest is chosen.
    y, p = np.array([1, 1, 0]), np.array([0.9, 0.8, 0.5])
    assert train.choose_threshold(y, p, uneven) == 0.05


def test_no_threshold_is_chosen_when_f1_is_0_at_every_one() -> None:
    """argmax of all zeros picked grid_start: a model flagging no churner at any threshold got one."""
    cfg = dataclasses.replace(load_config(DEFAULT_CONFIG_PATH).threshold, grid_start=0.05, grid_stop=0.25)
    with pytest.raises(train.NoThresholdError) as err:
        train.choose_threshold(np.array([1, 1, 0]), np.array([0.04, 0.03, 0.5]), cfg)
    assert str(err.value) == (
        "validation F1 is 0 at every threshold from 0.05 to 0.25: each of the 2 churners among the 3 rows of the "
        "validation slice gets a probability below 0.05 (at most 0.04), so the model flags none and no threshold can "
        "be chosen; the data holds too few churners or nothing that tells them apart")
    assert train.choose_threshold(np.array([1, 1, 0]), np.array([0.05, 0.03, 0.5]), cfg) == 0.05  # one is flagged
