"""Fixtures shared by the unit tests of a live call."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.support.calls import claimed_attempt


@pytest.fixture
async def attempt_id(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> int:
    """A claimed attempt of one debtor, for a call session to run on."""
    return await claimed_attempt(sessions, tmp_path)
