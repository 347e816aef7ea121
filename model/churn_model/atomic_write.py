"""Replace the files of a directory so that a failure part-way leaves the old set whole.

Returns: `replace_files(target, files)` -> `target`, holding `files` (name -> bytes);
`stage_files(target, files)` -> `Staged`, the same in two steps: everything written, then
`commit()` (the renames) or `discard()`.

Everything is written and fsynced in a staging directory first; only then are the old files
swapped out by renames, so a write that fails (disk full, a file too large, an I/O error)
happens before anything a reader can see has changed, and the staging directory is removed.

* The usual case, `target` missing or holding nothing but these files: the staging directory
  is made beside it (same parent, so the same filesystem) and the two directories are swapped
  in one step with `renameat2(RENAME_EXCHANGE)` (Linux): the path names the old folder or the
  new one, never a mix and never nothing. (A reader that opens the files by path one after the
  other can still straddle a swap; the gateway's checksums reject that.) Where the kernel or
  the filesystem cannot exchange, two renames (old aside, new in) leave a moment without it.
* `target` a mount point (it cannot be renamed, and its parent is another filesystem), a
  directory that holds other files too (they are not ours to move), or one whose parent cannot
  be written or that renames refuse (a bind mount): the staging directory is made inside it
  and the files are renamed in one by one, in the order given. Each rename is atomic; the set
  is not, for the microseconds between them.
* Staging folders a killed write left, inside or beside, are removed once a write succeeds.
* One writer at a time: `stage_files` takes an exclusive lock (flock) on the folder's parent and
  the Staged holds it until `commit()` or `discard()`. Two writers of one folder (a scheduled
  retrain and a manual one) otherwise staged side by side, and the first to commit removed the
  other's staging folder as a leftover; the second then failed half-way, after moving the alias
  (publish.py). The lock is advisory and local: it orders the writers on one machine, which is
  where a folder's writers are.
"""
from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import re
import secrets
import shutil
import stat
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2  # linux/fs.h


def replace_files(target: Path, files: Mapping[str, bytes]) -> Path:
    """Leave `target` holding `files`, replaced all at once where the filesystem allows (see module doc)."""
    return stage_files(target, files).commit()


@dataclass
class Staged:
    """`files` written and fsynced in `staging`, nothing a reader of `target` sees changed yet:
    `commit()` renames them in, `discard()` removes them (the caller may do something that must
    succeed first, e.g. move the alias naming the new bundle). `beside`: staging is a sibling
    folder swapped in whole; otherwise it is inside `target` and the files are renamed one by one."""
    target: Path
    real: Path
    files: Mapping[str, bytes]
    staging: Path
    beside: bool
    made_real: bool  # `real` did not exist before staging made it (then discard removes it again)
    lock: int | None = field(default=None, repr=False)  # the writers' lock (module doc), released by commit or discard

    def discard(self) -> None:
        try:
            shutil.rmtree(self.staging, ignore_errors=True)
            if self.made_real:
                with contextlib.suppress(OSError):
                    self.real.rmdir()
        finally:
            self._unlock()

    def _unlock(self) -> None:
        if self.lock is not None:
            os.close(self.lock)  # closing the only descriptor releases the flock
            self.lock = None

    def commit(self) -> Path:
        try:
            return self._commit()
        finally:
            self._unlock()

    def _commit(self) -> Path:
        try:
            if self.beside and not self._swap_in():
                shutil.rmtree(self.staging, ignore_errors=True)  # a folder renames refuse: files one by one
                self.staging, self.beside = _staging_inside(self.real), False
                _write_synced(self.staging, self.files)
            if not self.beside:
                for name in self.files:
                    os.replace(self.staging / name, self.real / name)
                _fsync_dir(self.real)
        finally:
            shutil.rmtree(self.staging, ignore_errors=True)  # after a swap it holds the old files
        if not self.beside:
            for entry in self.real.iterdir():  # what killed writes left in here
                if _INSIDE_LEFTOVER.fullmatch(entry.name) and entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
        _remove_leftovers_beside(self.real)
        return self.target

    def _swap_in(self) -> bool:
        """False, with nothing changed, when the folder cannot be moved: a mount point `ismount`
        does not see (a bind mount from the same filesystem), which renames refuse with EBUSY or EXDEV."""
        try:
            if self.real.exists():
                _swap_directories(self.staging, self.real)  # staging now holds the old files
            else:
                os.rename(self.staging, self.real)
        except OSError as err:
            if err.errno in (errno.EBUSY, errno.EXDEV):
                return False
            raise
        _fsync_dir(self.real.parent)
        return True


