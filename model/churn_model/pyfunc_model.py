"""The MLflow model each run logs (`name="model"`, registered as the run's model version): the trained
booster behind MLflow's pyfunc interface, so that `mlflow.pyfunc.load_model`, `mlflow models serve`
and `spark_udf` decide as the bundle does.

Logged as "models from code" (pipeline._log_model): MLflow copies this file into the model and runs
it when the model is loaded, so it imports nothing of churn_model (only mlflow, numpy, pandas and
xgboost, the model's requirements). The xgboost flavour it replaces served xgboost's `predict`, the
label at a 0.5 cut-off, while its signature promised probabilities and the bundle decides at the
run's threshold.

Input: a pandas DataFrame of the encoded feature columns, named as the feature spec names them
(`feature_spec.json`, the run's artifact; other columns are ignored). Output: a DataFrame with
`churn_probability` (P(churn), the positive class, as the bundle's model.onnx gives it) and
`will_churn` (`churn_probability >= threshold`, the manifest's threshold).
"""
from __future__ import annotations

import json
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import xgboost as xgb
from mlflow.pyfunc.model import PythonModel, PythonModelContext

BOOSTER_ARTIFACT = "booster"  # the xgboost model (save_model JSON), an artifact of the logged model
# An artifact too, not MLflow's model_config, which log_model also logs as the run's params (they are the
# run's settings, the manifest's params): {"threshold": the run's threshold, "features": the feature names in
# the booster's column order}.
DECISION_ARTIFACT = "decision"
THRESHOLD_KEY = "threshold"
FEATURES_KEY = "features"
PROBABILITY_COLUMN = "churn_probability"
DECISION_COLUMN = "will_churn"


class ChurnModel(PythonModel):
    """P(churn) and the decision at the run's threshold, from the booster logged with it."""

    def load_context(self, context: PythonModelContext) -> None:
        with open(context.artifacts[DECISION_ARTIFACT], encoding="utf-8") as file:
            config: dict[str, Any] = json.load(file)
        self.threshold = float(config[THRESHOLD_KEY])
        self.features = [str(name) for name in config[FEATURES_KEY]]
        self.model = xgb.XGBClassifier()
        self.model.load_model(context.artifacts[BOOSTER_ARTIFACT])

    def predict(self, context: PythonModelContext | None, model_input: pd.DataFrame,
                params: dict[str, Any] | None = None) -> pd.DataFrame:
        x = model_input[self.features].to_numpy(dtype=np.float32)  # by name, in the booster's order
        p = np.asarray(self.model.predict_proba(x))[:, 1].astype(np.float64)
        return pd.DataFrame({PROBABILITY_COLUMN: p, DECISION_COLUMN: p >= self.threshold})


mlflow.models.set_model(ChurnModel())
