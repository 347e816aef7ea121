"""What every command-line entry point (`cli`, `tuning`, `candidates`, `split_study`, `group_report`) checks
before any work, each failure one line on stderr naming the file and why, never a traceback.

Returns: `resolve_path` (an input: relative paths against the cwd, then the repo root; `looked_for` names
both for a path not found; `path_error` the usage error for a path the OS will not look up), `output_path`
(an output folder: relative paths against the cwd only), `data_file` (the
training CSV: exists, is a regular file, can be opened), `training_config` (the parsed config; `config_file` with
the bytes it was parsed from),
`dataset` (the validated data), `output_file` (a file the tool will write at the end; `writable_folder` the check under it),
`whole_number` (an argparse type);
`usage_error` builds the exit-2 SystemExit they raise. Invalid data is exit 1, as in a
training run.
"""
from __future__ import annotations

import argparse
import contextlib
import errno
import os
import stat
import sys
import tempfile
import tomllib
from collections.abc import Callable
from pathlib import Path

from churn_model.config import REPO_ROOT, ConfigFile, TrainingConfig, load_config
from churn_model.config_values import ConfigError
from churn_model.data import Dataset, DataValidationError, load_dataset


def usage_error(message: str) -> SystemExit:
    print(f"error: {message}", file=sys.stderr)
    return SystemExit(2)


def path_error(what: str, raw: str, err: OSError | RuntimeError) -> SystemExit:
    """The usage error for a path the OS will not look up (a folder on the way that may not be
    searched, a name too long, a symbolic link loop): one line naming it and the OS's reason."""
    if isinstance(err, RuntimeError) and isinstance(err.__context__, OSError) and err.__context__.errno == errno.ELOOP:
        err = err.__context__  # Path.resolve (3.11) turns ELOOP into RuntimeError("Symlink loop from '<path>'")
    if isinstance(err, OSError):
        reason = f"{err.strerror or os.strerror(err.errno or 0)}"
        if err.filename and str(err.filename) not in (raw, os.path.abspath(os.path.expanduser(raw))):
            reason += f" ({err.filename})"  # a folder on the way, or a link it goes through
    else:  # expanduser: "Could not determine home directory."
        reason = str(err)
    return usage_error(f"cannot use {what} {raw}: {reason}")


def _places(path: Path) -> list[Path]:
    """Where `path` is looked for, in order: an absolute path as given; a relative one against the
    cwd, then against the repo root."""
    return [path] if path.is_absolute() else [path, REPO_ROOT / path]


def resolve_path(raw: str, what: str) -> Path:
    """Absolute paths as given; relative ones against the cwd, else against the repo root (_places).
    A path the OS refuses to look up is a usage error naming `what` it is (`--out`, the training data)."""
    try:
        path = Path(raw).expanduser()
        if path.is_absolute():
            return _resolved(path)
        found = next((place for place in _places(path) if place.exists()), None)
        return _resolved(found) if found is not None else path.resolve()
    except (OSError, RuntimeError) as err:
        raise path_error(what, raw, err) from err


def output_path(raw: str, what: str) -> Path:
    """`raw` made absolute against the cwd alone: a place the tool writes to. An input exists, so resolve_path may
    look for it in the repo root too; an output usually does not exist yet, and looked for the same way one
    spelling landed in the repository where it had that path (`--out model/bundle` from another folder replaced
    the committed bundle the gateway serves) and in the cwd where it had not."""
    try:
        return Path(raw).expanduser().resolve()
    except (OSError, RuntimeError) as err:
        raise path_error(what, raw, err) from err


def looked_for(raw: str) -> str:
    """Where resolve_path looked for `raw`, for a message that it is not there: both places for a
    relative path (one when they are the same)."""
    tried = list(dict.fromkeys(Path(os.path.abspath(p)) for p in _places(Path(raw).expanduser())))
    return f"resolved to {tried[0]}" if len(tried) == 1 else f"looked for {tried[0]}, then {tried[1]}"


def _resolved(path: Path) -> Path:
    """`path` with its links followed; made absolute only where following them names nothing while the
    path itself is there (/dev/fd/63 from `<(…)`, /dev/stdin: links to 'pipe:[…]', not to a path)."""
    resolved = path.resolve()
    return resolved if resolved.exists() or not path.exists() else path.absolute()


