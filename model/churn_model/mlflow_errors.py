"""MLflow's errors as one line, and MLflow failing mid-run (after the up-front checks passed).

Returns: `why(err)` -> one line out of an MLflow error (the OS error or HTTP status underneath);
`environ(values)` -> a context with environment variables set (MLflow reads its HTTP settings
from there per call); `MlflowRunError`, the one-line error of an MLflow call that failed mid-run,
and `tracked_run` / `step`, which turn such a failure into it, saying what state is left.
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import mlflow
from mlflow import ActiveRun
from mlflow.tracking import MlflowClient

from churn_model.interrupt import INTERRUPTED, Interrupted, sigint_ignored

# For the up-front check, and for the calls that only record a failure (the run's note, its FAILED
# status): MLflow's defaults (7 retries with backoff, 120 s timeout) ride out a busy server during a
# run, but make an unreachable one take about 4 minutes to report.
CHECK_HTTP_ENV = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "5"}
_OS_ERROR = re.compile(r"\[Errno -?[0-9]+\] ([^'\")]+)")
_HTTP_STATUS = re.compile(r"request to endpoint (\S+) failed with error code ([0-9]+)")
# What a server with authentication (`mlflow server --app-name basic-auth`) answers without
# credentials, or to an account without permission.
AUTH_STATUSES = {"401": "not authenticated", "403": "permission denied"}
# urllib3's retries used up on an error status (`... Caused by ResponseError('too many 500 error responses')`).
_HTTP_RETRIED_STATUS = re.compile(r"request to (\S+) failed with exception .*too many ([0-9]{3}) error responses")


@contextmanager
def environ(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def why(err: Exception) -> str:
    """One line out of MLflow's error: the OS error underneath when there is one (`Connection refused`)."""
    cause: BaseException | None = err
    while cause is not None:
        if isinstance(cause, OSError) and cause.strerror:
            return f"{cause.strerror}: {cause.filename}" if cause.filename else cause.strerror
        cause = cause.__cause__ or cause.__context__
    text = str(err)
    if found := _OS_ERROR.search(text):  # MLflow's HTTP errors keep only the message of requests' error
        return found.group(1).strip().rstrip(":")
    if found := _HTTP_STATUS.search(text):
        if found.group(2) in AUTH_STATUSES:  # an MLflow server with authentication: up, and MLflow
            return f"HTTP {found.group(2)} for {found.group(1)} ({AUTH_STATUSES[found.group(2)]})"
        # something answers, but not as an MLflow server would
        return f"HTTP {found.group(2)} for {found.group(1)} (is it an MLflow tracking server?)"
    if found := _HTTP_RETRIED_STATUS.search(text):
        return f"HTTP {found.group(2)} for {found.group(1)}"
    if "timed out" in text.lower():
        return "no answer (timed out)"
    first = text.strip().splitlines()[0] if text.strip() else type(err).__name__
    return first if len(first) <= 300 else first[:300] + "…"


class MlflowRunError(RuntimeError):
    """MLflow failed after the up-front checks passed (the server went down, its store failed):
    one line saying which call, why, and what state is left (what the run logged, which version
    is registered, whether the bundle was written, where the alias points)."""


class RunFailedError(RuntimeError):
    """Training failed inside the run for a reason the user can act on (a failed parity check): one
    line naming the reason, the run, what it had logged and what state is left, as MlflowRunError."""


class RunNotedError(RuntimeError):
    """A failure inside the run that has already set its own text as the run's description."""


class _InRunFailure(Exception):
    """An MLflow call inside the run failed; `tracked_run` completes the message with the run's state."""

    def __init__(self, doing: str, reason: str):
        super().__init__(f"{doing}: {reason}")
        self.doing, self.reason = doing, reason


def best_effort(call: Callable[[], object]) -> bool:
    """Run an MLflow call that only records a failure already being reported: quickly (no retries,
    short timeout, the server may be down), and False instead of a second error."""
    try:
        with environ(CHECK_HTTP_ENV):
            call()
    except Exception:
        return False
    return True


@contextmanager
def logging_step(doing: str, logged: list[str], what: str) -> Iterator[None]:
    """One MLflow call inside the run (`tracked_run`): on success `what` joins `logged`."""
    try:
        yield
    except KeyboardInterrupt:  # Ctrl-C while the call was under way: MLflow may hold some of it
        logged.append(f"perhaps part of {what}")
        raise
    except Exception as err:
        raise _InRunFailure(doing, why(err)) from err
    logged.append(what)


@contextmanager
def step(doing: str, left: Callable[[], str]) -> Iterator[None]:
    """One MLflow call after the run ended: its failure is MlflowRunError, `left()` saying what state is left."""
    try:
        yield
    except Exception as err:
        raise MlflowRunError(f"MLflow failed {doing}: {why(err)}; {left()}") from err


