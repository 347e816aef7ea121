"""How the served model treats groups of customers: the committed bundle on its own test split, by demographic column.

The bundle's model.onnx (what the gateway serves) scores the test split its training run held out, rebuilt
from the split settings the manifest records, on the same data (the dataset's sha256 must be the manifest's).
The whole split's confusion matrix must then be the manifest's, or nothing is written: the report describes
the bundle's own evaluation, cut by group.

For each value of the data set's demographic columns (gender, SeniorCitizen, Partner, Dependents): customers,
churners, the churn rate against the mean probability (calibration in the large), the share flagged as likely
to churn (`willChurn`), recall (churners flagged), the false positive rate (others flagged) and precision, each
rate with its 95 % Wilson interval, and ROC AUC; per column, the largest gap between its groups. Then a
counterfactual: every test customer scored again with only that column's value swapped (Female <-> Male,
0 <-> 1, Yes <-> No), counting the decisions that change.

It selects nothing and changes nothing (not part of a training run):
    PYTHONPATH=model model/.venv/bin/python -m churn_model.group_report --data <csv> \\
        [--bundle model/bundle] [--out model/results/group-report.json]
"""
from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from scipy.stats import norm
from sklearn.metrics import roc_auc_score

from churn_model import entry, evaluate, features, train
from churn_model.bundle import MANIFEST_FILE
from churn_model.config import MODEL_DIR, SplitConfig
from churn_model.data import Dataset, Record

DEMOGRAPHIC_COLUMNS = ("gender", "SeniorCitizen", "Partner", "Dependents")
DEFAULT_BUNDLE = MODEL_DIR / "bundle"
DEFAULT_OUT = MODEL_DIR / "results" / "group-report.json"
Z95 = float(norm.ppf(0.975))


def wilson(successes: int, trials: int) -> list[float] | None:
    """The 95 % Wilson score interval of a proportion; None with no trials."""
    if trials == 0:
        return None
    p = successes / trials
    centre = (p + Z95**2 / (2 * trials)) / (1 + Z95**2 / trials)
    half = Z95 * math.sqrt(p * (1 - p) / trials + Z95**2 / (4 * trials**2)) / (1 + Z95**2 / trials)
    return [max(0.0, centre - half), min(1.0, centre + half)]


def _rate(successes: int, trials: int) -> dict[str, Any]:
    return {"value": successes / trials if trials else None, "ci95": wilson(successes, trials)}


def group_metrics(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, Any]:
    """What the model does for one group of customers (labels `y`, probabilities `p`)."""
    flagged = p >= threshold
    churners, others = int(y.sum()), int((1 - y).sum())
    tp, fp = int((flagged & (y == 1)).sum()), int((flagged & (y == 0)).sum())
    return {
        "customers": len(y), "churners": churners,
        "churn_rate": _rate(churners, len(y)),
        "mean_probability": float(p.mean()) if len(p) else None,
        "flagged": _rate(tp + fp, len(y)),
        "recall": _rate(tp, churners),
        "false_positive_rate": _rate(fp, others),
        "precision": _rate(tp, tp + fp),
        "roc_auc": float(roc_auc_score(y, p)) if churners and others else None,
    }


def _gap(groups: dict[str, dict[str, Any]], read: Any) -> float | None:
    values = [read(g) for g in groups.values()]
    return max(values) - min(values) if all(v is not None for v in values) and len(values) > 1 else None


def gaps(groups: dict[str, dict[str, Any]]) -> dict[str, float | None]:
    """The largest difference between a column's groups, per measure (calibration: mean probability minus churn rate)."""
    return {
        "flagged": _gap(groups, lambda g: g["flagged"]["value"]),
        "recall": _gap(groups, lambda g: g["recall"]["value"]),
        "false_positive_rate": _gap(groups, lambda g: g["false_positive_rate"]["value"]),
        "precision": _gap(groups, lambda g: g["precision"]["value"]),
        "calibration": _gap(groups, lambda g: None if g["mean_probability"] is None
                            else g["mean_probability"] - g["churn_rate"]["value"]),
    }


def swapped(records: list[Record], column: str, values: list[str], integer: bool) -> list[Record]:
    """`records` with only `column`'s value exchanged for the other of its two `values`."""
    a, b = (int(v) for v in values) if integer else values
    return [r | {column: b if r[column] == a else a} for r in records]


class BundleModel:
    """The bundle's manifest and its ONNX session."""

    def __init__(self, folder: Path) -> None:
        self.manifest: dict[str, Any] = json.loads((folder / MANIFEST_FILE).read_text())
        onnx = self.manifest["onnx"]
        self.session = ort.InferenceSession(str(folder / onnx["file"]), providers=["CPUExecutionProvider"])
        self.io = (onnx["inputName"], onnx["outputName"], int(onnx["positiveClassIndex"]))

    def probabilities(self, records: list[Record]) -> np.ndarray:
        x = features.encode_records(records, self.manifest["featureSpec"])
        input_name, output_name, positive = self.io
        (probs,) = self.session.run([output_name], {input_name: x})
        return np.asarray(probs)[:, positive].astype(np.float64)

    def split(self) -> SplitConfig:
        params = self.manifest["params"]
        return SplitConfig(test_size=float(params["test_size"]), validation_size=float(params["validation_size"]),
                           random_state=int(params["random_state"]), cv_folds=int(params["cv_folds"]))


class ReportError(RuntimeError):
    """The data or the bundle cannot give the bundle's own test split back."""


