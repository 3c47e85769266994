"""Event envelopes: small, published after commit, fanned out by the broker."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Event:
    """What happened, where: a channel name, a type, and the ids a subscriber needs."""

    channel: str
    type: str
    data: dict[str, Any] = field(default_factory=dict)


def poll_channel(poll_id: int) -> str:
    return f"poll:{poll_id}"


def survey_channel(survey_id: int) -> str:
    return f"survey:{survey_id}"


def consultation_channel(consultation_id: int) -> str:
    return f"consultation:{consultation_id}"


def territory_channel(territory_id: int) -> str:
    return f"territory:{territory_id}"


def account_channel(account_id: int) -> str:
    return f"account:{account_id}"
