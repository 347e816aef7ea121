"""Step 6's end: the bundle in `--out` and the champion alias change together, or neither does.

Returns: `publish(...)` -> None, the bundle written and (for a new champion) the alias moved.
Raises `BundleWriteError` (the bundle could not be written: the alias was not moved, or was
moved back) or `MlflowRunError` (the alias could not be moved: the bundle was not replaced).
`Publishing` records how far it got, for a caller reporting a Ctrl-C: the staged bundle is then
removed, and the swap itself is never interrupted half-way (a Ctrl-C during it acts once it is done).

Order: the new bundle is staged first (every file written and fsynced beside or inside `--out`:
what fails for lack of space or permission fails here, before MLflow is asked), then the alias
is moved, then the staged bundle is swapped in (renames only). The manifest names the version
and the alias, so no moment of a failed command leaves a bundle naming as champion a version
the registry's alias does not point to: a failed alias move drops the staged bundle, and a
swap that fails after the alias moved moves it back.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from churn_model import bundle
from churn_model.atomic_write import Staged
from churn_model.interrupt import sigint_deferred
from churn_model.mlflow_errors import MlflowRunError, best_effort, step, why

Log = Callable[[str], None]


class BundleWriteError(RuntimeError):
    """The bundle could not be written after the run was logged (and the version registered)."""


def _nothing(_what: str) -> None:
    pass


@dataclass
class Publishing:
    """How far `publish` got: `doing` is told each part as it starts; `previous` is the version the
    alias named before the move (None: none), once `previous_read`."""
    doing: Callable[[str], None] = field(default=_nothing)
    previous_read: bool = False
    previous: str | None = None


def alias_version(client: MlflowClient, name: str, alias: str) -> str | None:
    """The version `name@alias` names; None when there is no such model or alias."""
    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException as err:
        if err.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):  # no model / no alias
            return None
        raise


def _names(alias: str, name: str, version: str | None) -> str:
    return f"{alias} still names version {version}" if version else f"{name} still has no {alias}"


def _move_alias(client: MlflowClient, name: str, alias: str, version: str, out_dir: Path, log: Log,
                state: Publishing) -> str | None:
    """Point `alias` at `version`; returns the version it named before (None: none)."""
    unchanged = f"{name} version {version} is registered and the bundle in {out_dir} was not replaced"
    with step(f"reading {name}@{alias} before moving it", lambda: f"{unchanged}; {alias} was not moved"):
        previous = alias_version(client, name, alias)
    state.previous_read, state.previous = True, previous
    try:
        client.set_registered_model_alias(name, alias, version)
    except Exception as err:
        now: list[str | None] = []
        if best_effort(lambda: now.append(alias_version(client, name, alias))) and now[0] == version:
            log(f"  moving {alias} reported {why(err)}, but it names version {version} now: the move was made")
            return previous
        where = (_names(alias, name, now[0]) if now else
                 f"{alias} named version {previous} before (MLflow does not answer now: check models:/{name}@{alias})")
        raise MlflowRunError(f"MLflow failed moving {alias} to {name} version {version}: {why(err)}; "
                             f"{unchanged}; {where}") from err
    return previous


def move_back(client: MlflowClient, name: str, alias: str, version: str, previous: str | None, out_dir: Path) -> str:
    """After the bundle could not be swapped in: the alias back where it was, as far as MLflow lets.
    What happened, without the alias's name: `was moved back to version 1`, `could not be moved back …`."""
    if previous is not None:
        if best_effort(lambda: client.set_registered_model_alias(name, alias, previous)):
            return f"was moved back to version {previous}"
        back = f"client.set_registered_model_alias({name!r}, {alias!r}, {previous!r})"
    else:
        if best_effort(lambda: client.delete_registered_model_alias(name, alias)):
            return "was removed again (there was none before)"
        back = f"client.delete_registered_model_alias({name!r}, {alias!r})"
    return f"could not be moved back ({back}): it names version {version}, which the bundle in {out_dir} does not hold"


def publish(client: MlflowClient, out_dir: Path, trained_files: tuple[bytes, bundle.Manifest, str, str, str],
            name: str, version: str | None, alias: str | None, log: Log, state: Publishing | None = None) -> None:
    """Write the bundle (`trained_files`: model.onnx bytes, the manifest naming version and alias,
    parity.json text, explainer.json text, group_report.json text) to `out_dir` and, when `alias` is set,
    move it to `version` (module doc)."""
    state = state or Publishing()
    onnx_bytes, manifest, parity_text, explainer_text, group_report_text = trained_files
    not_moved = f"; {name} version {version} is registered, {alias} was not moved" if alias else ""
    state.doing(f"staging the bundle for {out_dir}")
    try:
        staged: Staged = bundle.stage_bundle(out_dir, onnx_bytes, manifest, parity_text, explainer_text,
                                             group_report_text)
    except OSError as err:
        raise BundleWriteError(f"cannot write the bundle to {out_dir}: {err}{not_moved}") from err
    previous = None
    try:
        if alias:
            assert version is not None, "an alias is only chosen for a registered version"
            state.doing(f"moving {alias} to {name} version {version}")
            previous = _move_alias(client, name, alias, version, out_dir, log, state)
            log(f"  alias {alias} -> {name} version {version}")
        state.doing(f"swapping the bundle into {out_dir}")
    except BaseException:  # a failed move or Ctrl-C: nothing of the new bundle is left behind
        staged.discard()
        raise
    try:
        with sigint_deferred():  # renames only: a Ctrl-C must not leave the folder half swapped
            staged.commit()
    except OSError as err:
        state_text = (f"; {name} version {version} is registered and {alias} "
                      + move_back(client, name, alias, version, previous, out_dir)) if alias and version else ""
        raise BundleWriteError(f"cannot write the bundle to {out_dir}: {err}{state_text}") from err
    log(f"  bundle written to {out_dir}")