def report(dataset: Dataset, model: BundleModel) -> dict[str, Any]:
    """The bundle's test split by demographic group, and the counterfactual swaps (ReportError when the data or
    the manifest does not give the bundle's own evaluation back)."""
    manifest = model.manifest
    if dataset.sha256 != manifest["datasetSha256"]:
        raise ReportError(f"the bundle was trained on data with sha256 {manifest['datasetSha256']}; "
                          f"{dataset.path} has {dataset.sha256}")
    y_all = np.asarray(dataset.labels, dtype=np.int64)
    test = train.split_indices(y_all, model.split()).test
    records, y = [dataset.records[i] for i in test], y_all[test]
    threshold = float(manifest["threshold"])
    p = model.probabilities(records)
    overall = group_metrics(y, p, threshold)
    flagged = p >= threshold
    confusion = evaluate.confusion(y, flagged.astype(int))
    recorded = {k: int(manifest["metrics"][f"test_{k}"]) for k in confusion}
    if confusion != recorded:
        raise ReportError(f"the bundle's model on the rebuilt test split gives {confusion}, not the manifest's {recorded}")
    specs = {c["name"]: c for c in manifest["featureSpec"]["columns"]}
    columns: dict[str, Any] = {}
    counterfactual: dict[str, Any] = {}
    for column in DEMOGRAPHIC_COLUMNS:
        spec = specs[column]
        integer = spec["kind"] == "integer"
        values = [str(v) for v in spec["allowedValues"]]
        of = np.array([str(r[column]) for r in records])
        groups = {v: group_metrics(y[of == v], p[of == v], threshold) for v in values}
        columns[column] = {"groups": groups, "gaps": gaps(groups)}
        p_swapped = model.probabilities(swapped(records, column, values, integer))
        change, changed = p_swapped - p, (p_swapped >= threshold) != flagged
        counterfactual[column] = {
            v: {"customers": int((of == v).sum()), "mean_change": float(change[of == v].mean()),
                "max_abs_change": float(np.abs(change[of == v]).max()),
                "decisions_changed": int(changed[of == v].sum())}
            for v in values if (of == v).any()}
    return {"bundle": {"runId": manifest["run"]["runId"], "onnxSha256": manifest["onnx"]["sha256"]},
            "datasetSha256": dataset.sha256, "threshold": threshold, "overall": overall,
            "columns": columns, "counterfactual": counterfactual}


def _pct(rate: dict[str, Any]) -> str:
    if rate["value"] is None:
        return "—"
    low, high = rate["ci95"]
    return f"{100 * rate['value']:.1f} ({100 * low:.0f}–{100 * high:.0f})"


def _num(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def markdown(result: dict[str, Any]) -> str:
    """The report's tables as model/README.md shows them (a test keeps the README's copy the same)."""
    lines = ["| column = value | customers (churners) | churn rate % | mean probability | flagged % | recall % | "
             "false positive rate % | precision % | ROC AUC |", "|---|---|---|---|---|---|---|---|---|"]

    def row(label: str, g: dict[str, Any]) -> str:
        return (f"| {label} | {g['customers']} ({g['churners']}) | {_pct(g['churn_rate'])} | {_num(g['mean_probability'])} | "
                f"{_pct(g['flagged'])} | {_pct(g['recall'])} | {_pct(g['false_positive_rate'])} | "
                f"{_pct(g['precision'])} | {_num(g['roc_auc'])} |")
    # In DEMOGRAPHIC_COLUMNS' order and each column's values sorted, as printed and as read back from the JSON
    # (written with sorted keys).
    columns = [(c, result["columns"][c]) for c in DEMOGRAPHIC_COLUMNS]
    lines.append(row("whole test split", result["overall"]))
    for column, entry_ in columns:
        lines += [row(f"{column} = {value}", entry_["groups"][value]) for value in sorted(entry_["groups"])]
    lines += ["", "| column | largest gap between its groups, points: flagged / recall / false positive rate / precision / "
              "calibration (mean probability − churn rate) | swapped, decisions changed | swapped, mean / largest change "
              "in probability |", "|---|---|---|---|"]
    for column, entry_ in columns:
        gap = entry_["gaps"]
        points = " / ".join(_num(None if gap[k] is None else 100 * gap[k], 1)
                            for k in ("flagged", "recall", "false_positive_rate", "precision", "calibration"))
        swaps = result["counterfactual"][column]
        changed = sum(s["decisions_changed"] for s in swaps.values())
        customers = sum(s["customers"] for s in swaps.values())
        moves = "; ".join(f"{value}: {swaps[value]['mean_change']:+.4f} / {swaps[value]['max_abs_change']:.4f}"
                          for value in sorted(swaps))
        lines.append(f"| {column} | {points} | {changed} of {customers} | {moves} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="group_report",
                                     description="The committed bundle on its own test split, by demographic group.")
    parser.add_argument("--data", required=True, help="the CSV the bundle was trained on")
    parser.add_argument("--bundle", default=str(DEFAULT_BUNDLE), help="model bundle folder (default: model/bundle)")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="results JSON (default: model/results/group-report.json)")
    args = parser.parse_args(argv)
    out = entry.output_file(args.out, "--out")
    folder = entry.resolve_path(args.bundle)
    if not (folder / MANIFEST_FILE).is_file():
        raise entry.usage_error(f"--bundle {folder} has no {MANIFEST_FILE}: name a model bundle folder")
    data = entry.data_file(args.data)
    try:
        model = BundleModel(folder)
        model.split()
    except Exception as err:  # noqa: BLE001 - a missing key, a bad number, onnxruntime's own errors (each its own class)
        raise entry.usage_error(f"cannot read the model bundle {folder}: {type(err).__name__}: {err}") from err
    try:
        result = report(entry.dataset(data), model)
    except ReportError as err:
        raise entry.usage_error(str(err)) from err
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print(markdown(result), end="")


if __name__ == "__main__":
    main()
