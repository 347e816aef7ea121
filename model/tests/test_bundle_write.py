"""Writing the bundle replaces it as a whole, all five files: a write that fails part-way leaves the
old bundle, not a new model.onnx beside an old manifest.json or an old group_report.json. The failure is
a real one from the kernel: a lowered RLIMIT_FSIZE makes the write of the large file fail with EFBIG
("File too large", the same point of failure as a full disk), which binds root (CI) as it binds anyone."""
from __future__ import annotations

import errno
import os
import resource
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from churn_model import atomic_write, bundle

# parity.json is the large file: the fault hits it after model.onnx has been written in full.
OLD = (b"old model " * 100, {"version": "old"}, "old parity\n" * 100, "old explainer\n", "old group report\n")
NEW = (b"new model " * 100, {"version": "new"}, "new parity\n" * 20_000, "new explainer\n",  # 220 kB of parity
       "new group report\n")
FILE_SIZE_LIMIT = 64 * 1024


@contextmanager
def file_size_limit(limit: int) -> Iterator[None]:
    """Writes past `limit` bytes fail with EFBIG (Python ignores SIGXFSZ, so no signal kills us)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def expected(onnx: bytes, manifest: dict[str, str], parity: str, explainer: str, group_report: str
             ) -> dict[str, bytes]:
    return {bundle.MANIFEST_FILE: bundle.manifest_json(manifest).encode(), bundle.MODEL_FILE: onnx,
            bundle.PARITY_FILE: parity.encode(), bundle.EXPLAINER_FILE: explainer.encode(),
            bundle.GROUP_REPORT_FILE: group_report.encode()}


def test_the_bundle_is_five_files(tmp_path: Path) -> None:
    out = bundle.write_bundle(tmp_path / "bundle", *NEW)
    assert sorted(contents(out)) == ["explainer.json", "group_report.json", "manifest.json", "model.onnx", "parity.json"]
    assert contents(out) == expected(*NEW)


@pytest.mark.parametrize("others", [[], ["README.md"]], ids=["bundle folder", "folder shared with other files"])
def test_a_write_that_fails_part_way_leaves_the_old_bundle_whole(tmp_path: Path, others: list[str]) -> None:
    out = tmp_path / "bundle"
    bundle.write_bundle(out, *OLD)
    for name in others:  # not ours: the files are then renamed in one by one inside the folder
        (out / name).write_text("kept")
    before = contents(out)
    with file_size_limit(FILE_SIZE_LIMIT), pytest.raises(OSError) as err:
        bundle.write_bundle(out, *NEW)
    assert err.value.errno == errno.EFBIG
    # The whole old bundle: no new model.onnx beside the old manifest, no old group report beside a new model.
    assert contents(out) == before == {**expected(*OLD), **{name: b"kept" for name in others}}
    assert list(tmp_path.iterdir()) == [out]  # no staging folder left beside it


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2 exchange", "two renames"])
def test_a_new_bundle_replaces_the_old_one_and_keeps_the_folder_mode(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exchange: bool) -> None:
    if not exchange:  # a kernel or filesystem without RENAME_EXCHANGE
        monkeypatch.setattr(atomic_write, "exchange_paths", lambda _a, _b: False)
    out = tmp_path / "bundle"
    bundle.write_bundle(out, *OLD)
    out.chmod(0o750)
    assert bundle.write_bundle(out, *NEW) == out
    assert contents(out) == expected(*NEW)
    assert out.stat().st_mode & 0o777 == 0o750  # the gateway's user must still be able to read it
    assert list(tmp_path.iterdir()) == [out]


def test_a_folder_with_other_files_keeps_them(tmp_path: Path) -> None:
    """--out may be a folder the user keeps other things in: those are never moved or removed."""
    out = tmp_path / "models"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    bundle.write_bundle(out, *OLD)
    bundle.write_bundle(out, *NEW)
    assert contents(out) == expected(*NEW) | {"notes.txt": b"mine"}


def test_a_symlinked_bundle_folder_stays_a_link(tmp_path: Path) -> None:
    real = tmp_path / "real"
    bundle.write_bundle(real, *OLD)
    link = tmp_path / "bundle"
    link.symlink_to(real, target_is_directory=True)
    bundle.write_bundle(link, *NEW)
    assert link.is_symlink() and os.path.realpath(link) == str(real)
    assert contents(real) == expected(*NEW)


@pytest.fixture
def bind_mounted_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder bind-mounted from the same filesystem, as `docker run -v ./bundle:/app/model/bundle`
    can give: `os.path.ismount` does not see it, and renaming it fails with EBUSY."""
    source, mount_point = tmp_path / "host-bundle", tmp_path / "bundle"
    source.mkdir()
    mount_point.mkdir()
    # As root, or through passwordless sudo (a GitHub runner's user has it): CI runs this test too.
    as_root = [] if os.geteuid() == 0 else ["sudo", "-n"]
    # Skipped on a developer's machine without them; on CI (CI set, as GitHub and .ci/run set it) a
    # skip would pass the test unrun, so it fails instead.
    cannot = pytest.fail if os.environ.get("CI") else pytest.skip
    if as_root and shutil.which("sudo") is None:
        cannot("bind mounts need root with CAP_SYS_ADMIN (not root, and no sudo)")
    mounted = subprocess.run([*as_root, "mount", "--bind", str(source), str(mount_point)], capture_output=True, text=True)
    if mounted.returncode != 0:
        cannot(f"bind mounts need root with CAP_SYS_ADMIN: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run([*as_root, "umount", str(mount_point)], check=True)


def test_a_bind_mounted_bundle_folder_is_written_in_place(bind_mounted_folder: Path) -> None:
    out = bind_mounted_folder
    bundle.write_bundle(out, *OLD)
    bundle.write_bundle(out, *NEW)
    assert contents(out) == expected(*NEW)
    assert contents(out.parent / "host-bundle") == expected(*NEW)  # still the mount, not a folder put over it
    assert sorted(p.name for p in out.parent.iterdir()) == ["bundle", "host-bundle"]


@pytest.mark.parametrize("others", [[], ["README.md"]], ids=["bundle folder", "folder shared with other files"])
def test_what_a_killed_write_left_is_removed_and_does_not_stop_the_swap(tmp_path: Path, others: list[str]) -> None:
    out = tmp_path / "bundle"
    bundle.write_bundle(out, *OLD)
    for name in others:
        (out / name).write_text("kept")
    # A write killed part-way leaves its staging folders: inside (files renamed in one by one),
    # beside (a whole new bundle), and the old folder set aside between the fallback's two renames.
    leftovers = [out / ".new-deadbeef", tmp_path / ".bundle.new-0badc0de", tmp_path / ".bundle.new-0badc0de-old"]
    for folder in leftovers:
        folder.mkdir()
        (folder / bundle.MODEL_FILE).write_bytes(b"half written")
    unrelated = tmp_path / ".bundle.new-notours"
    unrelated.mkdir()
    inode_before = out.stat().st_ino
    bundle.write_bundle(out, *NEW)
    assert contents(out) == {**expected(*NEW), **{name: b"kept" for name in others}}
    assert not any(folder.exists() for folder in leftovers)
    assert unrelated.exists()  # not a name a write of ours makes
    # With nothing but the bundle in it, the folder is still swapped whole, not written into.
    assert (out.stat().st_ino != inode_before) == (others == [])


def test_a_bundle_from_before_the_group_report_is_replaced_whole(tmp_path: Path) -> None:
    """A bundle written when it had four files (no group_report.json) holds nothing but bundle files: the new
    one is swapped in whole, not written into it as into a folder shared with other files."""
    out = tmp_path / "bundle"
    bundle.write_bundle(out, *OLD)
    (out / bundle.GROUP_REPORT_FILE).unlink()
    inode_before = out.stat().st_ino
    bundle.write_bundle(out, *NEW)
    assert contents(out) == expected(*NEW)
    assert out.stat().st_ino != inode_before
    assert list(tmp_path.iterdir()) == [out]


def test_the_manifest_is_the_last_of_the_five_files(tmp_path: Path) -> None:
    """Where the files are renamed in one by one, the manifest (what a reader opens first) comes last."""
    staged = bundle.stage_bundle(tmp_path / "bundle", *NEW)
    try:
        assert list(staged.files) == [bundle.MODEL_FILE, bundle.PARITY_FILE, bundle.EXPLAINER_FILE,
                                      bundle.GROUP_REPORT_FILE, bundle.MANIFEST_FILE]
    finally:
        staged.discard()