def stage_files(target: Path, files: Mapping[str, bytes], waiting: Callable[[Path], None] | None = None) -> Staged:
    """Write and fsync `files` where `Staged.commit` will rename them into `target` from. A write
    that fails (disk full, a file too large) raises OSError with the staging folder removed.
    Another writer of the folder's parent holding the lock (module doc) is waited for; `waiting`
    is told first, with the folder locked."""
    real = Path(os.path.realpath(target))  # a symlinked bundle folder: swap the folder, keep the link
    real.parent.mkdir(parents=True, exist_ok=True)
    lock = _writers_lock(real.parent, waiting)
    try:
        staged = _stage(target, real, files)
    except BaseException:
        os.close(lock)
        raise
    staged.lock = lock
    return staged


def _writers_lock(folder: Path, waiting: Callable[[Path], None] | None = None) -> int:
    """An exclusive flock on `folder`, as an open descriptor (closing it releases the lock); when
    another process holds it, `waiting(folder)` is called and the lock waited for."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if waiting is not None:
                waiting(folder)
            fcntl.flock(fd, fcntl.LOCK_EX)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _stage(target: Path, real: Path, files: Mapping[str, bytes]) -> Staged:
    if real.exists() and not real.is_dir():
        raise FileExistsError(errno.EEXIST, "exists and is not a directory", str(target))
    made_real = not real.exists()
    # A staging folder a killed write left inside does not make the folder shared: it goes
    # with the old folder when the new one is swapped in.
    ours = set(files)
    beside = not (real.is_dir() and (os.path.ismount(real) or not {
        n for n in os.listdir(real) if not _INSIDE_LEFTOVER.fullmatch(n)} <= ours))
    staging = None
    if beside:
        try:
            staging = _make_staging_dir(real.parent, real)
        except PermissionError:  # a read-only parent: the folder stays, its files are replaced
            beside = False
    if staging is None:
        staging = _staging_inside(real)
    try:
        _write_synced(staging, files)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Staged(target, real, files, staging, beside, made_real and not beside)


def _staging_inside(real: Path) -> Path:
    real.mkdir(exist_ok=True)
    staging = real / f".new-{secrets.token_hex(4)}"
    staging.mkdir()
    return staging


# Staging folders of a write that was killed part-way: `.new-<hex>` inside the folder (files
# renamed in one by one), `.<name>.new-<hex>` beside it and, between the two renames of the
# fallback swap, `.<name>.new-<hex>-old` holding the folder before.
_INSIDE_LEFTOVER = re.compile(r"\.new-[0-9a-f]{8}")


def _remove_leftovers_beside(real: Path) -> None:
    """Once the new files are in place, the staging folders killed writes left beside `real`
    (full copies of a bundle, or its previous version) are nobody's any more."""
    beside = re.compile(re.escape(f".{real.name}.new-") + r"[0-9a-f]{8}(-old)?")
    for entry in real.parent.iterdir():
        if beside.fullmatch(entry.name) and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)


def _make_staging_dir(parent: Path, real: Path) -> Path:
    """A hidden sibling of `real` with `real`'s permissions (a new folder's, when there is none)."""
    staging = parent / f".{real.name}.new-{secrets.token_hex(4)}"
    staging.mkdir()  # umask applies, as it would to a folder made in place
    if real.is_dir():
        os.chmod(staging, stat.S_IMODE(real.stat().st_mode))
    return staging


def _write_synced(folder: Path, files: Mapping[str, bytes]) -> None:
    for name, data in files.items():
        with open(folder / name, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    """Make the folder's entries (the renames) durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _swap_directories(new: Path, old: Path) -> None:
    """Afterwards `old` holds what `new` held and `new` what `old` held."""
    if exchange_paths(new, old):
        return
    aside = new.with_name(new.name + "-old")
    os.rename(old, aside)
    try:
        os.rename(new, old)
    except OSError:
        os.rename(aside, old)
        raise
    os.rename(aside, new)


def exchange_paths(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None) if sys.platform == "linux" else None
    if renameat2 is None:
        return False
    renameat2.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint)
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):  # this kernel or filesystem cannot exchange
        return False
    raise OSError(err, os.strerror(err), str(b))
