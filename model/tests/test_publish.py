"""Two writers publishing to one bundle folder (a scheduled retrain and a manual run): the second
waits for the first (the writers' lock, atomic_write), then decides again against the alias as the
first left it, so the alias and the bundle still name the same version and a version that is not
better than the champion the first run made is not promoted over it. Real flock, real files, a real
MLflow registry (sqlite); the second writer is a second process or thread, as it is in use."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import cast

import pytest
from mlflow.tracking import MlflowClient

from churn_model import atomic_write, bundle
from churn_model.publish import ChampionDecision, Superseded, move_back, publish

NAME, ALIAS = "race-churn", "champion"


def _files(version: str) -> tuple[bytes, bundle.Manifest, str, str, str]:
    manifest = cast(bundle.Manifest, {"registeredModel": {"name": NAME, "version": version, "alias": ALIAS}})
    return f"model {version}".encode(), manifest, f"parity {version}\n", f"explainer {version}\n", f"report {version}\n"


def _held(out: Path) -> str:
    return str(json.loads((out / bundle.MANIFEST_FILE).read_text())["registeredModel"]["version"])


@pytest.fixture()
def registry(tmp_path: Path) -> MlflowClient:
    """Versions 1 (the champion), 2 and 3 of NAME."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.create_registered_model(NAME)
    for _ in range(3):
        client.create_model_version(NAME, source=str(tmp_path / "model"))
    client.set_registered_model_alias(NAME, ALIAS, "1")
    return client


def test_a_second_writer_process_waits_for_the_first_and_no_staging_is_lost(tmp_path: Path) -> None:
    out = tmp_path / "bundle"
    first = atomic_write.stage_files(out, {"a": b"first"})
    second = subprocess.Popen(
        [sys.executable, "-c", "import sys; from pathlib import Path; from churn_model import atomic_write\n"
         "s = atomic_write.stage_files(Path(sys.argv[1]), {'a': b'second'}, lambda f: print('waiting', flush=True))\n"
         "s.commit(); print('done', flush=True)", str(out)],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[1])
    assert second.stdout is not None
    assert second.stdout.readline() == "waiting\n"  # it stages nothing while the first holds the lock
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".bundle.new-")] == [first.staging.name]
    first.commit()  # before the lock, this swept the second's staging folder as a leftover
    assert second.stdout.readline() == "done\n" and second.wait(timeout=60) == 0
    assert (out / "a").read_bytes() == b"second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle"]


def test_a_discarded_write_releases_the_lock(tmp_path: Path) -> None:
    atomic_write.stage_files(tmp_path / "bundle", {"a": b"dropped"}).discard()
    waited: list[Path] = []
    atomic_write.stage_files(tmp_path / "bundle", {"a": b"kept"}, waited.append).commit()
    assert waited == [] and (tmp_path / "bundle" / "a").read_bytes() == b"kept"


def _race(registry: MlflowClient, out: Path, second_beats_first: bool) -> tuple[list[str], BaseException | None]:
    """Run A publishes version 2; run B, which decided to promote version 3 against version 1,
    starts publishing while A holds the lock with the alias moved. B's recheck compares with 2."""
    b_waiting, lines = threading.Event(), []
    errors: list[BaseException] = []

    def a_log(line: str) -> None:
        lines.append(f"A{line}")
        if "alias champion ->" in line:  # A has moved the alias and not swapped yet: B arrives now
            b.start()
            assert b_waiting.wait(timeout=60)

    def b_log(line: str) -> None:
        lines.append(f"B{line}")
        if "waiting for another writer" in line:
            b_waiting.set()

    def recheck(now: str | None) -> ChampionDecision | None:
        if now == "1":
            return None
        return ChampionDecision(second_beats_first, f"test ROC AUC vs {ALIAS} version {now}'s", now)

    def run_b() -> None:
        try:
            publish(registry, out, _files("3"), NAME, "3", ALIAS, b_log, recheck=recheck)
        except BaseException as err:  # noqa: BLE001 - handed to the test
            errors.append(err)

    b = threading.Thread(target=run_b)
    publish(registry, out, _files("2"), NAME, "2", ALIAS, a_log)
    b.join(timeout=60)
    return lines, errors[0] if errors else None


def test_a_run_that_lost_the_race_leaves_the_alias_and_the_bundle_of_the_winner(
        registry: MlflowClient, tmp_path: Path) -> None:
    out = tmp_path / "bundle"
    lines, error = _race(registry, out, second_beats_first=False)
    assert isinstance(error, Superseded) and not error.decision.promote
    assert "champion was moved to version 2 by another run after this one decided" in str(error)
    assert str(registry.get_model_version_by_alias(NAME, ALIAS).version) == "2" == _held(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle", "mlflow.db"]  # B's staging dropped
    assert any(line.startswith("B  champion names version 2 now") for line in lines)


def test_a_run_still_better_after_the_race_is_promoted_over_the_winner(
        registry: MlflowClient, tmp_path: Path) -> None:
    out = tmp_path / "bundle"
    _, error = _race(registry, out, second_beats_first=True)
    assert error is None
    assert str(registry.get_model_version_by_alias(NAME, ALIAS).version) == "3" == _held(out)


def test_moving_back_leaves_an_alias_another_writer_moved_since(registry: MlflowClient, tmp_path: Path) -> None:
    """This run moved the alias 1 -> 2 and then failed to swap its bundle in; meanwhile another
    writer (another machine: the lock is local) moved it to 3. Moving back to 1 would undo that."""
    registry.set_registered_model_alias(NAME, ALIAS, "3")
    said = move_back(registry, NAME, ALIAS, "2", "1", tmp_path / "bundle")
    assert said == "was not moved back: it names version 3 now, set by another writer since"
    assert str(registry.get_model_version_by_alias(NAME, ALIAS).version) == "3"
    registry.set_registered_model_alias(NAME, ALIAS, "2")  # still ours: moved back as before
    assert move_back(registry, NAME, ALIAS, "2", "1", tmp_path / "bundle") == "was moved back to version 1"
    assert str(registry.get_model_version_by_alias(NAME, ALIAS).version) == "1"
