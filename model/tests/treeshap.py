"""Path-dependent TreeSHAP (Lundberg et al. 2018, Algorithm 2) over explainer.json's trees, written
from the paper as the gateway computes it: the independent check that a file's trees and covers
give xgboost's own `pred_contribs` (its reference), which its margins alone cannot show (cover
changes no margin). Float64; slow (pure Python), for a few dozen rows."""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

# One path element: [feature, zero fraction, one fraction, permutation weight].
Path = list[list[float]]


def _extend(path: Path, zero: float, one: float, feature: int) -> Path:
    path = [list(e) for e in path] + [[float(feature), zero, one, 0.0 if path else 1.0]]
    depth = len(path) - 1
    for i in range(depth - 1, -1, -1):
        path[i + 1][3] += one * path[i][3] * (i + 1) / (depth + 1)
        path[i][3] = zero * path[i][3] * (depth - i) / (depth + 1)
    return path


def _unwind(path: Path, index: int) -> Path:
    path = [list(e) for e in path]
    depth = len(path) - 1
    zero, one = path[index][1], path[index][2]
    next_one = path[depth][3]
    for i in range(depth - 1, -1, -1):
        if one != 0:
            kept = path[i][3]
            path[i][3] = next_one * (depth + 1) / ((i + 1) * one)
            next_one = kept - path[i][3] * zero * (depth - i) / (depth + 1)
        else:
            path[i][3] = path[i][3] * (depth + 1) / (zero * (depth - i))
    for i in range(index, depth):  # the element leaves; the weights stay where they are
        path[i][0:3] = path[i + 1][0:3]
    return path[:depth]


def _unwound_sum(path: Path, index: int) -> float:
    depth = len(path) - 1
    zero, one = path[index][1], path[index][2]
    next_one = path[depth][3]
    total = 0.0
    for i in range(depth - 1, -1, -1):
        if one != 0:
            share = next_one * (depth + 1) / ((i + 1) * one)
            total += share
            next_one = path[i][3] - share * zero * (depth - i) / (depth + 1)
        else:
            total += (path[i][3] / zero) / ((depth - i) / (depth + 1))
    return total


def _hot_child(tree: Mapping[str, Any], node: int, x: np.ndarray) -> int:
    value = x[tree["feature"][node]]
    if math.isnan(value):
        go_left = bool(tree["defaultLeft"][node])
    else:
        go_left = bool(np.float32(value) < np.float32(tree["threshold"][node]))
    return int(tree["left"][node] if go_left else tree["right"][node])


def _recurse(tree: Mapping[str, Any], x: np.ndarray, phi: np.ndarray, node: int, path: Path,
             zero: float, one: float, feature: int) -> None:
    path = _extend(path, zero, one, feature)
    if tree["left"][node] == -1:
        for i in range(1, len(path)):
            weight = _unwound_sum(path, i)
            phi[int(path[i][0])] += weight * (path[i][2] - path[i][1]) * tree["leaf"][node]
        return
    split = int(tree["feature"][node])
    hot = _hot_child(tree, node, x)
    cold = int(tree["right"][node] if hot == tree["left"][node] else tree["left"][node])
    incoming_zero, incoming_one = 1.0, 1.0
    seen = next((i for i in range(1, len(path)) if int(path[i][0]) == split), None)
    if seen is not None:  # split on this feature above: undo its element, carry its fractions
        incoming_zero, incoming_one = path[seen][1], path[seen][2]
        path = _unwind(path, seen)
    cover = tree["cover"]
    _recurse(tree, x, phi, hot, path, cover[hot] / cover[node] * incoming_zero, incoming_one, split)
    _recurse(tree, x, phi, cold, path, cover[cold] / cover[node] * incoming_zero, 0.0, split)


def _expected_value(tree: Mapping[str, Any], node: int = 0) -> float:
    if tree["left"][node] == -1:
        return float(tree["leaf"][node])
    left, right, cover = tree["left"][node], tree["right"][node], tree["cover"]
    return float((cover[left] * _expected_value(tree, left) + cover[right] * _expected_value(tree, right))
                 / cover[node])


def contributions(explainer: Mapping[str, Any], x: np.ndarray) -> np.ndarray:
    """SHAP values of the rows `x` from the file's trees: [N, featureCount + 1], the bias last."""
    trees: Sequence[Mapping[str, Any]] = explainer["trees"]
    count = int(explainer["featureCount"])
    bias = float(explainer["baseMargin"]) + sum(_expected_value(t) for t in trees)
    out = np.zeros((len(x), count + 1))
    for row, values in enumerate(np.asarray(x, dtype=np.float32)):
        phi = np.zeros(count + 1)
        for tree in trees:
            _recurse(tree, values, phi, 0, [], 1.0, 1.0, -1)
        phi[count] = bias
        out[row] = phi
    return out