# What a path that is neither a folder nor a regular file is (`stat` mode tests), for the message.
_NOT_REGULAR = ((stat.S_ISFIFO, "a pipe (FIFO, as <(…) process substitution and mkfifo make)"),
                (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def data_file(raw: str) -> Path:
    """The training CSV `raw` names, resolved; a usage error unless it is a file this process can open."""
    path = resolve_path(raw, "the training data")
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise usage_error(f"training data not found: {raw} ({looked_for(raw)})") from None
    except OSError as err:  # a folder on the way that may not be searched, a name too long, a path under a file
        raise path_error("the training data", raw, err) from err
    if stat.S_ISDIR(mode):
        raise usage_error(f"training data {path} is a directory, not a CSV file")
    if not stat.S_ISREG(mode):
        # Refused, not read: a FIFO nobody writes to would block the open below without a word, and
        # the run records the data's path, which names no data for a pipe or a device.
        kind = next((what for test, what in _NOT_REGULAR if test(mode)), "another kind of file")
        raise usage_error(f"training data {raw} is not a regular file but {kind}: training reads the CSV from a "
                          f"file (the run records its path and checksum); save the data to a file and pass that")
    try:  # before anything is asked or logged: a file we may not read is a setting to fix
        with path.open("rb"):
            pass
    except OSError as err:
        raise usage_error(f"cannot read the training data {path}: {err.strerror or err}") from err
    return path


def training_config(path: Path, raw: str | None = None) -> TrainingConfig:
    """The config at `path` (resolve_path's of `raw`, when given); a usage error naming the file and
    every problem when it cannot be used, and where it was looked for when it is not there."""
    return config_file(path, raw)[1]


def config_file(path: Path, raw: str | None = None) -> tuple[ConfigFile, TrainingConfig]:
    """`training_config`, with the bytes it was parsed from (what a run's lineage hashes and compares with HEAD)."""
    if raw is not None and not path.exists():
        raise usage_error(f"cannot use the config {raw}: not found ({looked_for(raw)})")
    try:
        source = ConfigFile.read(path)
        return source, load_config(source)
    except ConfigError as err:  # each problem names the key, its value and what is allowed
        raise usage_error(f"cannot use the config {path}: {err}") from err
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as err:
        raise usage_error(f"cannot use the config {path}: {type(err).__name__}: {err}") from err


def dataset(path: Path) -> Dataset:
    """The validated data at `path`; exit 1 with every problem found (as a training run does)."""
    try:
        return load_dataset(path)
    except DataValidationError as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(1) from err


def writable_folder(folder: Path) -> None:
    """Raise OSError unless `folder` is (or can be made) a directory this process can create a
    file in. Folders made for the check and the probe file are removed again."""
    made = [p for p in (folder, *folder.parents) if not p.exists()]  # deepest first
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-check-"):
            pass
    finally:
        for made_folder in made:
            with contextlib.suppress(OSError):  # not made (the mkdir failed) or no longer empty
                made_folder.rmdir()


def os_error_text(err: OSError, subject: Path) -> str:
    """`strerror`, and the path it concerns when that is not `subject` (a parent that is a file)."""
    return f"{err.strerror or err}" + (f" ({err.filename})" if err.filename and str(err.filename) != str(subject) else "")


def output_file(raw: str, option: str) -> Path:
    """`raw` resolved against the cwd; a usage error unless a file can be written there. Checked
    before the work whose result it receives, so a bad path does not cost the whole run."""
    try:
        path = Path(raw).expanduser().resolve()
        is_dir, parent_is_file = path.is_dir(), path.parent.exists() and not path.parent.is_dir()
    except (OSError, RuntimeError) as err:
        raise path_error(option, raw, err) from err
    if is_dir:
        raise usage_error(f"{option} {path} is a directory: name the file to write")
    if parent_is_file:  # mkdir would say "File exists"
        raise usage_error(f"cannot write {option} {path}: {path.parent} is a file, not a folder")
    try:
        writable_folder(path.parent)
    except OSError as err:
        raise usage_error(f"cannot write {option} {path}: {os_error_text(err, path)}") from err
    return path


def whole_number(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse `type`: a whole number from `low` (to `high`); argparse's usage error names the option."""
    allowed = f"a whole number from {low} to {high}" if high is not None else f"a whole number >= {low}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {allowed}") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"{value} is not {allowed}")
        return value
    return parse
