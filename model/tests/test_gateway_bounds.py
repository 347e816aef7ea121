"""The training data's bounds are the gateway's: read from its TypeScript sources and compared."""
from __future__ import annotations

import re

from churn_model import schema
from churn_model.config import REPO_ROOT


def ts_constant(file: str, name: str) -> float:
    text = (REPO_ROOT / file).read_text(encoding="utf-8")
    match = re.search(rf"export const {name} = ([0-9.e_]+);", text)
    assert match, f"{name} not found in {file}"
    return float(match.group(1).replace("_", ""))


def test_tenure_and_charge_bounds_match_the_gateway() -> None:
    assert schema.MAX_TENURE_MONTHS == ts_constant("src/contract.ts", "MAX_TENURE_MONTHS")
    assert schema.MAX_CHARGE == ts_constant("src/contract.ts", "MAX_CHARGE")
