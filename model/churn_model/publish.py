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
swap that fails after the alias moved moves it back (unless another writer moved it since).

Two writers of one folder take turns: the writers' lock (atomic_write) is held from staging to the
swap, and the alias is read again under it before the move; when another run moved it after this
one decided, `recheck` decides again against the version it names now (Superseded: not champion
any more, nothing moved or written).
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


@dataclass(frozen=True)
class ChampionDecision:
    """Whether a new version becomes champion, and why (pipeline.champion_decision); `against`: the
    version the alias named when it was decided (None: none, or not compared)."""
    promote: bool
    reason: str
    against: str | None = None


class Superseded(RuntimeError):
    """Another writer moved the alias after this run decided to promote, and against the version
    it names now the new one is not champion (`Recheck`): nothing was moved or written."""

    def __init__(self, message: str, decision: ChampionDecision) -> None:
        super().__init__(message)
        self.decision = decision


# Asked with the writers' lock held, right before the alias moves, with the version the alias names
# now: None when the decision made after training still holds (the alias has not moved since, or
# the promotion was forced); otherwise the decision made again, against that version (pipeline.py).
Recheck = Callable[[str | None], ChampionDecision | None]


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
                state: Publishing, recheck: Recheck | None) -> str | None:
    """Point `alias` at `version`; returns the version it named before (None: none). Superseded when
    `recheck` finds the new version is not champion against the one the alias names now."""
    unchanged = f"{name} version {version} is registered and the bundle in {out_dir} was not replaced"
    with step(f"reading {name}@{alias} before moving it", lambda: f"{unchanged}; {alias} was not moved"):
        previous = alias_version(client, name, alias)
        again = recheck(previous) if recheck is not None else None
    state.previous_read, state.previous = True, previous
    if again is not None:
        log(f"  {alias} names version {previous} now, not the version compared with after training "
            f"(another run moved it): {'still ' if again.promote else 'not '}{alias}, {again.reason}")
        if not again.promote:
            raise Superseded(f"{alias} was moved to version {previous} by another run after this one decided; "
                             f"against it, version {version} is not {alias} ({again.reason})", again)
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
    """After the bundle could not be swapped in: the alias back where it was, as far as MLflow lets,
    unless something else moved it since (it is then that writer's, and is left alone).
    What happened, without the alias's name: `was moved back to version 1`, `could not be moved back …`."""
    now: list[str | None] = []
    if best_effort(lambda: now.append(alias_version(client, name, alias))) and now[0] != version:
        return (f"was not moved back: it names version {now[0]} now, set by another writer since"
                if now[0] is not None else "was not moved back: another writer removed it since")
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
            name: str, version: str | None, alias: str | None, log: Log, state: Publishing | None = None,
            recheck: Recheck | None = None) -> None:
    """Write the bundle (`trained_files`: model.onnx bytes, the manifest naming version and alias,
    parity.json text, explainer.json text, group_report.json text) to `out_dir` and, when `alias` is set,
    move it to `version` (module doc), with the writers' lock held from staging to the swap
    (atomic_write): a second run publishing to the same folder waits, and then `recheck`s the
    decision against the alias as the first left it."""
    state = state or Publishing()
    onnx_bytes, manifest, parity_text, explainer_text, group_report_text = trained_files
    not_moved = f"; {name} version {version} is registered, {alias} was not moved" if alias else ""
    state.doing(f"staging the bundle for {out_dir}")

    def waiting(folder: Path) -> None:
        state.doing(f"waiting for another writer of {folder} (a training run publishing there) to finish")
        log(f"  waiting for another writer of {folder} (a training run publishing there) to finish")

    try:
        staged: Staged = bundle.stage_bundle(out_dir, onnx_bytes, manifest, parity_text, explainer_text,
                                             group_report_text, waiting)
    except OSError as err:
        raise BundleWriteError(f"cannot write the bundle to {out_dir}: {err}{not_moved}") from err
    previous = None
    try:
        if alias:
            assert version is not None, "an alias is only chosen for a registered version"
            state.doing(f"moving {alias} to {name} version {version}")
            previous = _move_alias(client, name, alias, version, out_dir, log, state, recheck)
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
