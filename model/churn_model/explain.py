"""Step 5b: the explainer file (explainer.json, docs/model-bundle.md) from the fitted booster.

Returns: `extract_trees(model)` -> `Trees` (every boosting round's nodes and the base margin, the
format the gateway walks for path-dependent TreeSHAP); `walk_margins(trees, x)` -> each row's
log-odds by walking those trees as the gateway does (float32 comparisons, NaN by defaultLeft);
`build_explainer(...)` -> `Explainer` (the file's text and counts, checked), raising
`ExplainerError` when the extracted trees do not reproduce xgboost's margins or xgboost's own
SHAP values (`pred_contribs=True`) do not add up to them (the run then stops, as on a failed
ONNX parity check).

Values are float32 in xgboost; each is written as the Python float equal to it, so the gateway's
Math.fround of the parsed number is the float32 xgboost used. The file is deterministic: fixed
key order, one tree and one reference row per line.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np
import xgboost as xgb
from scipy.special import logit

FORMAT_VERSION = 1
METHOD = "path-dependent TreeSHAP (xgboost pred_contribs)"
EXPLAINER_FILE = "explainer.json"
# Every REFERENCE_STEP-th parity case (0, 10, 20, …) gets xgboost's own SHAP values in the file.
REFERENCE_STEP = 10
# Walking the extracted trees must give xgboost's output_margin to within this (log-odds). The check
# adds the leaves in float32 in tree order as xgboost does, which reproduces its margin exactly: a
# float64 sum (the gateway's) differs from it by xgboost's own rounding, 5.7e-6 at most on the
# committed model, and could pass 1e-5 on another model with no extraction error at all.
MARGIN_TOLERANCE = 1e-5
# Σ of a reference row (float32 contributions) must be its margin to within this (log-odds).
REFERENCE_SUM_TOLERANCE = 1e-4
# The manifest's explainer.tolerance: how far (log-odds per contribution) the gateway's SHAP values,
# recomputed from the trees, may be from the reference before it refuses the bundle.
GATEWAY_TOLERANCE = 1e-4


class ExplainerError(RuntimeError):
    """The extracted trees or xgboost's SHAP values do not reproduce the model's margins."""


class TreeJson(TypedDict):
    left: list[int]
    right: list[int]
    defaultLeft: list[bool]
    feature: list[int]
    threshold: list[float]
    leaf: list[float]
    cover: list[float]


@dataclass(frozen=True)
class Trees:
    base_margin: float
    trees: list[TreeJson]
    feature_count: int


@dataclass(frozen=True)
class Explainer:
    text: str
    tree_count: int
    reference_count: int
    max_margin_delta: float      # walked trees vs xgboost's output_margin, test split + parity cases
    max_reference_delta: float   # Σ reference row vs the walked margin of its case


def _f32(value: Any) -> float:
    """The Python float equal to xgboost's float32 value (as its JSON writes it)."""
    return float(np.float32(value))


def _rounds(model: xgb.XGBClassifier) -> int:
    """The boosting rounds the model predicts with: up to best_iteration when early-stopped
    (the trees after it are in the booster but unused), otherwise all."""
    booster = model.get_booster()
    try:
        return int(model.best_iteration) + 1
    except AttributeError:  # fitted without early stopping (the refit model)
        return int(booster.num_boosted_rounds())


def _booster(model: xgb.XGBClassifier) -> xgb.Booster:
    """The booster cut to the rounds the model predicts with."""
    booster = model.get_booster()
    rounds = _rounds(model)
    return booster if rounds == booster.num_boosted_rounds() else booster[:rounds]


