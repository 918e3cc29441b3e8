"""App keys of the agents package (the shared ones live in :mod:`ivr.keys`)."""

from __future__ import annotations

from aiohttp import web

from ivr.agents.hub import AgentHub
from ivr.agents.transfers import TransferService

TRANSFER_SERVICE = web.AppKey("transfer_service", TransferService)
AGENT_HUB = web.AppKey("agent_hub", AgentHub)
