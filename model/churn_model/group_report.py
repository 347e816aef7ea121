"""How the served model treats groups of customers: the committed bundle on its own test split, by demographic column.

The bundle's model.onnx (what the gateway serves) scores the test split its training run held out, rebuilt
from the split settings the manifest records, on the same data (the dataset's sha256 must be the manifest's).
The whole split's confusion matrix and ROC AUC must then be the manifest's (up to what the parity tolerance
between the ONNX model and xgboost allows), or nothing is written: the report describes the bundle's own
evaluation, cut by group. The report is a file of the bundle, `group_report.json` (bundle.GROUP_REPORT_FILE),
naming the bundle it describes (`bundle.onnxSha256`, `threshold` and `datasetSha256`, which the gateway checks
against the manifest, and `bundle.runId`, recorded only): every training run writes it into the bundle it builds (pipeline.py), so it is
logged with the run's `bundle/` artifact and published with the bundle; this tool writes it for a bundle
that has none or an outdated one (model/bundle's was written this way).

For each value of the data set's demographic columns (gender, SeniorCitizen, Partner, Dependents, each with two
values): customers, churners, the churn rate against the mean probability (calibration in the large), the share
flagged as likely to churn (`willChurn`), recall (churners flagged), the false positive rate (others flagged) and
precision, each rate with its 95 % Wilson interval, and ROC AUC with DeLong's 95 % interval; per column, the
difference between its two groups (the second value's minus the first's, in sorted order) with Newcombe's 95 %
interval. Then a counterfactual: every test customer scored again with only that column's value swapped
(Female <-> Male, 0 <-> 1, No <-> Yes), counting the decisions that change, each way. A column the model does
not read (still in the manifest's columns, as the gateway's contract requires) changes nothing.

It selects nothing and changes nothing but `--out` (not part of a training run); `--out` is the bundle's own
group_report.json unless named (model/bundle/group_report.json for the default bundle):
    PYTHONPATH=model model/.venv/bin/python -m churn_model.group_report --data <csv> \\
        [--bundle model/bundle] [--out model/bundle/group_report.json]
"""
from __future__ import annotations

import argparse
import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from churn_model import entry, evaluate, features, train
from churn_model.bundle import GROUP_REPORT_FILE, MANIFEST_FILE
from churn_model.config import MODEL_DIR, SplitConfig
from churn_model.data import Dataset, Record
from churn_model.features import FeatureSpec

DEMOGRAPHIC_COLUMNS = ("gender", "SeniorCitizen", "Partner", "Dependents")
DEFAULT_BUNDLE = MODEL_DIR / "bundle"
# Where the report of a bundle goes unless --out names another file: the bundle's own group_report.json.
DEFAULT_OUT = DEFAULT_BUNDLE / GROUP_REPORT_FILE
RATES = ("flagged", "recall", "false_positive_rate", "precision")
# The manifest's metrics are xgboost's; the ONNX model's probabilities differ from them within the parity
# tolerance, which can reorder close pairs: the bound the full-data training test holds the served AUC to.
AUC_TOLERANCE = 1e-4


def wilson(successes: int, trials: int) -> list[float] | None:
    """The 95 % (evaluate.CI_LEVEL) Wilson score interval of a proportion; None with no trials."""
    if trials == 0:
        return None
    p, z = successes / trials, evaluate.Z_CI
    centre = (p + z**2 / (2 * trials)) / (1 + z**2 / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z**2 / (4 * trials**2)) / (1 + z**2 / trials)
    # It holds p; at p = 0 or 1 the end that touches p is computed with a rounding error (0.9999999999999999).
    return [min(p, max(0.0, centre - half)), max(p, min(1.0, centre + half))]


def _rate(successes: int, trials: int) -> dict[str, Any]:
    return {"value": successes / trials if trials else None, "ci95": wilson(successes, trials)}


