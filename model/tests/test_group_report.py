"""The group report (churn_model.group_report): the committed bundle on its own test split, by demographic group."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from churn_model import group_report, synthetic
from churn_model.config import MODEL_DIR
from churn_model.data import Record, load_dataset
from churn_model.pipeline import PipelineOptions, PipelineResult

from .conftest import write_csv

CHURN_DATA = os.environ.get("CHURN_DATA")
Run = tuple[PipelineResult, str, PipelineOptions]


def run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int | str | None, str, str]:
    with pytest.raises(SystemExit) as exit_:
        group_report.main(args)
    out, err = capsys.readouterr()
    return exit_.value.code, out, err


def test_wilson_interval_matches_the_textbook_values() -> None:
    # Newcombe (1998), table I: 0/10 -> 0.0000-0.2775, 5/10 -> 0.2366-0.7634; 10/10 mirrors 0/10.
    assert group_report.wilson(0, 10) == pytest.approx([0.0, 0.2775], abs=1e-4)
    assert group_report.wilson(5, 10) == pytest.approx([0.2366, 0.7634], abs=1e-4)
    assert group_report.wilson(10, 10) == pytest.approx([0.7225, 1.0], abs=1e-4)
    assert group_report.wilson(0, 0) is None


def test_group_metrics_counts_flags_at_the_threshold() -> None:
    y = np.array([1, 1, 1, 0, 0, 0, 0, 0])
    p = np.array([0.9, 0.5, 0.1, 0.5, 0.49, 0.2, 0.1, 0.0])  # flagged: p >= 0.5, so 0.5 is flagged and 0.49 is not
    g = group_report.group_metrics(y, p, threshold=0.5)
    assert (g["customers"], g["churners"]) == (8, 3)
    assert g["flagged"]["value"] == 3 / 8
    assert g["recall"]["value"] == 2 / 3
    assert g["false_positive_rate"]["value"] == 1 / 5
    assert g["precision"]["value"] == 2 / 3
    assert g["churn_rate"]["ci95"] == group_report.wilson(3, 8)
    assert g["mean_probability"] == pytest.approx(p.mean())
    assert g["roc_auc"] == pytest.approx(11 / 15)  # of 15 churner/other pairs: 10 ranked right, 2 ties (half each)


def test_a_group_without_churners_has_no_recall_or_auc() -> None:
    g = group_report.group_metrics(np.array([0, 0]), np.array([0.7, 0.1]), threshold=0.5)
    assert (g["recall"], g["roc_auc"]) == ({"value": None, "ci95": None}, None)
    assert g["false_positive_rate"]["value"] == 0.5


def test_gaps_are_the_largest_difference_between_groups() -> None:
    y = np.array([1, 0, 1, 0, 0, 1])
    p = np.array([0.9, 0.6, 0.2, 0.1, 0.1, 0.8])
    groups = {"a": group_report.group_metrics(y[:2], p[:2], 0.5), "b": group_report.group_metrics(y[2:], p[2:], 0.5)}
    gaps = group_report.gaps(groups)
    assert gaps["flagged"] == pytest.approx(1.0 - 0.25)
    assert gaps["recall"] == pytest.approx(1.0 - 0.5)
    assert gaps["calibration"] == pytest.approx(abs((0.75 - 0.5) - (0.3 - 0.5)))


def test_swapping_changes_that_column_only() -> None:
    records: list[Record] = [{"gender": "Female", "SeniorCitizen": 0, "tenure": 3},
                             {"gender": "Male", "SeniorCitizen": 1, "tenure": 9}]
    assert group_report.swapped(records, "gender", ["Female", "Male"], integer=False) == [
        {"gender": "Male", "SeniorCitizen": 0, "tenure": 3}, {"gender": "Female", "SeniorCitizen": 1, "tenure": 9}]
    assert group_report.swapped(records, "SeniorCitizen", ["0", "1"], integer=True) == [
        {"gender": "Female", "SeniorCitizen": 1, "tenure": 3}, {"gender": "Male", "SeniorCitizen": 0, "tenure": 9}]
    assert records[0]["gender"] == "Female"  # the input is left as it was


def test_a_bundle_on_its_own_data_is_reported_by_group(small_run: Run, small_csv: Path) -> None:
    result, _uri, opts = small_run
    report = group_report.report(load_dataset(small_csv), group_report.BundleModel(opts.out_dir))
    overall = report["overall"]
    assert overall["customers"] == 120  # 20 % of the 600 generated customers
    assert overall["roc_auc"] == pytest.approx(result.metrics["test_roc_auc"], abs=1e-6)  # ONNX against xgboost's own
    assert report["threshold"] == result.threshold
    for column in group_report.DEMOGRAPHIC_COLUMNS:
        groups = report["columns"][column]["groups"]
        assert sum(g["customers"] for g in groups.values()) == overall["customers"]
        assert sum(g["churners"] for g in groups.values()) == overall["churners"]
        swaps = report["counterfactual"][column]
        assert sum(s["customers"] for s in swaps.values()) == overall["customers"]
        assert all(0 <= s["decisions_changed"] <= s["customers"] for s in swaps.values())


def test_data_other_than_the_bundles_is_refused(small_run: Run, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    opts = small_run[2]
    other = write_csv(synthetic.churn_frame(600, seed=8), tmp_path / "other.csv")
    code, out, err = run_main(["--data", str(other), "--bundle", str(opts.out_dir), "--out", str(tmp_path / "r.json")], capsys)
    assert (code, out) == (2, "")
    assert err.startswith("error: the bundle was trained on data with sha256 ")
    assert f"; {other} has " in err
    assert not (tmp_path / "r.json").exists()


def test_a_bundle_whose_test_split_does_not_come_back_is_refused(small_run: Run, small_csv: Path, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """A manifest whose recorded split or metrics are not the model's: the report would describe another evaluation."""
    bundle = shutil.copytree(small_run[2].out_dir, tmp_path / "bundle")
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["params"]["random_state"] = "43"
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    code, out, err = run_main(["--data", str(small_csv), "--bundle", str(bundle), "--out", str(tmp_path / "r.json")], capsys)
    assert (code, out) == (2, "")
    assert err.startswith("error: the bundle's model on the rebuilt test split gives {'tn': ")
    assert "not the manifest's {'tn': " in err


