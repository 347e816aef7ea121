"""The training code's lineage: which commit a run trains from, and whether the sources it reads
differ from that commit (`-dirty`), read once when training starts and checked again when the
manifest is written (`SourceState`). The config a run reads (`--config`) counts as a source: unless
it is a file HEAD holds, byte for byte, at its path, the run is `-dirty` too (`config_problem`), and
`config_entry` is what the manifest records of it. No MLflow here: the orchestrator (pipeline.py) records it."""
from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from churn_model.config import REPO_ROOT, ConfigFile

Log = Callable[[str], None]


# What decides the trained model besides the data: the training code, its config, its pinned libraries (the pins,
# and the lock setup-venv.sh installs), and the scripts that set up the environment and run training.
TRAINING_SOURCES = ("model/churn_model", "model/config.toml", "model/requirements.txt", "model/requirements.lock.txt",
                    "model/scripts")


DIRTY = "-dirty"


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True,
                          timeout=10).stdout.strip()


def config_path_in(root: Path, config: ConfigFile) -> str | None:
    """The config's path relative to the checkout `root` ("model/config.toml"), None when it is outside it."""
    try:
        return config.path.resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, OSError, RuntimeError):
        return None


def config_problem(root: Path, config: ConfigFile) -> str | None:
    """Why a checkout of HEAD does not give the config a run read (None when it does: HEAD holds these bytes at
    its path). A file outside the checkout, one git does not hold (untracked, ignored) or one edited since: training
    at the recorded commit would read other settings (or none), so it would not reproduce the model."""
    rel = config_path_in(root, config)
    if rel is None:
        return f"the config {config.path} is outside the checkout {root}"
    try:  # "./": relative to `root`, which may be a folder of a larger repository (HEAD:path is from its top)
        at_head = subprocess.run(["git", "-C", str(root), "cat-file", "blob", f"HEAD:./{rel}"], capture_output=True,
                                 check=True, timeout=10).stdout
    except subprocess.CalledProcessError:
        return f"the config {rel} is not committed"
    if at_head != config.data:
        return f"the config {rel} has uncommitted changes"
    return None


def _lineage(root: Path, config: ConfigFile | None) -> tuple[str | None, list[str]]:
    """HEAD (None outside a git checkout) and why it does not reproduce the run (empty when it does)."""
    try:
        head = _git(root, "rev-parse", "HEAD")
        changed = _git(root, "status", "--porcelain", "--untracked-files=all", "--", *TRAINING_SOURCES)
        why = [f"the training sources ({', '.join(TRAINING_SOURCES)}) have uncommitted changes"] if changed else []
        if config is not None and (problem := config_problem(root, config)):
            why.append(problem)
    except (OSError, subprocess.SubprocessError):
        return None, []
    return (head or None), why


def git_commit(root: Path = REPO_ROOT, config: ConfigFile | None = None) -> str | None:
    """HEAD, with "-dirty" appended (as `git describe --dirty` does) when the training code, config
    or requirements differ from it, edited or added but not committed, or when `config` (the file the run
    read) is not HEAD's (`config_problem`): the manifest must not credit a commit with a model it did not
    produce. None outside a git checkout."""
    head, why = _lineage(root, config)
    if head is None:
        return None
    return f"{head}{DIRTY}" if why else head


@dataclass(frozen=True)
class SourceState:
    """The training code's lineage, read once when training starts (`at_start`): the commit it trains from
    (`git_commit()`). Read at the end instead, a commit made during the run got the credit for a model its code
    and config did not train. `at_end` reads it again: the same commit, clean, means the same sources (HEAD has
    not moved and `git status` finds every training source as HEAD has it, as it did at the start). A file git
    is told not to look at (`update-index --skip-worktree` / `--assume-unchanged`) is not seen at either end."""
    root: Path
    commit: str | None
    config: ConfigFile | None = None  # the config file the run read, a source like the others

    @classmethod
    def at_start(cls, root: Path, log: Log, config: ConfigFile | None = None) -> SourceState:
        """The state now, with a warning line when the model will name no commit, or a dirty one (saying why)."""
        head, why = _lineage(root, config)
        state = cls(root, None if head is None else f"{head}{DIRTY}" if why else head, config)
        if state.commit is None:
            log(f"  warning: {root} is not a git checkout (or git cannot read it): the manifest's gitCommit will be "
                "null (MLflow tag git_commit 'none'), so the model will name no training code")
        elif why:
            log(f"  warning: {'; '.join(why)}: gitCommit will be {state.commit}, which no checkout reproduces")
        return state

    def at_end(self, log: Log) -> str | None:
        """The commit to record: the one read at the start, with "-dirty" appended (and a warning line) when HEAD
        or the training sources are not what they were then."""
        if self.commit is None or self.commit.endswith(DIRTY):
            return self.commit
        now = git_commit(self.root, self.config)
        if now == self.commit:
            return self.commit
        log(f"  warning: HEAD or the training sources changed during the run (HEAD {self.commit} at the start, "
            f"{now or 'unreadable'} now): gitCommit is recorded as {self.commit}{DIRTY}")
        return f"{self.commit}{DIRTY}"
