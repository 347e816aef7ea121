"""The manifest's gitCommit names the commit the training code came from, marked "-dirty" when
the code, config or requirements had changes not in it."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from churn_model.config import DEFAULT_CONFIG_PATH, ConfigFile
from churn_model.lineage import SourceState, git_commit


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                          capture_output=True, text=True, check=True).stdout.strip()


def make_repo(root: Path) -> str:
    (root / "model" / "churn_model").mkdir(parents=True)
    (root / "model" / "churn_model" / "train.py").write_text("DEPTH = 2\n")
    (root / "model" / "config.toml").write_bytes(DEFAULT_CONFIG_PATH.read_bytes())  # a run in `root` can read it
    (root / "model" / "requirements.txt").write_text("xgboost-cpu==3.2.0\n")
    (root / "model" / "requirements.lock.txt").write_text("xgboost-cpu==3.2.0 --hash=sha256:00\n")
    (root / "model" / "scripts").mkdir()
    (root / "model" / "scripts" / "train.sh").write_text("python -m churn_model.cli \"$@\"\n")
    (root / "README.md").write_text("notes\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "training code")
    return git(root, "rev-parse", "HEAD")


def test_a_clean_checkout_is_its_commit(tmp_path: Path) -> None:
    assert git_commit(tmp_path) is None  # not a git checkout
    head = make_repo(tmp_path)
    assert git_commit(tmp_path) == head
    (tmp_path / "README.md").write_text("edited notes\n")  # not training code
    assert git_commit(tmp_path) == head


def test_uncommitted_training_code_config_or_requirements_is_dirty(tmp_path: Path) -> None:
    head = make_repo(tmp_path)
    for path, text in [("model/config.toml", "[xgboost]\nmax_depth = 3\n"), ("model/churn_model/train.py", "DEPTH = 3\n"),
                       ("model/requirements.txt", "xgboost-cpu==3.1.0\n"), ("model/churn_model/extra.py", "X = 1\n"),
                       ("model/requirements.lock.txt", "# probe\n"), ("model/scripts/train.sh", "# probe\n"),
                       ("model/scripts/extra.sh", "true\n")]:
        original = (tmp_path / path).read_text() if (tmp_path / path).exists() else None
        (tmp_path / path).write_text(text)
        assert git_commit(tmp_path) == f"{head}-dirty", path
        if original is None:
            (tmp_path / path).unlink()
        else:
            (tmp_path / path).write_text(original)
        assert git_commit(tmp_path) == head, path


def test_the_state_read_at_the_start_is_marked_dirty_when_the_sources_change_before_the_end(tmp_path: Path) -> None:
    """SourceState: the commit read when training starts, "-dirty" at the end if the training sources were edited
    (not committed) or HEAD moved meanwhile; other files do not count."""
    head = make_repo(tmp_path)
    lines: list[str] = []
    start = SourceState.at_start(tmp_path, lines.append)
    (tmp_path / "README.md").write_text("edited notes\n")
    assert start.at_end(lines.append) == head and lines == []
    (tmp_path / "model" / "churn_model" / "train.py").write_text("DEPTH = 3\n")
    assert start.at_end(lines.append) == f"{head}-dirty" and len(lines) == 1
    git(tmp_path, "commit", "-q", "-am", "deeper")
    assert SourceState.at_start(tmp_path, lines.append).commit != head  # committed: a later run is credited clean to it
    assert start.at_end(lines.append) == f"{head}-dirty"
    assert SourceState(tmp_path, None).at_end(lines.append) is None  # outside git: nothing to mark


def test_training_outside_git_or_from_a_dirty_tree_warns(tmp_path: Path) -> None:
    """Not an error (a model may be trained from an export of the code), but said: the model names no code."""
    lines: list[str] = []
    assert SourceState.at_start(tmp_path, lines.append).commit is None
    assert len(lines) == 1 and lines[0].startswith(f"  warning: {tmp_path} is not a git checkout") and "null" in lines[0]
    head = make_repo(tmp_path)
    (tmp_path / "model" / "config.toml").write_text("[xgboost]\nmax_depth = 3\n")
    lines.clear()
    assert SourceState.at_start(tmp_path, lines.append).commit == f"{head}-dirty"
    assert len(lines) == 1 and f"gitCommit will be {head}-dirty" in lines[0]


def test_a_config_that_head_does_not_hold_as_read_is_dirty(tmp_path: Path) -> None:
    """The config a run reads (`--config`) is a training source too: training at the recorded commit must read the
    same bytes. model/config.toml or another committed file, unchanged: clean. A file outside the checkout, one git
    does not hold, or one edited since: -dirty, with a warning line naming it (as an edited model/config.toml)."""
    root = tmp_path / "checkout"
    root.mkdir()
    head = make_repo(root)
    (root / "model" / "trial.toml").write_text("[xgboost]\nmax_depth = 1\n")
    git(root, "add", "model/trial.toml")
    git(root, "commit", "-q", "-m", "a trial config")
    head = git(root, "rev-parse", "HEAD")
    outside = tmp_path / "trial.toml"
    outside.write_text("[xgboost]\nmax_depth = 1\n")  # the same bytes as the committed trial.toml, elsewhere
    (root / "model" / "untracked.toml").write_text("[xgboost]\nmax_depth = 1\n")
    for path in (root / "model" / "config.toml", root / "model" / "trial.toml"):
        lines: list[str] = []
        assert SourceState.at_start(root, lines.append, ConfigFile.read(path)).commit == head and lines == [], path
    cases = [(outside, f"the config {outside} is outside the checkout {root}"),
             (root / "model" / "untracked.toml", "the config model/untracked.toml is not committed")]
    for path, why in cases:
        lines = []
        config = ConfigFile.read(path)
        assert git_commit(root, config) == f"{head}-dirty", path
        assert SourceState.at_start(root, lines.append, config).commit == f"{head}-dirty"
        assert lines == [f"  warning: {why}: gitCommit will be {head}-dirty, which no checkout reproduces"]
    (root / "model" / "trial.toml").write_text("[xgboost]\nmax_depth = 3\n")
    lines = []
    assert SourceState.at_start(root, lines.append, ConfigFile.read(root / "model" / "trial.toml")).commit == f"{head}-dirty"
    assert lines == [f"  warning: the config model/trial.toml has uncommitted changes: gitCommit will be {head}-dirty, "
                     "which no checkout reproduces"]
    # The bytes the run read count, not the file as it is at the end: read, then edited back, still dirty.
    edited = ConfigFile(root / "model" / "config.toml", b"[xgboost]\nmax_depth = 5\n")
    assert git_commit(root, edited) == f"{head}-dirty"
    clean = SourceState.at_start(root, lines.append, ConfigFile.read(root / "model" / "config.toml"))
    assert clean.commit == head
    git(root, "commit", "-q", "-am", "trial deeper")  # HEAD moves: the end marks it, config included
    assert clean.at_end(lines.append) == f"{head}-dirty"


def test_the_config_is_found_at_head_when_the_code_is_a_folder_of_a_larger_repository(tmp_path: Path) -> None:
    """The training code in a subfolder (vendored into a monorepo): its config is compared with HEAD's file at the
    same place, not at the repository's top (where there is none, which read as "not committed")."""
    code = tmp_path / "services" / "churn"
    code.mkdir(parents=True)
    make_repo(code)
    shutil.rmtree(code / ".git")  # make_repo's own repository, replaced by one at the top
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "monorepo")
    lines: list[str] = []
    state = SourceState.at_start(code, lines.append, ConfigFile.read(code / "model" / "config.toml"))
    assert state.commit == git(tmp_path, "rev-parse", "HEAD") and lines == []