def _tree(raw: dict[str, Any], index: int) -> TreeJson:
    if any(int(t) != 0 for t in raw["split_type"]) or raw["categories_nodes"]:
        raise ExplainerError(f"tree {index} has a categorical split; the explainer format has numeric splits only")
    left = [int(v) for v in raw["left_children"]]
    right = [int(v) for v in raw["right_children"]]
    leaf_node = [lc == -1 for lc in left]
    if any((lc == -1) != (rc == -1) for lc, rc in zip(left, right, strict=True)):
        raise ExplainerError(f"tree {index} has a node with one child")
    conditions = raw["split_conditions"]
    return {
        "left": left,
        "right": right,
        "defaultLeft": [bool(int(d)) and not is_leaf for d, is_leaf in zip(raw["default_left"], leaf_node, strict=True)],
        "feature": [-1 if is_leaf else int(f) for f, is_leaf in zip(raw["split_indices"], leaf_node, strict=True)],
        # xgboost keeps a leaf's value in split_conditions
        "threshold": [0.0 if is_leaf else _f32(c) for c, is_leaf in zip(conditions, leaf_node, strict=True)],
        "leaf": [_f32(c) if is_leaf else 0.0 for c, is_leaf in zip(conditions, leaf_node, strict=True)],
        "cover": [_f32(h) for h in raw["sum_hessian"]],
    }


def extract_trees(model: xgb.XGBClassifier) -> Trees:
    """Every boosting round's tree (the booster's order) and the base margin from xgboost's JSON
    model. Binary logistic, one tree per round; anything else is ExplainerError."""
    booster = _booster(model)
    learner = json.loads(booster.save_raw("json"))["learner"]
    gbtree = learner["gradient_booster"]
    if learner["objective"]["name"] != "binary:logistic" or gbtree["name"] != "gbtree":
        raise ExplainerError(f"explainer supports a binary:logistic gbtree, not {learner['objective']['name']} "
                             f"{gbtree['name']}")
    trees_raw = gbtree["model"]["trees"]
    if len(trees_raw) != booster.num_boosted_rounds():
        raise ExplainerError(f"{len(trees_raw)} trees for {booster.num_boosted_rounds()} boosting rounds: "
                             "the explainer format has one tree per round")
    params = learner["learner_model_param"]
    # xgboost 3 writes the intercept as an array ("[2.7E-1]"), a probability for binary:logistic;
    # the booster's margin is its logit (the prior correction moved it: train.prior_correct).
    base_score = float(np.float32(np.ravel(json.loads(params["base_score"]))[0]))
    return Trees(base_margin=float(logit(base_score)), trees=[_tree(t, i) for i, t in enumerate(trees_raw)],
                 feature_count=int(params["num_feature"]))


def walk_margins(trees: Trees, x: np.ndarray, dtype: type[np.floating[Any]] = np.float64) -> np.ndarray:
    """Each row's log-odds, baseMargin + Σ leaves reached, walking the trees as the gateway does:
    left when x[feature] < threshold in float32, by defaultLeft when x[feature] is NaN. Added in
    `dtype`, in tree order from baseMargin: float64 as the gateway adds; float32 is xgboost's own
    arithmetic, which then gives its output_margin exactly."""
    x32 = np.asarray(x, dtype=np.float32)
    rows = np.arange(len(x32))
    total = np.full(len(x32), trees.base_margin, dtype=dtype)
    for tree in trees.trees:
        left, right = np.array(tree["left"]), np.array(tree["right"])
        feature, default_left = np.array(tree["feature"]), np.array(tree["defaultLeft"])
        threshold = np.array(tree["threshold"], dtype=np.float32)
        node = np.zeros(len(x32), dtype=np.int64)
        while True:
            inner = left[node] != -1
            if not inner.any():
                break
            value = x32[rows, np.where(inner, feature[node], 0)]
            go_left = np.where(np.isnan(value), default_left[node], value < threshold[node])
            node = np.where(inner, np.where(go_left, left[node], right[node]), node)
        total += np.array(tree["leaf"], dtype=dtype)[node]
    return total.astype(np.float64)


def reference_indexes(parity_count: int) -> list[int]:
    """The parity cases whose SHAP values the file carries: 0, 10, 20, … below parity_count."""
    return list(range(0, parity_count, REFERENCE_STEP))


def check_margins(trees: Trees, model: xgb.XGBClassifier, x: np.ndarray, what: str) -> float:
    """Max |walked (in float32, as xgboost adds) − xgboost's output_margin| on `x`; ExplainerError
    above MARGIN_TOLERANCE."""
    expected = np.asarray(model.predict(np.asarray(x, dtype=np.float32), output_margin=True), dtype=np.float64)
    walked = walk_margins(trees, x, np.float32)
    deltas = np.abs(walked - expected)
    worst = int(np.argmax(deltas))
    if not deltas[worst] <= MARGIN_TOLERANCE:
        raise ExplainerError(f"extracted trees do not reproduce xgboost's margins on {what}: row {worst} walks to "
                             f"{walked[worst]:.7g}, xgboost says {expected[worst]:.7g} "
                             f"(max |delta| {deltas[worst]:.3g} > {MARGIN_TOLERANCE:g})")
    return float(deltas[worst])


