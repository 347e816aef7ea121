"""The group report (churn_model.group_report): the committed bundle on its own test split, by demographic group."""
from __future__ import annotations

import copy
import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from churn_model import group_report, synthetic
from churn_model.bundle import GROUP_REPORT_FILE
from churn_model.config import MODEL_DIR, REPO_ROOT
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


def test_wilson_interval_holds_a_rate_of_0_or_1_exactly() -> None:
    # The gateway refuses a report whose interval does not hold its value; the end touching 0 or 1 is computed
    # with a rounding error for some group sizes (1 - 1.1e-16), which a small data set's groups meet.
    for n in range(1, 200):
        assert group_report.wilson(0, n)[0] == 0.0  # type: ignore[index]
        assert group_report.wilson(n, n)[1] == 1.0  # type: ignore[index]


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
    assert g["mean_probability_minus_churn_rate"] == pytest.approx(p.mean() - 3 / 8)
    assert g["roc_auc"]["value"] == pytest.approx(11 / 15)  # of 15 churner/other pairs: 10 ranked right, 2 ties (half each)
    low, high = g["roc_auc"]["ci95"]
    assert low < 11 / 15 < high


def test_a_group_without_churners_has_no_recall_or_auc() -> None:
    g = group_report.group_metrics(np.array([0, 0]), np.array([0.7, 0.1]), threshold=0.5)
    assert (g["recall"], g["roc_auc"]) == ({"value": None, "ci95": None}, {"value": None, "ci95": None})
    assert g["false_positive_rate"]["value"] == 0.5


def test_a_value_without_customers_is_shown_as_such() -> None:
    """A small test split may hold no customer of a value: every measure is empty and the table says so."""
    empty = group_report.group_metrics(np.array([], dtype=np.int64), np.array([]), threshold=0.5)
    assert (empty["customers"], empty["mean_probability"], empty["flagged"]["value"]) == (0, None, None)
    some = group_report.group_metrics(np.array([1, 0, 1, 0]), np.array([0.9, 0.2, 0.6, 0.7]), threshold=0.5)
    columns = {c: {"groups": {"a": some, "b": empty}, "second_minus_first": group_report.differences(some, empty)}
               for c in group_report.DEMOGRAPHIC_COLUMNS}
    swaps = {c: {"a": {"customers": 4, "mean_change": 0.0, "max_abs_change": 0.0, "newly_flagged": 0,
                       "no_longer_flagged": 0}} for c in group_report.DEMOGRAPHIC_COLUMNS}
    table = group_report.markdown({"threshold": 0.5, "overall": some, "columns": columns, "counterfactual": swaps})
    assert "| gender = b | 0 (0) | — | — | — | — | — | — | — |" in table
    assert "| gender: b − a | — | — | — | — | — |" in table


def test_newcombe_interval_matches_the_textbook_example() -> None:
    # Newcombe (1998), example (a): 56/70 - 48/80 = 0.2000, method 10 interval 0.0524 to 0.3339.
    d = group_report.newcombe(group_report._rate(48, 80), group_report._rate(56, 70))
    assert d["value"] == pytest.approx(0.2)
    assert d["ci95"] == pytest.approx([0.0524, 0.3339], abs=1e-4)


def test_differences_are_the_second_group_minus_the_first() -> None:
    y = np.array([1, 0, 0, 1, 0, 0, 0, 1])
    p = np.array([0.9, 0.6, 0.1, 0.2, 0.1, 0.7, 0.8, 0.8])
    first, second = (group_report.group_metrics(y[s], p[s], 0.5) for s in (slice(0, 3), slice(3, 8)))
    d = group_report.differences(first, second)
    assert d["flagged"]["value"] == pytest.approx(3 / 5 - 2 / 3)
    assert d["recall"]["value"] == pytest.approx(1 / 2 - 1)
    assert d["false_positive_rate"]["value"] == pytest.approx(2 / 3 - 1 / 2)
    assert d["precision"]["value"] == pytest.approx(1 / 3 - 1 / 2)
    assert d["mean_probability_minus_churn_rate"] == pytest.approx((2.6 / 5 - 2 / 5) - (1.6 / 3 - 1 / 3))
    assert d["recall"]["ci95"] == group_report.newcombe(first["recall"], second["recall"])["ci95"]


