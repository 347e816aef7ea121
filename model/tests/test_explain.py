"""explainer.json from a real booster: its trees walk to xgboost's margins (and a corrupted tree does
not), its SHAP reference is xgboost's pred_contribs and is reproduced from the trees by TreeSHAP, and
an early-stopped model or missing values are handled as xgboost handles them."""
from __future__ import annotations

import copy
import json
from typing import Any

import numpy as np
import pytest
import xgboost as xgb

from churn_model import explain, features, synthetic, train
from churn_model.config import TrainingConfig
from churn_model.data import to_record
from churn_model.explain import ExplainerError
from tests import treeshap
from tests.test_export import small_model


@pytest.fixture(scope="module")
def churn_model(cfg: TrainingConfig) -> tuple[xgb.XGBClassifier, np.ndarray]:
    """A small churn model (prior-corrected, as the pipeline's) and 400 encoded parity customers."""
    model, spec = small_model(cfg, seed=21)
    train.prior_correct(model)
    return model, features.encode_records(synthetic.parity_customers(400, seed=4), spec)


@pytest.fixture(scope="module")
def nan_model() -> tuple[xgb.XGBClassifier, np.ndarray]:
    """A model trained on rows with missing values (NaN), so that defaultLeft decides routes; the
    churn encoding never yields NaN (nulls are encoded as 0), so only such a model can show it."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(400, 4)).astype(np.float32)
    x[rng.random(x.shape) < 0.2] = np.nan
    y = (np.nan_to_num(x[:, 0], nan=1.0) + 0.5 * np.nan_to_num(x[:, 1]) + rng.normal(size=400) > 0).astype(np.int64)
    return xgb.XGBClassifier(n_estimators=30, max_depth=3, random_state=1).fit(x, y), x


def xgboost_margins(model: xgb.XGBClassifier, x: np.ndarray) -> np.ndarray:
    return np.asarray(model.predict(x, output_margin=True), dtype=np.float64)


def test_walked_trees_give_xgboosts_margins(churn_model: tuple[xgb.XGBClassifier, np.ndarray]) -> None:
    model, x = churn_model
    trees = explain.extract_trees(model)
    assert len(trees.trees) == model.get_booster().num_boosted_rounds() == 60
    # added as xgboost adds (float32), the walk is xgboost's margin to within its rounding
    assert np.max(np.abs(explain.walk_margins(trees, x, np.float32) - xgboost_margins(model, x))) <= 1e-6
    assert np.max(np.abs(explain.walk_margins(trees, x) - xgboost_margins(model, x))) <= explain.MARGIN_TOLERANCE
    # the prior correction is in baseMargin: the file's probabilities are the served ones
    probabilities = 1 / (1 + np.exp(-explain.walk_margins(trees, x)))
    assert np.max(np.abs(probabilities - model.predict_proba(x)[:, 1])) <= 1e-6


def test_thresholds_and_values_are_the_boosters_float32s(churn_model: tuple[xgb.XGBClassifier, np.ndarray]) -> None:
    model, _ = churn_model
    trees = explain.extract_trees(model)
    frame = model.get_booster().trees_to_dataframe()  # xgboost's own table of the same trees
    for index, tree in enumerate(trees.trees):
        rows = frame[frame["Tree"] == index].set_index("Node")
        for node, left in enumerate(tree["left"]):
            row = {str(k): v for k, v in rows.loc[node].to_dict().items()}
            assert tree["cover"][node] == float(np.float32(row["Cover"]))
            if left == -1:
                assert (tree["right"][node], tree["feature"][node], tree["threshold"][node]) == (-1, -1, 0.0)
                assert tree["leaf"][node] == float(np.float32(row["Gain"]))  # a leaf's value, in this table
            else:
                assert f"f{tree['feature'][node]}" == row["Feature"] and tree["leaf"][node] == 0.0
                assert tree["threshold"][node] == float(np.float32(row["Split"]))
                assert row["Yes"] == f"{index}-{left}" and row["No"] == f"{index}-{tree['right'][node]}"
            for value in (tree["threshold"][node], tree["leaf"][node], tree["cover"][node]):
                assert float(np.float32(value)) == value  # a float32, written exactly


def test_missing_values_follow_default_left(nan_model: tuple[xgb.XGBClassifier, np.ndarray]) -> None:
    model, x = nan_model
    trees = explain.extract_trees(model)
    assert any(any(t["defaultLeft"]) for t in trees.trees) and any(
        not d for t in trees.trees for d, f in zip(t["defaultLeft"], t["feature"], strict=True) if f != -1)
    assert np.max(np.abs(explain.walk_margins(trees, x, np.float32) - xgboost_margins(model, x))) <= 1e-6
    assert explain.check_margins(trees, model, x, "rows with NaN") <= 1e-6


def flipped_default(trees: explain.Trees, x: np.ndarray) -> explain.Trees:
    """`trees` with the defaultLeft of the root of tree 0 flipped (a node every row reaches)."""
    corrupted = copy.deepcopy(trees)
    assert np.isnan(x[:, corrupted.trees[0]["feature"][0]]).any()  # NaN reaches the node
    corrupted.trees[0]["defaultLeft"][0] = not corrupted.trees[0]["defaultLeft"][0]
    return corrupted


def test_a_flipped_default_left_on_a_node_nan_reaches_is_caught(nan_model: tuple[xgb.XGBClassifier, np.ndarray]) -> None:
    model, x = nan_model
    with pytest.raises(ExplainerError, match=r"do not reproduce xgboost's margins on rows with NaN: row \d+"):
        explain.check_margins(flipped_default(explain.extract_trees(model), x), model, x, "rows with NaN")


def moved_threshold(trees: explain.Trees, x: np.ndarray) -> explain.Trees:
    """`trees` with the first split on a numeric (non 0/1) feature moved to the median of its
    values, so that rows go the other way."""
    corrupted = copy.deepcopy(trees)
    for tree in corrupted.trees:
        for node, feature in enumerate(tree["feature"]):
            values = x[:, feature] if feature != -1 else np.array([0.0])
            if len(np.unique(values)) > 2:
                old = tree["threshold"][node]
                tree["threshold"][node] = float(np.float32(np.median(values[values != old])))
                assert tree["threshold"][node] != old
                return corrupted
    raise AssertionError("no numeric split to move")


def test_a_moved_threshold_is_caught(churn_model: tuple[xgb.XGBClassifier, np.ndarray]) -> None:
    model, x = churn_model
    with pytest.raises(ExplainerError, match="do not reproduce xgboost's margins on the cases"):
        explain.check_margins(moved_threshold(explain.extract_trees(model), x), model, x, "the cases")


def test_a_base_margin_without_the_prior_correction_is_caught(
        churn_model: tuple[xgb.XGBClassifier, np.ndarray]) -> None:
    model, x = churn_model
    trees = explain.extract_trees(model)
    shift = -np.log(float(model.get_params()["scale_pos_weight"]))
    uncorrected = explain.Trees(trees.base_margin - shift, trees.trees, trees.feature_count)
    with pytest.raises(ExplainerError, match=f"max \\|delta\\| {abs(shift):.3g} > 1e-05"):
        explain.check_margins(uncorrected, model, x, "the cases")


def test_an_early_stopped_model_is_explained_with_the_rounds_it_predicts_with(cfg: TrainingConfig) -> None:
    """With refit_on_training_part = false the exported model is the early-stopped one: its booster
    holds best_iteration + 1 + early_stopping_rounds trees, of which it predicts with the first ones."""
    frame = synthetic.churn_frame(500, seed=5)
    records = [to_record({str(k): str(v) for k, v in r.items()}) for r in frame.to_dict(orient="records")]
    x = features.encode_records(records, features.build_feature_spec(records, cfg.ratio_features))
    y = (frame["Churn"] == "Yes").to_numpy(dtype=np.int64)
    params = train.model_params(cfg.xgboost, y[:300], cfg.split.random_state) | {"n_estimators": 400}
    stopped = train.fit_model(x[:300], y[:300], x[300:], y[300:], params, 10, "auc")
    assert stopped.best_iteration + 1 < stopped.get_booster().num_boosted_rounds()
    explainer = explain.build_explainer(stopped, x[300:], x)
    assert explainer.tree_count == stopped.best_iteration + 1
    assert len(json.loads(explainer.text)["trees"]) == explainer.tree_count


def test_the_reference_is_xgboosts_pred_contribs_for_every_tenth_parity_case(
        churn_model: tuple[xgb.XGBClassifier, np.ndarray]) -> None:
    model, x = churn_model
    explainer = explain.build_explainer(model, x[:50], x)
    written = json.loads(explainer.text)
    assert list(written) == ["formatVersion", "method", "featureCount", "baseMargin", "trees", "reference"]
    assert (written["formatVersion"], written["method"]) == (1, "path-dependent TreeSHAP (xgboost pred_contribs)")
    assert written["featureCount"] == x.shape[1] and written["reference"]["parityCases"] == list(range(0, 400, 10))
    assert explainer.reference_count == 40 and explainer.tree_count == 60
    contributions = np.array(written["reference"]["contributions"])
    expected = model.get_booster().predict(xgb.DMatrix(x[::10]), pred_contribs=True)
    assert np.array_equal(contributions, expected.astype(np.float64))  # the float32 values, exactly
    assert explainer.max_margin_delta <= 1e-6 and explainer.max_reference_delta <= explain.REFERENCE_SUM_TOLERANCE


def test_treeshap_on_the_files_trees_gives_the_reference_and_a_changed_cover_does_not(
        churn_model: tuple[xgb.XGBClassifier, np.ndarray], nan_model: tuple[xgb.XGBClassifier, np.ndarray]) -> None:
    """What the gateway checks at load. Cover changes no margin, so the training checks cannot see it:
    this recomputation is where a wrong cover shows."""
    for model, x in (churn_model, nan_model):
        written: dict[str, Any] = json.loads(explain.build_explainer(model, x[:50], x).text)
        reference = np.array(written["reference"]["contributions"])
        rows = x[written["reference"]["parityCases"]]
        assert np.max(np.abs(treeshap.contributions(written, rows) - reference)) <= explain.GATEWAY_TOLERANCE
        corrupted = copy.deepcopy(written)
        corrupted["trees"][0]["cover"][1], corrupted["trees"][0]["cover"][2] = (corrupted["trees"][0]["cover"][2],
                                                                                 corrupted["trees"][0]["cover"][1])
        assert np.max(np.abs(treeshap.contributions(corrupted, rows) - reference)) > explain.GATEWAY_TOLERANCE
        trees = explain.Trees(corrupted["baseMargin"], corrupted["trees"], corrupted["featureCount"])
        assert explain.check_margins(trees, model, x, "the cases") <= 1e-6  # the margins do not see it


def test_a_reference_for_other_cases_is_caught(churn_model: tuple[xgb.XGBClassifier, np.ndarray]) -> None:
    model, x = churn_model
    trees = explain.extract_trees(model)
    indexes = explain.reference_indexes(len(x))
    shifted = explain.reference_contributions(model, x[[i + 1 for i in indexes]])
    with pytest.raises(ExplainerError, match=r"SHAP reference row \d+ sums to"):
        explain.check_reference(trees, x[indexes], shifted)
    assert explain.check_reference(trees, x[indexes], explain.reference_contributions(model, x[indexes])) <= 1e-4


def test_same_model_gives_the_same_bytes(cfg: TrainingConfig, churn_model: tuple[xgb.XGBClassifier, np.ndarray]
                                         ) -> None:
    model, x = churn_model
    again, _ = small_model(cfg, seed=21)
    train.prior_correct(again)
    assert explain.build_explainer(model, x[:50], x).text == explain.build_explainer(again, x[:50], x).text
