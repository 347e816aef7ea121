"""scripts/train.sh resolves relative paths against the caller's directory: under `npm run train`
(which runs scripts in the package root) that is INIT_CWD, otherwise the shell's cwd."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from churn_model.config import MODEL_DIR, REPO_ROOT

TRAIN_SH = MODEL_DIR / "scripts" / "train.sh"
# npm's variables that would leak in when the suite itself runs under `npm run test:py`.
NPM_ENV = ("INIT_CWD", "npm_lifecycle_event", "npm_lifecycle_script")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in NPM_ENV}
    return env | {"npm_config_update_notifier": "false"} | extra


@pytest.fixture
def caller_in_repo() -> Iterator[Path]:
    """A directory inside the repo (under the git-ignored model/.tmp/), as `cd model && npm run
    train` needs: npm finds package.json above it, and the repo root is not the caller's cwd."""
    caller = MODEL_DIR / ".tmp" / f"caller-{uuid.uuid4().hex[:8]}"
    caller.mkdir(parents=True)
    try:
        yield caller
    finally:
        shutil.rmtree(caller)
        if not any(caller.parent.iterdir()):
            caller.parent.rmdir()


def not_found_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stderr
    return done.stderr.strip().splitlines()[-1]


def test_train_sh_under_npm_train_resolves_against_init_cwd(tmp_path: Path) -> None:
    """What npm does for `npm run train`: cwd is the package root, INIT_CWD the caller's directory."""
    caller = tmp_path / "caller"
    caller.mkdir()
    done = subprocess.run(["bash", str(TRAIN_SH), "--data", "no-such.csv", "--out", "mybundle"], cwd=REPO_ROOT,
                          env=clean_env(INIT_CWD=str(caller), npm_lifecycle_event="train"),
                          capture_output=True, text=True, timeout=300)
    assert not_found_line(done) == f"error: training data not found: no-such.csv (looked for {caller / 'no-such.csv'}, then {REPO_ROOT / 'no-such.csv'})"


def test_train_sh_run_by_bash_resolves_against_the_shell_cwd(tmp_path: Path) -> None:
    """INIT_CWD inherited from another npm script (e.g. `npm run test:py` starting this) is not ours."""
    caller, elsewhere = tmp_path / "caller", tmp_path / "elsewhere"
    caller.mkdir()
    elsewhere.mkdir()
    done = subprocess.run(["bash", str(TRAIN_SH), "--data", "no-such.csv", "--out", "mybundle"], cwd=caller,
                          env=clean_env(INIT_CWD=str(elsewhere), npm_lifecycle_event="test:py"),
                          capture_output=True, text=True, timeout=300)
    assert not_found_line(done) == f"error: training data not found: no-such.csv (looked for {caller / 'no-such.csv'}, then {REPO_ROOT / 'no-such.csv'})"


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm not installed")
def test_npm_run_train_writes_a_relative_out_in_the_callers_directory(
        caller_in_repo: Path, small_csv: Path, tmp_path: Path) -> None:
    out_name = f"bundle-{uuid.uuid4().hex[:8]}"  # unique: the cleanup below never removes anything else
    shutil.copy(small_csv, caller_in_repo / "small.csv")
    try:
        done = subprocess.run(["npm", "run", "train", "--", "--data", "small.csv", "--out", out_name,
                               "--no-register", "--tracking-uri", f"sqlite:///{tmp_path / 'mlflow.db'}"],
                              cwd=caller_in_repo, env=clean_env(), capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        assert (caller_in_repo / out_name / "manifest.json").is_file()
        assert not (REPO_ROOT / out_name).exists()
    finally:
        shutil.rmtree(REPO_ROOT / out_name, ignore_errors=True)  # where the bug put it


def test_the_usage_comment_points_at_help_and_names_only_real_options() -> None:
    """It listed five options and left out --config, --registered-model and --tracking-uri: a second copy
    of the CLI's list goes stale, so the comment sends the reader to --help, which is the parser's own."""
    comment = [line for line in TRAIN_SH.read_text().splitlines() if line.startswith("#")]
    usage = "\n".join(comment)
    assert "npm run train -- --help" in usage
    done = subprocess.run(["bash", str(TRAIN_SH), "--help"], cwd=REPO_ROOT, env=clean_env(), capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    offered = set(re.findall(r"--[a-z][a-z-]+", done.stdout))
    assert {"--config", "--registered-model", "--tracking-uri", "--data", "--out"} <= offered
    assert set(re.findall(r"--[a-z][a-z-]+", usage)) <= offered | {"--help"}
