"""The execution shortcut (schema/execution.py) answers exactly as graphql-core would."""

from __future__ import annotations

import dataclasses

import strawberry
from graphql import GraphQLObjectType
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from app.api import schema as served
from schema.execution import FastExecutionContext, _plan


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


@strawberry.interface
class Person:
    name: str


@strawberry.type
class Citizen(Person):
    street: str | None


@strawberry.type
class Official(Person):
    title: str


@strawberry.type
class Item:
    label: str
    owner: Person
    tags: list[Tag]
    best: Tag | None
    ready_score: strawberry.Private[int | None] = None

    @strawberry.field
    def score(self) -> int:
        if self.ready_score is not None:
            return self.ready_score
        return -1

    @strawberry.field
    def twice(self, n: int) -> int:
        return 2 * n


@strawberry.type
class Page:
    items: list[Item]


def items(broken: str) -> list[Item]:
    # Item.owner is non-null and Page.items is a non-null list: a broken owner nulls the page.
    good = [
        Item(label="a", owner=Citizen(name="Alice", street=None), tags=[Tag(label="x"), Tag(label="y")],
             best=None, ready_score=3),
        Item(label="b", owner=Official(name="Odile", title="Mayor"), tags=[], best=Tag(label="z")),
    ]
    if broken == "deep null":
        good.append(Item(label="c", owner=Citizen(name=None, street="Rue"), tags=[], best=None))  # type: ignore[arg-type]
    elif broken == "null in list":
        good.append(Item(label="c", owner=Citizen(name="C", street=None), tags=[Tag(label="ok"), None],  # type: ignore[list-item]
                         best=None))
    elif broken == "under a nullable field":
        good.append(Item(label="c", owner=Citizen(name="C", street=None), tags=[],
                         best=Tag(label=None)))  # type: ignore[arg-type]
    elif broken == "bad scalar":
        good.append(Item(label="c", owner=Citizen(name="C", street=None), tags=[], best=None, ready_score=2**40))
    return good


@strawberry.type
class TreeQuery:
    @strawberry.field
    def page(self, broken: str = "") -> Page:
        return Page(items=items(broken))


TREE = """query($broken: String!, $skip: Boolean!) { page(broken: $broken) { items {
  __typename label score twice(n: 2) again: label
  owner { __typename name ... on Citizen { street } ... on Official { title } }
  tags @skip(if: $skip) { label } best { ...TagFields } } } }
fragment TagFields on Tag { label }"""


def tree_schema(context_class: type) -> strawberry.Schema:
    return strawberry.Schema(query=TreeQuery, types=[Citizen, Official], execution_context_class=context_class)


def test_whole_subtrees_answer_as_graphql_core_does() -> None:
    for broken in ("", "deep null", "null in list", "under a nullable field", "bad scalar"):
        for skip in (False, True):
            answers = []
            for context_class in (FastExecutionContext, StrawberryGraphQLCoreExecutionContext):
                result = tree_schema(context_class).execute_sync(
                    TREE, variable_values={"broken": broken, "skip": skip}
                )
                assert all(e.path for e in result.errors or []), result.errors  # executed, not refused
                answers.append((result.data, sorted((e.message, str(e.path)) for e in result.errors or [])))
            assert answers[0] == answers[1], (broken, skip)
    partial = tree_schema(FastExecutionContext).execute_sync(
        TREE, variable_values={"broken": "under a nullable field", "skip": False}
    )
    assert partial.data["page"]["items"][2]["best"] is None  # type: ignore[index]
    assert [e.path for e in partial.errors or []] == [["page", "items", 2, "best", "label"]]
    clean = tree_schema(FastExecutionContext).execute_sync(
        TREE, variable_values={"broken": "", "skip": False}
    )
    assert clean.errors is None
    assert clean.data["page"]["items"][1] == {  # type: ignore[index]
        "__typename": "Item", "label": "b", "score": -1, "twice": 4, "again": "b",
        "owner": {"__typename": "Official", "name": "Odile", "title": "Mayor"}, "tags": [], "best": {"label": "z"},
    }


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
