"""Load model/config.toml into a typed, frozen TrainingConfig.

Returns: `TrainingConfig` (split, xgboost hyperparameters, threshold rule, export and
MLflow settings). Nothing else reads the config file.
"""
from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from churn_model import features, schema
from churn_model.config_values import ConfigError, Table, toml_text

MODEL_DIR = Path(__file__).resolve().parent.parent
REPO_ROOT = MODEL_DIR.parent
DEFAULT_CONFIG_PATH = MODEL_DIR / "config.toml"


@dataclass(frozen=True)
class ConfigFile:
    """A config file's bytes, read once: a run parses these (`load_config`), and its lineage hashes them and
    compares them with the commit it trains from (lineage.py), so the config recorded is the config that trained."""
    path: Path
    data: bytes

    @classmethod
    def read(cls, path: Path) -> ConfigFile:
        return cls(path, path.read_bytes())

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


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


# What the pipeline's libraries accept (a config value outside these ranges fails mid-run, or is
# quietly misread, so each is checked when the file is read).
SEED_MAX = 2**32 - 1                    # scikit-learn's random_state and numpy's legacy seeds
CV_FOLDS = (2, 20)
EVAL_METRICS = ("auc", "aucpr", "logloss", "error")  # xgboost's binary metrics early stopping can follow
TREE_METHODS = ("hist", "approx", "exact")
THRESHOLD_RULES = ("max_f1_validation",)
GRID_STEP_MIN = 0.0001                  # at most about 10,000 thresholds
OPSETS = (7, 15)                        # onnxruntime guarantees 7 and up; the pinned onnxmltools converts up to 15
TOLERANCE_MAX = 0.01
# Fewer than 100 may not cover every category (synthetic.missing_coverage). At most 100,000 (about 54 MB of
# parity.json at some 540 bytes a case): 1,000,000 came to 537 MB, past V8's longest string (0x1fffffe8
# characters), so no gateway could read the bundle it was registered and published with.
PARITY_COUNT = (100, 100_000)
# MLflow's rules for an alias (mlflow.utils.validation), checked here rather than when the alias moves, in ASCII:
# MLflow's \w takes any Unicode letter ('produção'), and the gateway's MODEL_URI (src/model/model-uri.ts) names
# ASCII aliases only, so such an alias could be moved by a run that no gateway could then follow.
_ALIAS = re.compile(r"[A-Za-z0-9_-]{1,255}")
_VERSION_ALIAS = re.compile(r"[vV][0-9]+")
XGBOOST_KEYS = ("n_estimators", "max_depth", "learning_rate", "min_child_weight", "subsample", "colsample_bytree",
                "reg_lambda", "reg_alpha", "gamma", "tree_method", "n_jobs")


def _xgboost(t: Table) -> dict[str, Any]:
    """Every hyperparameter required: one left out would be xgboost's default, chosen by nobody."""
    return {"n_estimators": t.integer("n_estimators", 1), "max_depth": t.integer("max_depth", 1),
            "learning_rate": t.number("learning_rate", 0, 1, low_open=True),
            "min_child_weight": t.number("min_child_weight", 0, None),
            "subsample": t.number("subsample", 0, 1, low_open=True),
            "colsample_bytree": t.number("colsample_bytree", 0, 1, low_open=True),
            "reg_lambda": t.number("reg_lambda", 0, None), "reg_alpha": t.number("reg_alpha", 0, None),
            "gamma": t.number("gamma", 0, None), "tree_method": t.string("tree_method", TREE_METHODS),
            "n_jobs": t.integer("n_jobs", 1)}


def _split(t: Table) -> SplitConfig:
    return SplitConfig(test_size=t.number("test_size", 0, 1, low_open=True, high_open=True),
                       validation_size=t.number("validation_size", 0, 1, low_open=True, high_open=True),
                       random_state=t.integer("random_state", 0, SEED_MAX), cv_folds=t.integer("cv_folds", *CV_FOLDS))


def _threshold(t: Table) -> ThresholdConfig:
    found = len(t.problems)
    start = t.number("grid_start", 0, 1, low_open=True, high_open=True)
    stop = t.number("grid_stop", 0, 1, low_open=True, high_open=True)
    step = t.number("grid_step", GRID_STEP_MIN, None)
    if len(t.problems) == found:  # each usable alone: then together
        if start >= stop:
            t.fail("grid_stop", f"greater than grid_start ({start:g})")
        elif step > stop - start:
            t.fail("grid_step", f"at most grid_stop - grid_start ({stop - start:g})")
    return ThresholdConfig(rule=t.string("rule", THRESHOLD_RULES), grid_start=start, grid_stop=stop, grid_step=step,
                           medium_from_fraction=t.number("medium_from_fraction", 0, 1, low_open=True))


def _ratios(t: Table) -> tuple[tuple[str, str], ...]:
    """Numerators: the numeric columns; denominators: those without blanks (a null cannot divide)."""
    numeric = [c for c in schema.FEATURE_COLUMNS if schema.column_kind(c) != "categorical"]
    denominators = [c for c in numeric if c not in schema.NULLABLE_COLUMNS]
    allowed = ("a list of { numerator = <" + " | ".join(numeric) + ">, denominator = <"
               + " | ".join(denominators) + "> }, each pair once")
    value = t.values.get("ratios")
    pairs = [(r.get("numerator"), r.get("denominator")) for r in value if isinstance(r, dict)
             and set(r) == {"numerator", "denominator"}] if isinstance(value, list) else []
    if (not isinstance(value, list) or len(pairs) != len(value) or len(set(pairs)) != len(pairs)
            or any(n not in numeric or d not in denominators for n, d in pairs)):
        t.fail("ratios", allowed)
        return ()
    return tuple((str(n), str(d)) for n, d in pairs)