def test_swapping_changes_that_column_only() -> None:
    records: list[Record] = [{"gender": "Female", "SeniorCitizen": 0, "tenure": 3},
                             {"gender": "Male", "SeniorCitizen": 1, "tenure": 9}]
    assert group_report.swapped(records, "gender", ("Female", "Male")) == [
        {"gender": "Male", "SeniorCitizen": 0, "tenure": 3}, {"gender": "Female", "SeniorCitizen": 1, "tenure": 9}]
    assert group_report.swapped(records, "SeniorCitizen", (0, 1)) == [
        {"gender": "Female", "SeniorCitizen": 1, "tenure": 3}, {"gender": "Male", "SeniorCitizen": 0, "tenure": 9}]
    assert records[0]["gender"] == "Female"  # the input is left as it was


def test_a_bundle_on_its_own_data_is_reported_by_group(small_run: Run, small_csv: Path) -> None:
    result, _uri, opts = small_run
    report = group_report.report(load_dataset(small_csv), group_report.BundleModel(opts.out_dir))
    overall = report["overall"]
    assert overall["customers"] == 120  # 20 % of the 600 generated customers
    assert overall["roc_auc"]["value"] == pytest.approx(result.metrics["test_roc_auc"], abs=1e-6)  # ONNX against xgboost's
    assert report["threshold"] == result.threshold
    for column in group_report.DEMOGRAPHIC_COLUMNS:
        groups = report["columns"][column]["groups"]
        assert sum(g["customers"] for g in groups.values()) == overall["customers"]
        assert sum(g["churners"] for g in groups.values()) == overall["churners"]
        swaps = report["counterfactual"][column]
        assert sum(s["customers"] for s in swaps.values()) == overall["customers"]
        assert all(s["newly_flagged"] + s["no_longer_flagged"] <= s["customers"] for s in swaps.values())


def test_the_committed_model_swapped_moves_probabilities_and_decisions() -> None:
    """The counterfactual scores the swapped customers (not the originals again), on the committed model and the
    bundle's own generated parity customers (no data set needed): SeniorCitizen moves every one of them."""
    model = group_report.BundleModel(group_report.DEFAULT_BUNDLE)
    parity = json.loads((group_report.DEFAULT_BUNDLE / "parity.json").read_text())
    records: list[Record] = [c["input"] for c in parity["cases"]]
    p = model.probabilities(records)
    of = np.array([str(r["SeniorCitizen"]) for r in records])
    swaps = group_report._counterfactual(model, records, of, p, "SeniorCitizen")
    assert sorted(swaps) == ["0", "1"]
    assert swaps["0"]["mean_change"] > 0.005 and swaps["1"]["mean_change"] < -0.005
    assert swaps["0"]["newly_flagged"] > 0 and swaps["1"]["no_longer_flagged"] > 0
    # Each way agrees with the probabilities scored directly.
    seniors = group_report.swapped([r for r in records if r["SeniorCitizen"] == 0], "SeniorCitizen", (0, 1))
    assert float(np.mean(model.probabilities(seniors) - p[of == "0"])) == pytest.approx(swaps["0"]["mean_change"])


def test_each_training_run_logs_the_report_of_its_own_bundle_in_it(small_run: Run, small_csv: Path,
                                                                    tmp_path: Path) -> None:
    """The run's bundle/ artifact and the published bundle hold the report of that bundle, as the offline tool
    computes it from the bundle's folder."""
    result, uri, opts = small_run
    local = MlflowClient(tracking_uri=uri).download_artifacts(result.run_id, f"bundle/{GROUP_REPORT_FILE}",
                                                              str(tmp_path))
    logged = json.loads(Path(local).read_text())
    assert logged["bundle"]["runId"] == result.run_id
    fresh = group_report.report(load_dataset(small_csv), group_report.BundleModel(opts.out_dir))
    assert logged == json.loads(json.dumps(fresh))
    assert (opts.out_dir / GROUP_REPORT_FILE).read_text() == Path(local).read_text() == group_report.report_json(fresh)


