"""The training code's lineage: which commit a run trains from, and whether the sources it reads
differ from that commit (`-dirty`), read once when training starts and checked again when the
manifest is written (`SourceState`). No MLflow here: the orchestrator (pipeline.py) records it."""
from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from churn_model.config import REPO_ROOT

Log = Callable[[str], None]


# What decides the trained model besides the data: the training code, its config, its pinned libraries (the pins,
# and the lock setup-venv.sh installs), and the scripts that set up the environment and run training.
TRAINING_SOURCES = ("model/churn_model", "model/config.toml", "model/requirements.txt", "model/requirements.lock.txt",
                    "model/scripts")


DIRTY = "-dirty"


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True,
                          timeout=10).stdout.strip()


def git_commit(root: Path = REPO_ROOT) -> str | None:
    """HEAD, with "-dirty" appended (as `git describe --dirty` does) when the training code, config
    or requirements differ from it, edited or added but not committed: the manifest must not credit
    a commit with a model it did not produce. None outside a git checkout."""
    try:
        head = _git(root, "rev-parse", "HEAD")
        changed = _git(root, "status", "--porcelain", "--untracked-files=all", "--", *TRAINING_SOURCES)
    except (OSError, subprocess.SubprocessError):
        return None
    if not head:
        return None
    return f"{head}{DIRTY}" if changed else head


@dataclass(frozen=True)
class SourceState:
    """The training code's lineage, read once when training starts (`at_start`): the commit it trains from
    (`git_commit()`). Read at the end instead, a commit made during the run got the credit for a model its code
    and config did not train. `at_end` reads it again: the same commit, clean, means the same sources (HEAD has
    not moved and `git status` finds every training source as HEAD has it, as it did at the start). A file git
    is told not to look at (`update-index --skip-worktree` / `--assume-unchanged`) is not seen at either end."""
    root: Path
    commit: str | None

    @classmethod
    def at_start(cls, root: Path, log: Log) -> SourceState:
        """The state now, with a warning line when the model will name no commit, or a dirty one."""
        state = cls(root, git_commit(root))
        if state.commit is None:
            log(f"  warning: {root} is not a git checkout (or git cannot read it): the manifest's gitCommit will be "
                "null (MLflow tag git_commit 'none'), so the model will name no training code")
        elif state.commit.endswith(DIRTY):
            log(f"  warning: the training sources ({', '.join(TRAINING_SOURCES)}) have uncommitted changes: "
                f"gitCommit will be {state.commit}, which no checkout reproduces")
        return state

    def at_end(self, log: Log) -> str | None:
        """The commit to record: the one read at the start, with "-dirty" appended (and a warning line) when HEAD
        or the training sources are not what they were then."""
        if self.commit is None or self.commit.endswith(DIRTY):
            return self.commit
        now = git_commit(self.root)
        if now == self.commit:
            return self.commit
        log(f"  warning: HEAD or the training sources changed during the run (HEAD {self.commit} at the start, "
            f"{now or 'unreadable'} now): gitCommit is recorded as {self.commit}{DIRTY}")
        return f"{self.commit}{DIRTY}"