def _logged_text(logged: list[str]) -> str:
    """`training_config.json, params`; a call Ctrl-C cut short (`perhaps part of …`) in parentheses."""
    done = [what for what in logged if not what.startswith("perhaps ")]
    cut_short = [what for what in logged if what.startswith("perhaps ")]
    return (", ".join(done) or "nothing") + "".join(f" (and {what})" for what in cut_short)


def _failure_reason(err: BaseException, reported: tuple[type[Exception], ...], where: Callable[[], str]) -> str:
    """What stopped the run, in one line, for its description."""
    if isinstance(err, KeyboardInterrupt):
        return f"{INTERRUPTED} {where()}"
    text = str(err).strip().splitlines()[0] if str(err).strip() else ""
    if isinstance(err, reported):
        return text or type(err).__name__
    return f"failed with {type(err).__name__}" + (f": {text}" if text else "")


@contextmanager
def tracked_run(experiment_id: str, logged: list[str], after_run: str,
                reported: tuple[type[Exception], ...] = (), where: Callable[[], str] = lambda: "") -> Iterator[ActiveRun]:
    """`mlflow.start_run` whose failures say what state is left. Any exception ends the run FAILED
    (best effort) with a description saying why (where MLflow still answers, and unless the error
    set one itself: `RunNotedError`), so a reviewer finds the reason on the run; an MLflow call in
    it that failed (`logging_step`) becomes MlflowRunError, and an error of a `reported` type
    RunFailedError, naming the run, what it had logged and `after_run` (what did not happen:
    registering, the bundle, the alias). Ending the run FINISHED failing is MlflowRunError too.
    Ctrl-C is `Interrupted`, the same line with `where()` (the step) as its reason; a Ctrl-C while the
    run is being ended lets KeyboardInterrupt through only when the run is FINISHED (read back)."""
    try:
        active = mlflow.start_run(experiment_id=experiment_id)
    except KeyboardInterrupt as err:
        with sigint_ignored():
            started = mlflow.active_run()
            if started is None:  # MLflow had not returned a run: one it made in that moment is not known here
                raise Interrupted(f"{INTERRUPTED} {where()}; the MLflow run was being started (a run MLflow made in "
                                  f"that moment shows RUNNING in experiment {experiment_id}): nothing was trained or "
                                  f"logged, {after_run}") from err
            note = f"{INTERRUPTED} {where()}; run {started.info.run_id} had logged nothing"
            raise Interrupted(f"{note} and {_end_failed(note, _NO_ANSWER)}; {after_run}") from err
    except Exception as err:
        raise MlflowRunError(f"MLflow failed starting a run in experiment {experiment_id}: {why(err)}; nothing was "
                             f"trained or logged; {after_run}") from err
    run_id = active.info.run_id
    try:
        yield active
    except BaseException as err:
        with sigint_ignored():  # a second Ctrl-C does not cut short recording why the run failed
            reason = (f"MLflow failed {err.doing}: {err.reason}" if isinstance(err, _InRunFailure)
                      else _failure_reason(err, reported, where))
            note = f"{reason}; run {run_id} had logged {_logged_text(logged)}"
            status = _end_failed(None if isinstance(err, RunNotedError) else note,
                                 *([_NO_ANSWER] if isinstance(err, KeyboardInterrupt) else []))
            if isinstance(err, _InRunFailure):
                raise MlflowRunError(f"{note} and {status}; {after_run}") from err
            if isinstance(err, reported):
                raise RunFailedError(f"{note} and {status}; {after_run}") from err
            if isinstance(err, KeyboardInterrupt):
                raise Interrupted(f"{note} and {status}; {after_run}") from err
        raise
    try:
        mlflow.end_run()
    except KeyboardInterrupt as err:
        with sigint_ignored():
            status_now: list[str] = []
            best_effort(lambda: status_now.append(MlflowClient().get_run(run_id).info.status))
            if status_now == ["FINISHED"]:  # ended: the caller says what was and was not done after the run
                best_effort(mlflow.end_run)  # off MLflow's stack of active runs (its atexit would end it again)
                raise
            note = f"{INTERRUPTED} {where()}; run {run_id} had logged {_logged_text(logged)}"
            status = _end_failed(note, _NO_ANSWER if status_now else
                                 "could not be ended FAILED (MLflow does not answer: it shows RUNNING or FINISHED)")
            raise Interrupted(f"{note} and {status}; {after_run}") from err
    except Exception as err:
        raise MlflowRunError(f"MLflow failed ending run {run_id} as FINISHED: {why(err)}; it had logged "
                             f"{_logged_text(logged)} but shows RUNNING; {after_run}") from err


def _end_failed(note: str | None, otherwise: str = "could not be ended FAILED either (MLflow shows it RUNNING)") -> str:
    """End the active run FAILED with `note` as its description (None: it has one); what it shows now
    (`otherwise` where MLflow does not answer)."""
    if note is not None:
        best_effort(lambda: mlflow.set_tag("mlflow.note.content", note))
    return "ends FAILED" if best_effort(lambda: mlflow.end_run("FAILED")) else otherwise


_NO_ANSWER = "could not be ended FAILED (MLflow does not answer: it shows RUNNING)"