def test_the_report_goes_into_the_bundle_unless_out_is_named(small_run: Run, small_csv: Path, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """Without --out, the report is written as the --bundle folder's own group_report.json (model/bundle's for the
    default bundle), never into another bundle than the one it describes."""
    bundle = shutil.copytree(small_run[2].out_dir, tmp_path / "bundle")
    written = (bundle / GROUP_REPORT_FILE).read_text()
    (bundle / GROUP_REPORT_FILE).unlink()
    group_report.main(["--data", str(small_csv), "--bundle", str(bundle)])
    assert capsys.readouterr().out.startswith("| group | customers (churners) |")
    assert (bundle / GROUP_REPORT_FILE).read_text() == written  # what the training run wrote, byte for byte
    assert group_report.DEFAULT_OUT == group_report.DEFAULT_BUNDLE / GROUP_REPORT_FILE
    # Renamed into place: the folder holds the bundle's files and nothing left over from the write.
    assert sorted(p.name for p in bundle.iterdir()) == sorted(p.name for p in small_run[2].out_dir.iterdir())


def test_a_report_that_json_cannot_carry_is_refused_before_it_is_written() -> None:
    # A NaN would be written as the bare token NaN, which no JSON reader (the gateway's included) accepts.
    with pytest.raises(ValueError):
        group_report.report_json({"overall": {"mean_probability": float("nan")}})


def test_data_other_than_the_bundles_is_refused(small_run: Run, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    opts = small_run[2]
    other = write_csv(synthetic.churn_frame(600, seed=8), tmp_path / "other.csv")
    code, out, err = run_main(["--data", str(other), "--bundle", str(opts.out_dir), "--out", str(tmp_path / "r.json")], capsys)
    assert (code, out) == (2, "")
    assert err.startswith("error: the bundle was trained on data with sha256 ")
    assert f"; {other} has " in err
    assert not (tmp_path / "r.json").exists()


def test_a_bundle_whose_evaluation_does_not_come_back_is_refused(small_run: Run, small_csv: Path, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """A manifest whose recorded split or metrics are not the model's: the report would describe another evaluation."""
    bundle = shutil.copytree(small_run[2].out_dir, tmp_path / "bundle")
    original = json.loads((bundle / "manifest.json").read_text())
    args = ["--data", str(small_csv), "--bundle", str(bundle), "--out", str(tmp_path / "r.json")]

    def refused_with(manifest: dict[str, Any]) -> str:
        (bundle / "manifest.json").write_text(json.dumps(manifest))
        code, out, err = run_main(args, capsys)
        assert (code, out) == (2, "")
        assert not (tmp_path / "r.json").exists()
        return err

    other_split = copy.deepcopy(original)
    other_split["params"]["random_state"] = "43"
    err = refused_with(other_split)
    assert err.startswith("error: the bundle's model on the rebuilt test split gives {'tn': ")
    assert "not the manifest's {'tn': " in err
    other_auc = copy.deepcopy(original)
    other_auc["metrics"]["test_roc_auc"] += 0.001
    assert refused_with(other_auc).startswith("error: the bundle's model on the rebuilt test split has ROC AUC ")


def test_a_folder_that_is_not_a_bundle_is_a_usage_error(small_csv: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert run_main(["--data", str(small_csv), "--bundle", str(tmp_path), "--out", str(tmp_path / "r.json")], capsys) == (
        2, "", f"error: --bundle {tmp_path} has no manifest.json: name a model bundle folder\n")


def test_a_bundle_that_cannot_be_read_is_a_usage_error(small_run: Run, small_csv: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    bundle = shutil.copytree(small_run[2].out_dir, tmp_path / "bundle")
    text = (bundle / "manifest.json").read_text()
    manifest = json.loads(text)
    del manifest["params"]["test_size"]
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    assert run_main(["--data", str(small_csv), "--bundle", str(bundle), "--out", str(tmp_path / "r.json")], capsys) == (
        2, "", f"error: cannot read the model bundle {bundle}: KeyError: 'test_size'\n")
    (bundle / "manifest.json").write_text(text)
    (bundle / "model.onnx").write_bytes(b"not onnx")
    code, out, err = run_main(["--data", str(small_csv), "--bundle", str(bundle), "--out", str(tmp_path / "r.json")], capsys)
    assert (code, out) == (2, "")
    assert err.startswith(f"error: cannot read the model bundle {bundle}: InvalidProtobuf: ")


def test_a_relative_bundle_not_found_names_both_places_tried(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert run_main(["--data", "x.csv", "--bundle", "no-such-bundle"], capsys) == (
        2, "", f"error: --bundle no-such-bundle not found (looked for {tmp_path / 'no-such-bundle'}, "
               f"then {REPO_ROOT / 'no-such-bundle'}): name a model bundle folder\n")


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
    assert printed.startswith("| group | customers (churners) |")
    assert "| gender = Female | " in printed and "| Dependents: Yes − No | " in printed


COMMITTED = MODEL_DIR / "bundle" / GROUP_REPORT_FILE


def test_the_committed_report_belongs_to_the_committed_bundle() -> None:
    """The committed bundle's report names it, as the gateway checks (a retraining rewrites both)."""
    assert COMMITTED == group_report.DEFAULT_OUT
    manifest = json.loads((group_report.DEFAULT_BUNDLE / "manifest.json").read_text())
    text = COMMITTED.read_text()
    committed = json.loads(text)
    assert text == group_report.report_json(committed)  # the format the training run and the offline tool write
    assert committed["bundle"] == {"runId": manifest["run"]["runId"], "onnxSha256": manifest["onnx"]["sha256"]}
    assert committed["datasetSha256"] == manifest["datasetSha256"]
    assert committed["threshold"] == manifest["threshold"]
    assert committed["overall"]["roc_auc"]["value"] == pytest.approx(manifest["metrics"]["test_roc_auc"], abs=1e-6)


def test_model_readme_shows_the_committed_report() -> None:
    readme = (MODEL_DIR / "README.md").read_text()
    block = readme.split("<!-- group-report:start -->\n")[1].split("<!-- group-report:end -->")[0]
    assert block == group_report.markdown(json.loads(COMMITTED.read_text()))


def test_model_readme_prose_quotes_the_committed_report() -> None:
    """The figures the prose under the tables quotes are the committed report's, rounded as printed."""
    readme = " ".join((MODEL_DIR / "README.md").read_text().split())
    committed = json.loads(COMMITTED.read_text())
    groups = [(column, value, g) for column, e in committed["columns"].items() for value, g in e["groups"].items()]
    senior, others = (committed["columns"]["SeniorCitizen"]["groups"][v] for v in ("1", "0"))
    rest = [g["roc_auc"]["value"] for column, value, g in groups if (column, value) != ("SeniorCitizen", "1")]
    without_dependents = committed["counterfactual"]["Dependents"]["No"]
    women, men = (committed["counterfactual"]["gender"][v] for v in ("Female", "Male"))

    def interval(auc: dict[str, Any]) -> str:
        return f"({auc['ci95'][0]:.3f}–{auc['ci95'][1]:.3f})"

    def flips(swap: dict[str, Any]) -> int:
        return int(swap["newly_flagged"] + swap["no_longer_flagged"])

    phrases = [
        f"(ROC AUC {min(rest):.3f}–{max(rest):.3f}), except for senior citizens: {senior['roc_auc']['value']:.3f} "
        f"{interval(senior['roc_auc'])} over {senior['customers']:,} customers, {senior['churners']:,} of them churners, "
        f"an interval that only just overlaps the other customers' {interval(others['roc_auc'])}",
        f"scored as having dependents, {without_dependents['no_longer_flagged']} of the {without_dependents['customers']:,} "
        "without them are no longer flagged",
        f"scored as the other gender, {flips(women)} of the {women['customers']:,} women's and {flips(men)} of the "
        f"{men['customers']:,} men's decisions change, both ways, by up to "
        f"{max(women['max_abs_change'], men['max_abs_change']):.3f} in probability",
    ]
    assert [phrase for phrase in phrases if phrase not in readme] == []
    assert senior["roc_auc"]["ci95"][1] >= others["roc_auc"]["ci95"][0]  # "overlaps"
    # "both ways": some gender swaps flag a customer, some unflag one.
    assert women["newly_flagged"] + men["newly_flagged"] > 0 and women["no_longer_flagged"] + men["no_longer_flagged"] > 0


def leaves(tree: object, path: str = "") -> dict[str, object]:
    """Every number, string and null of a JSON tree by its path."""
    if isinstance(tree, dict):
        return {k: v for key, sub in tree.items() for k, v in leaves(sub, f"{path}/{key}").items()}
    if isinstance(tree, list):
        return {k: v for i, sub in enumerate(tree) for k, v in leaves(sub, f"{path}/{i}").items()}
    return {path: tree}


@pytest.mark.skipif(not CHURN_DATA, reason="CHURN_DATA not set")
def test_the_committed_report_is_what_the_bundle_gives_on_the_data() -> None:
    fresh = group_report.report(load_dataset(Path(CHURN_DATA or "")), group_report.BundleModel(group_report.DEFAULT_BUNDLE))
    got, committed = leaves(json.loads(json.dumps(fresh))), leaves(json.loads(COMMITTED.read_text()))
    assert sorted(got) == sorted(committed)
    assert {k: v for k, v in got.items() if not isinstance(v, float)} == {
        k: v for k, v in committed.items() if not isinstance(v, float)}  # counts, names, hashes: exactly
    assert {k: v for k, v in got.items() if isinstance(v, float)} == pytest.approx(
        {k: v for k, v in committed.items() if isinstance(v, float)}, rel=1e-9, abs=1e-12)
