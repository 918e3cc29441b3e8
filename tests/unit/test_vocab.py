"""The shared vocabularies agree with the places that still spell their words out."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Enum

import ivr.dialog
from ivr.store.models import Base
from ivr.store.models.calls import _LIVE_SQL
from ivr.vocab.attempts import LIVE_ATTEMPT_STATUSES
from ivr.vocab.intents import Intent
from ivr.vocab.outcomes import DIALOG_OUTCOMES
from ivr.vocab.transfers import TransferOutcome

FLOW_YAML = Path(ivr.dialog.__file__).with_name("flow.yaml")
DESKTOP = FLOW_YAML.parents[1] / "web" / "static" / "desktop.html"


def _walk(node: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def test_the_flow_speaks_the_vocabulary() -> None:
    doc = yaml.safe_load(FLOW_YAML.read_text(encoding="utf-8"))
    pairs = list(_walk(doc))
    outcomes = {v for k, v in pairs if k in ("outcome", "default_outcome")}
    routed = {i for k, v in pairs if k == "on" for i in v}
    routed |= {i for routes in doc["branch_sets"].values() for i in routes}
    assert outcomes and outcomes <= set(DIALOG_OUTCOMES)
    assert routed and routed <= set(Intent)


def test_the_live_attempt_index_lists_the_live_statuses() -> None:
    listed = re.search(r"status IN \(([^)]*)\)", _LIVE_SQL)
    assert listed is not None
    assert set(re.findall(r"'([a-z-]+)'", listed.group(1))) == set(LIVE_ATTEMPT_STATUSES)
    # Only our own calls hold the one-live-call-per-person index.
    assert "direction = 'outbound'" in _LIVE_SQL


def test_every_enum_value_fits_its_column() -> None:
    for table in Base.metadata.tables.values():
        for column in table.columns:
            if isinstance(column.type, Enum):
                assert column.type.length is not None
                longest = max(len(v) for v in column.type.enums)
                assert longest <= column.type.length, (table.name, column.name)


def test_the_agent_desktop_offers_the_wrapup_outcomes() -> None:
    select = re.search(r'<select id="outcome".*?</select>', DESKTOP.read_text(), re.S)
    assert select is not None
    assert re.findall(r'value="([a-z_]+)"', select.group(0)) == [o.value for o in TransferOutcome]
