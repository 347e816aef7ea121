"""Step 6: write the model bundle (model.onnx, manifest.json, parity.json, explainer.json,
group_report.json) per docs/model-bundle.md.

Returns: `build_manifest(...)` -> the manifest dict; `parity_json(...)` -> deterministic
parity.json text; `write_bundle(...)` -> the bundle directory (`stage_bundle(...)`: the same
in two steps, see atomic_write.Staged); `with_registration(...)` ->
a manifest copy with registeredModel version/alias filled in.

JSON is written deterministically: sorted keys, 2-space indent for the manifest, one case
per line for parity.json, floats in Python's shortest round-trip repr (explainer.json's text
comes from explain.py and group_report.json's from group_report.py, equally deterministic).

The manifest names three of the others (model.onnx, parity.json, explainer.json);
group_report.json (the bundle's test evaluation by demographic group) names the bundle it
describes inside itself (`bundle.onnxSha256`, `threshold` and `datasetSha256`, which the gateway
checks against the manifest, and `bundle.runId`, recorded only): so the manifest stays the one
its training run wrote, and a bundle without the report (a model version registered before it was
added) still loads.
"""
from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from churn_model import atomic_write, explain
from churn_model.data import Record
from churn_model.features import FeatureSpec

FORMAT_VERSION = 1
MODEL_FILE = "model.onnx"
MANIFEST_FILE = "manifest.json"
PARITY_FILE = "parity.json"
EXPLAINER_FILE = explain.EXPLAINER_FILE
# Not named in the manifest (module doc): the report names the bundle it describes.
GROUP_REPORT_FILE = "group_report.json"


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    experiment_id: str
    experiment_name: str


# manifest.json's shape (docs/model-bundle.md); key names are the bundle's, hence camelCase.
class RegisteredModel(TypedDict):
    name: str
    version: str | None
    alias: str | None


class ManifestRun(TypedDict):
    runId: str
    experimentId: str
    experimentName: str


class RiskBands(TypedDict):
    mediumFrom: float
    highFrom: float


class ManifestOnnx(TypedDict):
    file: str
    sha256: str
    inputName: str
    outputName: str
    positiveClassIndex: int
    opset: int


class ManifestParity(TypedDict):
    file: str
    sha256: str
    count: int
    tolerance: float


class ManifestExplainer(TypedDict):
    file: str
    sha256: str
    trees: int
    referenceCount: int
    tolerance: float


class ManifestConfig(TypedDict):
    sha256: str  # of the config file's bytes as the run read them
    path: str | None  # relative to the checkout; None for a file outside it


class Manifest(TypedDict):
    formatVersion: int
    registeredModel: RegisteredModel
    run: ManifestRun
    createdAt: str
    gitCommit: str | None
    config: ManifestConfig
    datasetSha256: str
    libraryVersions: dict[str, str]
    params: dict[str, str]
    metrics: dict[str, float]
    threshold: float
    thresholdRule: str
    riskBands: RiskBands
    onnx: ManifestOnnx
    parity: ManifestParity
    explainer: ManifestExplainer
    featureSpec: FeatureSpec


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parity_json(cases: list[Record], probabilities: list[float], tolerance: float) -> str:
    """parity.json text: {"cases": [{"input": …, "probability": p}, …], "tolerance": t}."""
    lines = [json.dumps({"input": c, "probability": float(p)}, sort_keys=True)
             for c, p in zip(cases, probabilities, strict=True)]
    return '{"cases": [\n' + ",\n".join(lines) + f'\n], "tolerance": {json.dumps(tolerance)}}}\n'


def build_manifest(*, run: RunInfo, model_name: str, created_at: str, git_commit: str | None,
                   config: ManifestConfig, dataset_sha256: str, library_versions: dict[str, str], params: dict[str, str],
                   metrics: dict[str, float], threshold: float, threshold_rule: str,
                   medium_from: float, onnx_sha256: str, input_name: str, output_name: str,
                   opset: int, parity_sha256: str, parity_count: int, tolerance: float,
                   explainer: explain.Explainer, feature_spec: FeatureSpec) -> Manifest:
    """The manifest with registeredModel version/alias null (filled after registration)."""
    return {
        "formatVersion": FORMAT_VERSION,
        "registeredModel": {"name": model_name, "version": None, "alias": None},
        "run": {"runId": run.run_id, "experimentId": run.experiment_id,
                "experimentName": run.experiment_name},
        "createdAt": created_at,
        "gitCommit": git_commit,
        "config": config,
        "datasetSha256": dataset_sha256,
        "libraryVersions": library_versions,
        "params": params,
        "metrics": metrics,
        "threshold": threshold,
        "thresholdRule": threshold_rule,
        "riskBands": {"mediumFrom": medium_from, "highFrom": threshold},
        "onnx": {"file": MODEL_FILE, "sha256": onnx_sha256, "inputName": input_name,
                 "outputName": output_name, "positiveClassIndex": 1, "opset": opset},
        "parity": {"file": PARITY_FILE, "sha256": parity_sha256, "count": parity_count,
                   "tolerance": tolerance},
        "explainer": explainer_entry(explainer),
        "featureSpec": feature_spec,
    }


def explainer_entry(explainer: explain.Explainer) -> ManifestExplainer:
    """The manifest's `explainer` object for explainer.json's text as written."""
    return {"file": EXPLAINER_FILE, "sha256": sha256_hex(explainer.text.encode("utf-8")), "trees": explainer.tree_count,
            "referenceCount": explainer.reference_count, "tolerance": explain.GATEWAY_TOLERANCE}


def with_registration(manifest: Manifest, version: str | None, alias: str | None) -> Manifest:
    updated = copy.deepcopy(manifest)
    updated["registeredModel"]["version"] = version
    updated["registeredModel"]["alias"] = alias
    return updated


def manifest_json(manifest: Mapping[str, object]) -> str:
    return json.dumps(manifest, sort_keys=True, indent=2) + "\n"


def write_bundle(out_dir: Path, onnx_bytes: bytes, manifest: Mapping[str, object], parity_text: str,
                 explainer_text: str, group_report_text: str) -> Path:
    """Write the five bundle files into `out_dir` (created if needed) as one replacement: a
    failure part-way (disk full, …) raises OSError and leaves the old bundle whole, never a new
    model.onnx beside an old manifest.json or an old group_report.json (see atomic_write)."""
    return stage_bundle(out_dir, onnx_bytes, manifest, parity_text, explainer_text, group_report_text).commit()


def stage_bundle(out_dir: Path, onnx_bytes: bytes, manifest: Mapping[str, object], parity_text: str,
                 explainer_text: str, group_report_text: str,
                 waiting: Callable[[Path], None] | None = None) -> atomic_write.Staged:
    """`write_bundle` up to the renames: every file written (OSError if one cannot be, nothing
    changed), to be swapped in by `commit()` or dropped by `discard()`, with the writers' lock
    held until then (`waiting` is told when another writer holds it: atomic_write). The manifest
    goes last where the files must be renamed in one by one: it is what a reader opens first."""
    return atomic_write.stage_files(out_dir, {
        MODEL_FILE: onnx_bytes,
        PARITY_FILE: parity_text.encode("utf-8"),
        EXPLAINER_FILE: explainer_text.encode("utf-8"),
        GROUP_REPORT_FILE: group_report_text.encode("utf-8"),
        MANIFEST_FILE: manifest_json(manifest).encode("utf-8"),
    }, waiting)
