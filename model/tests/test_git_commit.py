"""The manifest's gitCommit names the commit the training code came from, marked "-dirty" when
the code, config or requirements had changes not in it."""
from __future__ import annotations

import subprocess
from pathlib import Path

from churn_model.pipeline import git_commit


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                          capture_output=True, text=True, check=True).stdout.strip()


def make_repo(root: Path) -> str:
    (root / "model" / "churn_model").mkdir(parents=True)
    (root / "model" / "churn_model" / "train.py").write_text("DEPTH = 2\n")
    (root / "model" / "config.toml").write_text("[xgboost]\nmax_depth = 2\n")
    (root / "model" / "requirements.txt").write_text("xgboost-cpu==3.2.0\n")
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
                       ("model/requirements.txt", "xgboost-cpu==3.1.0\n"), ("model/churn_model/extra.py", "X = 1\n")]:
        original = (tmp_path / path).read_text() if (tmp_path / path).exists() else None
        (tmp_path / path).write_text(text)
        assert git_commit(tmp_path) == f"{head}-dirty", path
        if original is None:
            (tmp_path / path).unlink()
        else:
            (tmp_path / path).write_text(original)
        assert git_commit(tmp_path) == head, path
