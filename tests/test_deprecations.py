"""The deprecation policy (docs/api-policy.md): nothing the last release served disappears or
changes incompatibly unless that release marked it deprecated with a removal date now past.

schema.release.graphql is the SDL of the last release (copied from schema.graphql when a
release is cut); this compares the served schema with it, as graphql-core sees breaking
changes.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from graphql import GraphQLSchema, build_schema, find_breaking_changes
from graphql.utilities import BreakingChange

from app.cli import export_schema

ROOT = Path(__file__).resolve().parents[1]
REMOVAL = re.compile(r"[Rr]emoval on (\d{4}-\d{2}-\d{2})")
SUBJECT = re.compile(r"\b([A-Za-z_]\w*\.[A-Za-z_]\w*)\b")


def removal_dates(schema: GraphQLSchema) -> dict[str, dt.date]:
    """"Type.field" (and "Enum.VALUE") -> the removal date its deprecation reason announces."""
    dates: dict[str, dt.date] = {}
    for name, gql_type in schema.type_map.items():
        for field_name, field in (getattr(gql_type, "fields", None) or {}).items():
            reason = getattr(field, "deprecation_reason", None)
            if reason and (match := REMOVAL.search(reason)):
                dates[f"{name}.{field_name}"] = dt.date.fromisoformat(match.group(1))
        for value_name, value in (getattr(gql_type, "values", None) or {}).items():
            reason = getattr(value, "deprecation_reason", None)
            if reason and (match := REMOVAL.search(reason)):
                dates[f"{name}.{value_name}"] = dt.date.fromisoformat(match.group(1))
    return dates


def unannounced(changes: list[BreakingChange], dates: dict[str, dt.date], today: dt.date) -> list[str]:
    """The breaking changes the last release did not announce for a date now past."""
    refused = []
    for change in changes:
        named = SUBJECT.search(change.description)  # "Field Query.old was removed."
        removal = dates.get(named.group(1)) if named else None
        if removal is None or removal > today:
            refused.append(f"{change.type.name}: {change.description}")
    return refused


def test_no_breaking_change_without_a_past_removal_date() -> None:
    released = build_schema((ROOT / "schema.release.graphql").read_text())
    served = build_schema(export_schema())
    changes = find_breaking_changes(released, served)
    assert unannounced(changes, removal_dates(released), dt.date.today()) == []


def test_the_check_refuses_a_removal_and_honours_an_announced_one() -> None:
    released = build_schema('''
        type Query {
          old: String @deprecated(reason: "Use new. Removal on 2026-06-01.")
          soon: String @deprecated(reason: "Use new. Removal on 2099-01-01.")
          kept: String
          new: String
        }''')
    served = build_schema("type Query { new: String }")
    changes = find_breaking_changes(released, served)
    # Query.old was announced for a date now past: it may go; the others may not
    assert unannounced(changes, removal_dates(released), dt.date(2027, 1, 1)) == [
        "FIELD_REMOVED: Field Query.soon was removed.", "FIELD_REMOVED: Field Query.kept was removed."]