def test_a_folder_that_is_not_a_bundle_is_a_usage_error(small_csv: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert run_main(["--data", str(small_csv), "--bundle", str(tmp_path), "--out", str(tmp_path / "r.json")], capsys) == (
        2, "", f"error: --bundle {tmp_path} has no manifest.json: name a model bundle folder\n")


def test_a_bundle_that_cannot_be_read_is_a_usage_error(small_run: Run, small_csv: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    bundle = shutil.copytree(small_run[2].out_dir, tmp_path / "bundle")
    manifest = json.loads((bundle / "manifest.json").read_text())
    del manifest["params"]["test_size"]
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    assert run_main(["--data", str(small_csv), "--bundle", str(bundle), "--out", str(tmp_path / "r.json")], capsys) == (
        2, "", f"error: cannot read the model bundle {bundle}: KeyError: 'test_size'\n")
    (bundle / "model.onnx").write_bytes(b"not onnx")
    code, out, err = run_main(["--data", str(small_csv), "--bundle", str(bundle), "--out", str(tmp_path / "r.json")], capsys)
    assert (code, out) == (2, "")
    assert err.startswith(f"error: cannot read the model bundle {bundle}: InvalidProtobuf: ")


def test_data_that_is_missing_or_invalid_is_refused_as_in_a_training_run(tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    out = ["--out", str(tmp_path / "r.json")]
    missing = tmp_path / "nope.csv"
    assert run_main(["--data", str(missing), *out], capsys) == (
        2, "", f"error: training data not found: {missing} (resolved to {missing})\n")
    (tmp_path / "empty.csv").write_bytes(b"")
    code, stdout, err = run_main(["--data", str(tmp_path / "empty.csv"), *out], capsys)
    assert (code, stdout) == (1, "")
    assert err.startswith("error: data validation failed with 1 problem(s):\n")
    assert not (tmp_path / "r.json").exists()


def test_the_report_is_written_and_printed(small_run: Run, small_csv: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / "deeper" / "report.json"
    group_report.main(["--data", str(small_csv), "--bundle", str(small_run[2].out_dir), "--out", str(out_file)])
    printed = capsys.readouterr().out
    written = json.loads(out_file.read_text())
    assert printed == group_report.markdown(written)
    assert printed.startswith("| column = value | customers (churners) |")
    assert "| gender = Female | " in printed and "| Dependents | " in printed


COMMITTED = MODEL_DIR / "results" / "group-report.json"


def test_the_committed_report_belongs_to_the_committed_bundle() -> None:
    """Retraining the bundle leaves the report stale: rerun it (model/README.md)."""
    manifest = json.loads((group_report.DEFAULT_BUNDLE / "manifest.json").read_text())
    committed = json.loads(COMMITTED.read_text())
    assert committed["bundle"] == {"runId": manifest["run"]["runId"], "onnxSha256": manifest["onnx"]["sha256"]}
    assert committed["datasetSha256"] == manifest["datasetSha256"]
    assert committed["threshold"] == manifest["threshold"]
    assert committed["overall"]["roc_auc"] == pytest.approx(manifest["metrics"]["test_roc_auc"], abs=1e-6)


def test_model_readme_shows_the_committed_report() -> None:
    readme = (MODEL_DIR / "README.md").read_text()
    block = readme.split("<!-- group-report:start -->\n")[1].split("<!-- group-report:end -->")[0]
    assert block == group_report.markdown(json.loads(COMMITTED.read_text()))


@pytest.mark.skipif(not CHURN_DATA, reason="CHURN_DATA not set")
def test_the_committed_report_is_what_the_bundle_gives_on_the_data() -> None:
    fresh = group_report.report(load_dataset(Path(CHURN_DATA or "")), group_report.BundleModel(group_report.DEFAULT_BUNDLE))
    assert group_report.markdown(fresh) == group_report.markdown(json.loads(COMMITTED.read_text()))
