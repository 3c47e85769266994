"""The exported SDL at the repo root is the served schema, and it honours the contract."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLInterfaceType, GraphQLObjectType, GraphQLUnionType

from app.api import schema
from app.cli import export_schema

ROOT = Path(__file__).resolve().parents[1]
CONTRACT_DIFF = ROOT.parent / "shared" / "tools" / "contract_diff.py"


def test_schema_graphql_is_the_exported_sdl() -> None:
    assert (ROOT / "schema.graphql").read_text() == export_schema(), (
        "schema.graphql is stale: run `make schema`"
    )


def test_every_type_field_and_argument_has_a_description() -> None:
    missing = []
    for name, gql_type in schema._schema.type_map.items():
        if name.startswith("__") or name in {"String", "Int", "Float", "Boolean", "ID"}:
            continue
        if not gql_type.description:
            missing.append(name)
        if isinstance(gql_type, (GraphQLObjectType, GraphQLInterfaceType, GraphQLInputObjectType)):
            for field_name, field in gql_type.fields.items():
                if not field.description:
                    missing.append(f"{name}.{field_name}")
                for arg_name, arg in getattr(field, "args", {}).items():
                    if not arg.description:
                        missing.append(f"{name}.{field_name}({arg_name})")
        if isinstance(gql_type, GraphQLEnumType):
            missing += [f"{name}.{v}" for v, value in gql_type.values.items() if not value.description]
        assert not isinstance(gql_type, GraphQLUnionType) or gql_type.description
    assert missing == []


def test_the_contract_is_fully_served() -> None:
    if not CONTRACT_DIFF.exists():  # the contract tool ships beside the repo, in ../shared
        return
    result = subprocess.run(
        [sys.executable, str(CONTRACT_DIFF), str(ROOT / "schema.graphql")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1].endswith(" 0 failed")
