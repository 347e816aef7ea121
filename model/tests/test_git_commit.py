"""The manifest's gitCommit names the commit the training code came from, marked "-dirty" when
the code, config or requirements had changes not in it."""
from __future__ import annotations

import subprocess
from pathlib import Path

from churn_model.lineage import SourceState, git_commit


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                          capture_output=True, text=True, check=True).stdout.strip()


def make_repo(root: Path) -> str:
    (root / "model" / "churn_model").mkdir(parents=True)
    (root / "model" / "churn_model" / "train.py").write_text("DEPTH = 2\n")
    (root / "model" / "config.toml").write_text("[xgboost]\nmax_depth = 2\n")
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