def _auc(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    if y.sum() < 2 or (1 - y).sum() < 2:  # DeLong needs two of each class
        return {"value": None, "ci95": None}
    auc, se = evaluate.roc_auc_delong(y, p)
    return {"value": auc, "ci95": evaluate.normal_interval(auc, se)}


def group_metrics(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, Any]:
    """What the model does for one group of customers (labels `y`, probabilities `p`)."""
    flagged = p >= threshold
    churners, others = int(y.sum()), int((1 - y).sum())
    tp, fp = int((flagged & (y == 1)).sum()), int((flagged & (y == 0)).sum())
    mean_p = float(p.mean()) if len(p) else None
    return {
        "customers": len(y), "churners": churners,
        "churn_rate": _rate(churners, len(y)),
        "mean_probability": mean_p,
        # Calibration in the large: above 0, the model puts the group's risk higher than it turned out.
        "mean_probability_minus_churn_rate": None if mean_p is None else mean_p - churners / len(y),
        "flagged": _rate(tp + fp, len(y)),
        "recall": _rate(tp, churners),
        "false_positive_rate": _rate(fp, others),
        "precision": _rate(tp, tp + fp),
        "roc_auc": _auc(y, p),
    }


def newcombe(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """b - a for two independent proportions with their Wilson intervals, and Newcombe's (1998, method 10) 95 %
    interval for it; None where either has no value."""
    if a["value"] is None or b["value"] is None:
        return {"value": None, "ci95": None}
    (la, ua), (lb, ub) = a["ci95"], b["ci95"]
    d = b["value"] - a["value"]
    return {"value": d, "ci95": [d - math.hypot(b["value"] - lb, ua - a["value"]),
                                 d + math.hypot(ub - b["value"], a["value"] - la)]}


def differences(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """The second group's measures minus the first's: rates with Newcombe's interval; calibration in the large
    without one."""
    diff: dict[str, Any] = {k: newcombe(first[k], second[k]) for k in RATES}
    ca, cb = first["mean_probability_minus_churn_rate"], second["mean_probability_minus_churn_rate"]
    diff["mean_probability_minus_churn_rate"] = None if ca is None or cb is None else cb - ca
    return diff


def swapped(records: list[Record], column: str, values: tuple[str | int, str | int]) -> list[Record]:
    """`records` with only `column`'s value exchanged for the other of its two `values`."""
    a, b = values
    return [r | {column: b if r[column] == a else a} for r in records]


@dataclass(frozen=True)
class ManifestFacts:
    """What the report reads from manifest.json, checked when the bundle is opened."""
    run_id: str
    onnx_sha256: str
    dataset_sha256: str
    threshold: float
    split: SplitConfig
    confusion: dict[str, int]
    test_roc_auc: float
    parity_tolerance: float
    feature_spec: FeatureSpec
    # Each demographic column's two values in sorted order, typed as the data's records hold them.
    values: dict[str, tuple[str | int, str | int]]

    @staticmethod
    def read(data: dict[str, Any]) -> ManifestFacts:
        params, metrics = data["params"], data["metrics"]
        specs = {c["name"]: c for c in data["featureSpec"]["columns"]}
        values: dict[str, tuple[str | int, str | int]] = {}
        for column in DEMOGRAPHIC_COLUMNS:
            allowed = sorted(specs[column]["allowedValues"])
            if len(allowed) != 2:
                raise ValueError(f"featureSpec column {column} has {len(allowed)} allowed values, not 2")
            a, b = (int(v) for v in allowed) if specs[column]["kind"] == "integer" else (str(v) for v in allowed)
            values[column] = (a, b)
        return ManifestFacts(
            run_id=str(data["run"]["runId"]), onnx_sha256=str(data["onnx"]["sha256"]),
            dataset_sha256=str(data["datasetSha256"]), threshold=float(data["threshold"]),
            split=SplitConfig(test_size=float(params["test_size"]), validation_size=float(params["validation_size"]),
                              random_state=int(params["random_state"]), cv_folds=int(params["cv_folds"])),
            confusion={k: int(metrics[f"test_{k}"]) for k in ("tn", "fp", "fn", "tp")},
            test_roc_auc=float(metrics["test_roc_auc"]), parity_tolerance=float(data["parity"]["tolerance"]),
            feature_spec=data["featureSpec"], values=values)


class BundleModel:
    """The bundle's manifest and its ONNX session (KeyError, ValueError or onnxruntime's errors when it cannot be read):
    from a bundle folder, or (`of_files`) from the texts of its manifest and model before they are written."""

    def __init__(self, folder: Path) -> None:
        raw = json.loads((folder / MANIFEST_FILE).read_text())
        self._open(raw, str(folder / raw["onnx"]["file"]))

    @classmethod
    def of_files(cls, manifest_text: str, onnx_bytes: bytes) -> BundleModel:
        """The bundle whose manifest.json and model.onnx will hold these (a training run's, pipeline.py): the same
        model and manifest as read back from its folder."""
        model = cls.__new__(cls)
        model._open(json.loads(manifest_text), onnx_bytes)
        return model

    def _open(self, raw: dict[str, Any], onnx_model: str | bytes) -> None:
        self.manifest = ManifestFacts.read(raw)
        onnx = raw["onnx"]
        self.session = ort.InferenceSession(onnx_model, providers=["CPUExecutionProvider"])
        self.io = (str(onnx["inputName"]), str(onnx["outputName"]), int(onnx["positiveClassIndex"]))

    def probabilities(self, records: list[Record]) -> np.ndarray:
        x = features.encode_records(records, self.manifest.feature_spec)
        input_name, output_name, positive = self.io
        (probs,) = self.session.run([output_name], {input_name: x})
        return np.asarray(probs)[:, positive].astype(np.float64)


class ReportError(RuntimeError):
    """The data or the bundle cannot give the bundle's own test split back."""


def _counterfactual(model: BundleModel, records: list[Record], of: np.ndarray, p: np.ndarray, column: str
                    ) -> dict[str, Any]:
    """Per value: its customers scored again as the other value, the change in probability and in decision."""
    threshold = model.manifest.threshold
    values = model.manifest.values[column]
    p_swapped = model.probabilities(swapped(records, column, values))
    change, was, now = p_swapped - p, p >= threshold, p_swapped >= threshold
    result: dict[str, Any] = {}
    for value in values:
        mine = of == str(value)
        if mine.any():
            result[str(value)] = {"customers": int(mine.sum()), "mean_change": float(change[mine].mean()),
                                  "max_abs_change": float(np.abs(change[mine]).max()),
                                  "newly_flagged": int((mine & now & ~was).sum()),
                                  "no_longer_flagged": int((mine & was & ~now).sum())}
    return result


def _check_evaluation(manifest: ManifestFacts, y: np.ndarray, p: np.ndarray, auc: float) -> None:
    """ReportError unless the ONNX model on this split gives the manifest's confusion matrix (up to the customers
    within the parity tolerance of the threshold, whom xgboost may have put on the other side) and ROC AUC."""
    confusion = evaluate.confusion(y, (p >= manifest.threshold).astype(int))
    near = int((np.abs(p - manifest.threshold) <= manifest.parity_tolerance).sum())
    if any(abs(confusion[k] - manifest.confusion[k]) > near for k in confusion):
        raise ReportError(f"the bundle's model on the rebuilt test split gives {confusion}, not the manifest's "
                          f"{manifest.confusion}")
    if abs(auc - manifest.test_roc_auc) > AUC_TOLERANCE:
        raise ReportError(f"the bundle's model on the rebuilt test split has ROC AUC {auc}, "
                          f"not the manifest's {manifest.test_roc_auc}")


def report(dataset: Dataset, model: BundleModel, check_evaluation: bool = True) -> dict[str, Any]:
    """The bundle's test split by demographic group, and the counterfactual swaps. ReportError when the data, or
    (`check_evaluation`) the manifest's metrics, do not give the bundle's own evaluation back; a training run
    reporting on the bundle it has just built skips the latter (pipeline.py)."""
    manifest = model.manifest
    if dataset.sha256 != manifest.dataset_sha256:
        raise ReportError(f"the bundle was trained on data with sha256 {manifest.dataset_sha256}; "
                          f"{dataset.path} has {dataset.sha256}")
    y_all = np.asarray(dataset.labels, dtype=np.int64)
    test = train.split_indices(y_all, manifest.split).test
    records, y = [dataset.records[i] for i in test], y_all[test]
    threshold = manifest.threshold
    p = model.probabilities(records)
    overall = group_metrics(y, p, threshold)
    if check_evaluation:
        _check_evaluation(manifest, y, p, overall["roc_auc"]["value"])
    columns: dict[str, Any] = {}
    counterfactual: dict[str, Any] = {}
    for column in DEMOGRAPHIC_COLUMNS:
        of = np.array([str(r[column]) for r in records])
        groups = {str(v): group_metrics(y[of == str(v)], p[of == str(v)], threshold) for v in manifest.values[column]}
        first, second = (groups[str(v)] for v in manifest.values[column])
        columns[column] = {"groups": groups, "second_minus_first": differences(first, second)}
        counterfactual[column] = _counterfactual(model, records, of, p, column)
    return {"bundle": {"runId": manifest.run_id, "onnxSha256": manifest.onnx_sha256},
            "datasetSha256": dataset.sha256, "threshold": threshold, "overall": overall,
            "columns": columns, "counterfactual": counterfactual}


def report_json(result: dict[str, Any]) -> str:
    """group_report.json's text: sorted keys, 2-space indent, floats in Python's shortest round-trip repr. A NaN
    or an infinity (which JSON cannot carry, and no measure here should give) is a ValueError, before anything is
    written or logged."""
    return json.dumps(result, indent=2, sort_keys=True, allow_nan=False) + "\n"


def _pct(rate: dict[str, Any]) -> str:
    if rate["value"] is None:
        return "—"
    low, high = rate["ci95"]
    return f"{100 * rate['value']:.1f} ({100 * low:.0f}–{100 * high:.0f})"


def _points(diff: dict[str, Any]) -> str:
    if diff["value"] is None:
        return "—"
    low, high = diff["ci95"]
    return f"{100 * diff['value']:+.1f} ({100 * low:+.1f} to {100 * high:+.1f})"


def _auc_text(auc: dict[str, Any]) -> str:
    return "—" if auc["value"] is None else f"{auc['value']:.3f} ({auc['ci95'][0]:.3f}–{auc['ci95'][1]:.3f})"


def markdown(result: dict[str, Any]) -> str:
    """The report's three tables as model/README.md shows them (a test keeps the README's copy the same). Columns in
    DEMOGRAPHIC_COLUMNS' order and values sorted, as computed and as read back from the JSON (sorted keys)."""
    columns = [(c, result["columns"][c]) for c in DEMOGRAPHIC_COLUMNS]

    def row(label: str, g: dict[str, Any]) -> str:
        mean = "—" if g["mean_probability"] is None else f"{g['mean_probability']:.3f}"  # a value with no customers
        return (f"| {label} | {g['customers']} ({g['churners']}) | {_pct(g['churn_rate'])} | {mean} | "
                f"{_pct(g['flagged'])} | {_pct(g['recall'])} | {_pct(g['false_positive_rate'])} | "
                f"{_pct(g['precision'])} | {_auc_text(g['roc_auc'])} |")
    lines = [f"| group | customers (churners) | churn rate % | mean probability | flagged % (p ≥ {result['threshold']:g}) | "
             "recall % | false positive rate % | precision % | ROC AUC |", "|---|---|---|---|---|---|---|---|---|",
             row("whole test split", result["overall"])]
    for column, entry_ in columns:
        lines += [row(f"{column} = {value}", entry_["groups"][value]) for value in sorted(entry_["groups"])]

    lines += ["", "| difference, points | flagged | recall | false positive rate | precision | "
              "mean probability − churn rate |", "|---|---|---|---|---|---|"]
    for column, entry_ in columns:
        first, second = sorted(entry_["groups"])
        d = entry_["second_minus_first"]
        calibration = d["mean_probability_minus_churn_rate"]
        lines.append(f"| {column}: {second} − {first} | " + " | ".join(_points(d[k]) for k in RATES)
                     + f" | {'—' if calibration is None else f'{100 * calibration:+.1f}'} |")

    lines += ["", "| scored as the other value | customers | mean change in probability | largest change | "
              "newly flagged | no longer flagged |", "|---|---|---|---|---|---|"]
    for column, _entry in columns:
        swaps = result["counterfactual"][column]
        for value in sorted(swaps):
            s = swaps[value]
            lines.append(f"| {column} = {value} | {s['customers']} | {s['mean_change']:+.4f} | {s['max_abs_change']:.4f} | "
                         f"{s['newly_flagged']} | {s['no_longer_flagged']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="group_report",
                                     description="The committed bundle on its own test split, by demographic group.")
    parser.add_argument("--data", required=True, help="the CSV the bundle was trained on")
    parser.add_argument("--bundle", default=str(DEFAULT_BUNDLE), help="model bundle folder (default: model/bundle)")
    parser.add_argument("--out", help=f"report JSON (default: the bundle's {GROUP_REPORT_FILE}, "
                                       f"model/bundle/{GROUP_REPORT_FILE} for the default bundle)")
    args = parser.parse_args(argv)
    folder = entry.resolve_path(args.bundle, "--bundle")
    if not folder.exists():
        raise entry.usage_error(f"--bundle {args.bundle} not found ({entry.looked_for(args.bundle)}): name a model bundle folder")
    if not (folder / MANIFEST_FILE).is_file():
        raise entry.usage_error(f"--bundle {folder} has no {MANIFEST_FILE}: name a model bundle folder")
    out = entry.output_file(args.out or str(folder / GROUP_REPORT_FILE), "--out")
    data = entry.data_file(args.data)
    try:
        model = BundleModel(folder)
    except Exception as err:  # noqa: BLE001 - a missing key, a bad value, onnxruntime's own errors (each its own class)
        raise entry.usage_error(f"cannot read the model bundle {folder}: {type(err).__name__}: {err}") from err
    try:
        result = report(entry.dataset(data), model)
    except ReportError as err:
        raise entry.usage_error(str(err)) from err
    out.parent.mkdir(parents=True, exist_ok=True)
    # Renamed into place: a gateway starting meanwhile reads the old report or the new one, never part of one.
    partial = out.with_name(f".{out.name}.partial")
    try:
        partial.write_text(report_json(result))
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)  # left by a failed write or rename, never a file of the bundle
    print(markdown(result), end="")


if __name__ == "__main__":
    main()
