"""requirements.lock.txt holds every package of model/.venv at one version: it agrees with
requirements.txt's pins, and the interpreter running the tests (the venv setup-venv.sh built)
has exactly what it names, nothing more, nothing at another version. A package installed at
whatever the index had that day is what let a new release change a run unseen."""
from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

import pytest

from churn_model.config import MODEL_DIR

REQUIREMENTS = MODEL_DIR / "requirements.txt"
LOCK = MODEL_DIR / "requirements.lock.txt"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)$")
# What `pip freeze` leaves out of the lock: the installer itself (setup-venv.sh pins pip) and
# what `python -m venv` brings along with it.
NOT_LOCKED = {"pip", "setuptools", "wheel", "distribute"}


def normalized(name: str) -> str:
    """PEP 503: `Scikit_Learn` and `scikit-learn` are one package."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        match = PIN.match(text)
        assert match, f"{path.name}:{number}: {text!r} is not an exact pin (name==version)"
        name = normalized(match.group(1))
        assert name not in found, f"{path.name}:{number}: {name} is pinned twice"
        found[name] = match.group(2)
    return found


def installed() -> dict[str, str]:
    return {
        normalized(d.metadata["Name"]): d.version
        for d in metadata.distributions()
        if normalized(d.metadata["Name"]) not in NOT_LOCKED
    }


def test_the_lock_pins_every_requirement_at_its_version() -> None:
    lock = pins(LOCK)
    wanted = pins(REQUIREMENTS)
    assert wanted, "requirements.txt pins nothing"
    apart = {name: (version, lock.get(name)) for name, version in wanted.items() if lock.get(name) != version}
    assert not apart, f"requirements.txt pin → lock: {apart}; run bash model/scripts/lock.sh"
    # The lock is what resolving them gives: more than the direct pins (mlflow alone brings dozens).
    assert len(lock) > len(wanted)


def test_the_venv_holds_exactly_the_lock() -> None:
    assert Path(sys.prefix).resolve() == (MODEL_DIR / ".venv").resolve(), (
        f"the tests run in {sys.prefix}, not model/.venv (bash model/scripts/test.sh sets it up)"
    )
    have = installed()
    lock = pins(LOCK)
    unlocked = sorted(f"{n}=={v}" for n, v in have.items() if n not in lock)
    assert not unlocked, f"installed but not in the lock (run bash model/scripts/lock.sh): {unlocked}"
    other = {n: (v, have.get(n)) for n, v in lock.items() if have.get(n) != v}
    assert not other, f"lock → installed: {other}; bash model/scripts/setup-venv.sh installs the lock"


def test_the_reader_refuses_what_is_not_one_exact_pin(tmp_path: Path) -> None:
    """Names normalized, comments and blank lines skipped, a range or a second pin refused: a lock
    the reader misread would pass the two checks above."""
    ok = tmp_path / "ok.txt"
    ok.write_text("# comment\n\nScikit_Learn==1.9.1\nnumpy==2.4.6\n", encoding="utf-8")
    assert pins(ok) == {"scikit-learn": "1.9.1", "numpy": "2.4.6"}
    for text, says in [("numpy>=2\n", "not an exact pin"), ("numpy==2\nNumPy==3\n", "pinned twice")]:
        bad = tmp_path / "bad.txt"
        bad.write_text(text, encoding="utf-8")
        with pytest.raises(AssertionError, match=says):
            pins(bad)