def _monotone(t: Table, names: list[str], ratios_known: bool) -> dict[str, int]:
    """`ratios_known` False: [features] ratios is itself unusable, so a ratio's name is not judged."""
    directions: dict[str, int] = {}
    for name, value in t.values.items():
        if name not in names and (ratios_known or "/" not in name):
            t.problems.append(f"[monotone_constraints] {toml_text(name)} is not a feature: allowed are the feature "
                              f"names ({names[0]}, …, {names[-1]}; a one-hot one is column=value)")
        elif isinstance(value, bool) or value not in (-1, 0, 1):
            t.fail(name, "-1, 0 or 1")
        else:
            directions[name] = int(value)
    return directions


def registered_model_problem(name: str) -> str | None:
    """What a registered model's name must be (the text after "must be") when MLflow's registry would refuse
    `name`, or the gateway's MODEL_URI could not name it; None when both can. Checked before anything runs, for
    `[mlflow] registered_model` and `--registered-model` alike: MLflow refuses a name only at registration,
    after the whole run, and its champion lookup answers it with the code it uses for "no such alias", so
    the run went ahead as if there were no champion."""
    # mlflow.utils.validation._validate_model_name: no '/' or ':', and nothing that reads as another path
    # (for a name without '/', path_not_unique refuses "." and a name beginning with ".."). MLflow takes '@',
    # which would end the name in MODEL_URI's models:/<name>@<alias> (test/one-source.test.ts asks both sides).
    # MLflow also refuses a name blank once stripped; the config's and the CLI's own checks refuse one before this.
    if any(c in name for c in "/:@") or name == "." or name.startswith("..") or name.strip() == "":
        return ("a name without '/', ':' or '@', not '.', not beginning with '..' and not only white space (MLflow's "
                "rules, and the gateway's MODEL_URI, models:/<name>@<alias>, ends the name at '@')")
    return None


def alias_problem(alias: str) -> str | None:
    """What the alias must be (the text after "must be") when MLflow would not set `alias` or the gateway's
    MODEL_URI could not name it; None when both can."""
    if not _ALIAS.fullmatch(alias) or alias.lower() == "latest" or _VERSION_ALIAS.fullmatch(alias):
        return ("ASCII letters, digits, '_' and '-' (at most 255), not 'latest' and not v<number> (MLflow's rules, "
                "in the ASCII the gateway's MODEL_URI names)")
    return None


def _mlflow(t: Table) -> MlflowConfig:
    name = t.string("registered_model")
    if name and (problem := registered_model_problem(name)) is not None:
        t.fail("registered_model", problem)
    alias = t.string("alias")
    if alias and (problem := alias_problem(alias)) is not None:
        t.fail("alias", problem)
    return MlflowConfig(experiment=t.string("experiment"), registered_model=name, alias=alias)


def load_config(path: Path | ConfigFile = DEFAULT_CONFIG_PATH) -> TrainingConfig:
    """Parse the TOML file at `path` (or the bytes read from it) into a TrainingConfig. Raises ConfigError (one line,
    every problem: key, value, what is allowed) when a value is missing, mistyped, out of range or
    unknown, so that no run starts with a config that fails or is misread mid-run."""
    source = path if isinstance(path, ConfigFile) else ConfigFile.read(path)
    # As Path.read_text reads it: UTF-8, universal newlines.
    raw = tomllib.loads(source.data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n"))
    problems: list[str] = []

    def table(name: str, keys: Collection[str] | None) -> Table:
        return Table(raw, name, problems, keys)

    tables = {"split": ("test_size", "validation_size", "random_state", "cv_folds"),
              "training": ("early_stopping_rounds", "eval_metric", "refit_on_training_part"),
              "xgboost": XGBOOST_KEYS, "features": ("ratios",), "calibration": ("prior_correction",),
              "threshold": ("rule", "grid_start", "grid_stop", "grid_step", "medium_from_fraction"),
              "export": ("opset", "tolerance", "parity_count", "parity_seed"),
              "mlflow": ("experiment", "registered_model", "alias")}
    problems += [f"[{name}] is not a table of this config: allowed tables are {', '.join(tables)}, monotone_constraints"
                 for name in raw if name not in tables and name != "monotone_constraints"]
    training, export_ = table("training", tables["training"]), table("export", tables["export"])
    found = len(problems)
    ratios = _ratios(table("features", tables["features"]))
    ratios_known = len(problems) == found
    # Optional: no constraints is a choice the file makes by leaving the table out.
    monotone = table("monotone_constraints", None) if "monotone_constraints" in raw else None
    cfg = TrainingConfig(
        split=_split(table("split", tables["split"])),
        xgboost=_xgboost(table("xgboost", XGBOOST_KEYS)),
        early_stopping_rounds=training.integer("early_stopping_rounds", 1),
        eval_metric=training.string("eval_metric", EVAL_METRICS),
        refit_on_training_part=training.boolean("refit_on_training_part"),
        prior_correction=table("calibration", tables["calibration"]).boolean("prior_correction"),
        ratio_features=ratios,
        monotone_constraints=(_monotone(monotone, features.feature_names_for(ratios), ratios_known)
                              if monotone is not None else {}),
        threshold=_threshold(table("threshold", tables["threshold"])),
        export=ExportConfig(opset=export_.integer("opset", *OPSETS),
                            tolerance=export_.number("tolerance", 0, TOLERANCE_MAX, low_open=True),
                            parity_count=export_.integer("parity_count", *PARITY_COUNT),
                            parity_seed=export_.integer("parity_seed", 0, SEED_MAX)),
        mlflow=_mlflow(table("mlflow", tables["mlflow"])),
    )
    if problems:
        raise ConfigError("; ".join(problems))
    return cfg