def reference_contributions(model: xgb.XGBClassifier, x_reference: np.ndarray) -> np.ndarray:
    """xgboost's own SHAP values, `pred_contribs=True` (float32, [N, features + 1], the bias last)."""
    matrix = xgb.DMatrix(np.asarray(x_reference, dtype=np.float32))
    return np.asarray(_booster(model).predict(matrix, pred_contribs=True), dtype=np.float32)


def check_reference(trees: Trees, x_reference: np.ndarray, contributions: np.ndarray) -> float:
    """Max |Σ reference row − the row's margin walked through `trees`|; ExplainerError above
    REFERENCE_SUM_TOLERANCE or when the rows are not one per case of features + bias."""
    if contributions.shape != (len(x_reference), trees.feature_count + 1):
        raise ExplainerError(f"reference is {contributions.shape}, expected {(len(x_reference), trees.feature_count + 1)}"
                             " (one row per reference case: each feature's contribution, then the bias)")
    if not len(contributions):
        return 0.0
    sums = contributions.astype(np.float64).sum(axis=1)
    margins = walk_margins(trees, x_reference)
    deltas = np.abs(sums - margins)
    worst = int(np.argmax(deltas))
    if not deltas[worst] <= REFERENCE_SUM_TOLERANCE:
        raise ExplainerError(f"SHAP reference row {worst} sums to {sums[worst]:.7g}, its case's margin is "
                             f"{margins[worst]:.7g} (|delta| {deltas[worst]:.3g} > {REFERENCE_SUM_TOLERANCE:g})")
    return float(deltas[worst])


def explainer_json(trees: Trees, indexes: list[int], contributions: np.ndarray) -> str:
    """explainer.json text: fixed key order, one tree and one reference row per line."""
    def dump(value: object) -> str:
        return json.dumps(value, allow_nan=False, separators=(", ", ": "))
    tree_lines = ",\n".join("    " + dump(t) for t in trees.trees)
    rows = ",\n".join("      " + dump([float(v) for v in row]) for row in contributions)
    return ("{\n"
            f'  "formatVersion": {FORMAT_VERSION},\n'
            f'  "method": {dump(METHOD)},\n'
            f'  "featureCount": {trees.feature_count},\n'
            f'  "baseMargin": {dump(trees.base_margin)},\n'
            f'  "trees": [\n{tree_lines}\n  ],\n'
            '  "reference": {\n'
            f'    "parityCases": {dump(indexes)},\n'
            f'    "contributions": [\n{rows}\n    ]\n'
            "  }\n"
            "}\n")


def build_explainer(model: xgb.XGBClassifier, x_test: np.ndarray, x_parity: np.ndarray) -> Explainer:
    """Extract the trees, prove they reproduce xgboost's margins on the test split and on every
    parity case (`x_parity`, encoded as parity.json's probabilities were), take xgboost's SHAP
    values for the reference cases and prove they add up; ExplainerError when any check fails."""
    trees = extract_trees(model)
    if trees.feature_count != x_parity.shape[1]:
        raise ExplainerError(f"booster has {trees.feature_count} features, the encoded rows {x_parity.shape[1]}")
    margin_delta = max(check_margins(trees, model, x_test, f"the test split ({len(x_test)} rows)"),
                       check_margins(trees, model, x_parity, f"the parity cases ({len(x_parity)})"))
    indexes = reference_indexes(len(x_parity))
    contributions = reference_contributions(model, x_parity[indexes])
    reference_delta = check_reference(trees, x_parity[indexes], contributions)
    return Explainer(text=explainer_json(trees, indexes, contributions), tree_count=len(trees.trees),
                     reference_count=len(indexes), max_margin_delta=margin_delta,
                     max_reference_delta=reference_delta)
