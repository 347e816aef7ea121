"""Step 5: convert the fitted XGBoost model to ONNX and prove the export with a parity check.

Returns: `to_onnx(...)` -> `OnnxExport` (serialized bytes, input/output names, opset);
`check_parity(...)` -> max |p_onnx - p_xgboost| over the given rows, raising `ParityError`
when it exceeds the tolerance (the run then stops with a non-zero exit).

The graph takes float32 `features` [N, n_features] and has tensor outputs only
(`label` int64 [N], `probabilities` float32 [N, 2]; no ZipMap).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx
import onnxruntime as ort
import xgboost as xgb
from onnxmltools import convert_xgboost
from onnxmltools.convert.common.data_types import FloatTensorType

INPUT_NAME = "features"
PROBABILITIES_NAME = "probabilities"
POSITIVE_CLASS_INDEX = 1
GRAPH_NAME = "telco_churn_xgboost"


class ParityError(RuntimeError):
    """ONNX and xgboost disagree by more than the tolerance."""


@dataclass(frozen=True)
class OnnxExport:
    model_bytes: bytes
    input_name: str
    output_name: str
    opset: int


def _rename_probability_output(model: onnx.ModelProto) -> None:
    """Name the [N,2] float output `probabilities` whatever the converter called it."""
    float_outputs = [o for o in model.graph.output
                     if o.type.tensor_type.elem_type == onnx.TensorProto.FLOAT]
    if len(float_outputs) != 1:
        raise ParityError(f"expected one float tensor output, got {[o.name for o in model.graph.output]}")
    old = float_outputs[0].name
    if old == PROBABILITIES_NAME:
        return
    for node in model.graph.node:
        node.output[:] = [PROBABILITIES_NAME if n == old else n for n in node.output]
    float_outputs[0].name = PROBABILITIES_NAME


def _default_opset(model: onnx.ModelProto, target: int) -> int:
    """The ai.onnx opset; the converter only imports ai.onnx.ml for a bare tree ensemble,
    so the default domain is declared at the target opset to make the manifest's opset real."""
    for op in model.opset_import:
        if op.domain in ("", "ai.onnx"):
            return int(op.version)
    model.opset_import.append(onnx.helper.make_opsetid("", target))
    return target


def to_onnx(model: xgb.XGBClassifier, n_features: int, opset: int) -> OnnxExport:
    """Convert with onnxmltools; float32 input `features`, tensor outputs, no ZipMap."""
    proto = convert_xgboost(model, initial_types=[(INPUT_NAME, FloatTensorType([None, n_features]))],
                            target_opset=opset)
    _rename_probability_output(proto)
    proto.graph.name = GRAPH_NAME  # the converter names the graph with a random uuid
    opset_used = _default_opset(proto, opset)
    onnx.checker.check_model(proto)
    return OnnxExport(proto.SerializeToString(), INPUT_NAME, PROBABILITIES_NAME, opset_used)


def onnx_probabilities(export: OnnxExport, x: np.ndarray) -> np.ndarray:
    """P(churn) from onnxruntime for float32 rows `x`."""
    session = ort.InferenceSession(export.model_bytes, providers=["CPUExecutionProvider"])
    (probs,) = session.run([export.output_name], {export.input_name: x.astype(np.float32)})
    return np.asarray(probs)[:, POSITIVE_CLASS_INDEX].astype(np.float64)


def xgboost_probabilities(model: xgb.XGBClassifier, x: np.ndarray) -> np.ndarray:
    return np.asarray(model.predict_proba(x.astype(np.float32)))[:, 1].astype(np.float64)


def check_parity(export: OnnxExport, model: xgb.XGBClassifier, x: np.ndarray,
                 tolerance: float) -> float:
    """Max |Δp| between ONNX and xgboost on `x`; raise ParityError above `tolerance`."""
    delta = float(np.max(np.abs(onnx_probabilities(export, x) - xgboost_probabilities(model, x))))
    if not delta <= tolerance:
        raise ParityError(f"ONNX export disagrees with xgboost: max |dp| = {delta:.3g} > {tolerance:g}")
    return delta
