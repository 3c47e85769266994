"""The execution shortcut (schema/execution.py) answers exactly as graphql-core would."""

from __future__ import annotations

import dataclasses

import strawberry
from graphql import GraphQLObjectType
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.execution import FastExecutionContext, _plan
from schema.root import schema as served


@strawberry.type
class Tag:
    label: str


@strawberry.type
class Thing:
    name: str
    note: str | None
    size: int
    tags: list[Tag]
    ready_title: strawberry.Private[str | None] = None
    ready_tag: strawberry.Private[Tag | None] = None

    @strawberry.field
    def title(self) -> str:
        if self.ready_title is not None:
            return self.ready_title
        return "computed " + self.name

    @strawberry.field
    def tag(self) -> Tag | None:
        if self.ready_tag is not None:
            return self.ready_tag
        return None


@strawberry.type
class Query:
    @strawberry.field
    def things(self) -> list[Thing | None]:
        return [
            Thing(name="a", note=None, size=1, tags=[Tag(label="x")], ready_title="ready a",
                  ready_tag=Tag(label="t")),
            Thing(name="b", note="n", size=2, tags=[], ready_title=None),
            # Broken on purpose: a null non-null leaf, an Int out of range, a null in a list.
            Thing(name=None, note=None, size=2, tags=[]),  # type: ignore[arg-type]
            Thing(name="d", note=None, size=2**40, tags=[]),
            Thing(name="e", note=None, size=2, tags=[None]),  # type: ignore[list-item]
        ]


QUERY = "{ things { name note size title tag { label } tags { label } } }"


def run(context_class: type) -> tuple[object, list[tuple[str, object]]]:
    result = strawberry.Schema(query=Query, execution_context_class=context_class).execute_sync(QUERY)
    return result.data, sorted((e.message, e.path) for e in result.errors or [])


def test_the_shortcut_gives_graphql_cores_data_and_errors() -> None:
    fast, slow = run(FastExecutionContext), run(StrawberryGraphQLCoreExecutionContext)
    assert fast == slow
    data, errors = fast
    assert data["things"][0] == {  # type: ignore[index]
        "name": "a", "note": None, "size": 1, "title": "ready a", "tag": {"label": "t"},
        "tags": [{"label": "x"}],
    }
    assert data["things"][1]["title"] == "computed b"  # type: ignore[index]
    assert data["things"][2:] == [None, None, None]  # type: ignore[index]
    assert sorted(path for _, path in errors) == [  # type: ignore[type-var]
        ["things", 2, "name"], ["things", 3, "size"], ["things", 4, "tags", 0],
    ]


def test_the_shortcut_is_used() -> None:
    gql_schema = strawberry.Schema(query=Query)._schema
    thing = gql_schema.type_map["Thing"]
    assert isinstance(thing, GraphQLObjectType)
    plans = {name: _plan(thing, name) for name in thing.fields}
    assert plans["name"].name == "name" and plans["name"].leaf is not None  # type: ignore[union-attr]
    assert plans["tags"].name == "tags" and plans["tags"].leaf is None  # type: ignore[union-attr]
    assert plans["title"].name == "ready_title" and plans["title"].ready  # type: ignore[union-attr]


def test_every_resolver_with_a_ready_value_returns_it() -> None:
    """The shortcut serves `ready_<field>` in place of calling the field's resolver: every
    such resolver of the served schema must return that value when it is set."""
    checked = []
    for gql_type in served._schema.type_map.values():
        if not isinstance(gql_type, GraphQLObjectType):
            continue
        for name in gql_type.fields:
            plan = _plan(gql_type, name)
            if plan is None or not plan.ready:
                continue
            owner = gql_type.extensions["strawberry-definition"].origin
            definition = gql_type.fields[name].extensions["strawberry-definition"]
            item = object.__new__(owner)
            for field in dataclasses.fields(owner):
                object.__setattr__(item, field.name, 1)
            sentinel = object()
            object.__setattr__(item, plan.name, sentinel)
            got = definition.base_resolver.wrapped_func(item, info=None)
            assert got is sentinel, f"{gql_type.name}.{name} does not return {plan.name}"
            checked.append(f"{gql_type.name}.{name}")
    assert {"Poll.results", "Idea.author", "Question.reply", "Reply.official"} <= set(checked)
