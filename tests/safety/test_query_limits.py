"""Query limits: depth, aliases, repeated fields, tokens and cost are refused with a code;
every answer reports its cost."""

from __future__ import annotations

from schema.limits import MAX_ALIASES, MAX_COST, MAX_DEPTH
from tests.factories import make_territory


def code(result: dict) -> str:  # type: ignore[type-arg]
    assert result.get("errors"), result
    return str(result["errors"][0]["extensions"]["code"])


async def test_every_answer_reports_its_cost(gql):
    territory = await make_territory()
    result = await gql("query($s: String!) { territory(slug: $s) { questions(first: 50) { edges { node { author { displayName } } } } } }",
                       {"s": territory.slug})
    # territory 1 + 50 question nodes + 50 authors
    assert result["extensions"]["cost"] == {"requestedQueryCost": 101, "maximumAvailable": MAX_COST}


async def test_nested_connections_multiply_and_a_costly_query_is_refused_before_running(gql):
    query = """{ territories(first: 100) { edges { node {
        questions(first: 100) { edges { node { comments(first: 100) { totalCount } } } } } } } }"""
    result = await gql(query)
    assert code(result) == "MAX_COST_EXCEEDED"
    assert result["errors"][0]["extensions"]["limit"] == MAX_COST
    assert result.get("data") is None


async def test_variables_count_in_the_cost(gql):
    query = "query($n: Int!) { territories(first: $n) { edges { node { questions(first: $n) { totalCount } } } } }"
    assert "errors" not in await gql(query, {"n": 10})
    assert code(await gql(query, {"n": 100})) == "MAX_COST_EXCEEDED"
    assert "errors" not in await gql(query, {"n": 10})  # the cost is remembered per value


async def test_a_query_nested_too_deep_is_refused(gql):
    inner = "id"
    for _ in range(MAX_DEPTH + 3):
        inner = f"... on Idea {{ project {{ ideas(first: 1) {{ edges {{ node {{ {inner} }} }} }} }} }}"
    result = await gql(f'{{ node(id: "x") {{ {inner} }} }}')
    assert code(result) == "QUERY_TOO_DEEP"


async def test_too_many_aliases_are_refused(gql):
    query = "{ " + " ".join(f"a{i}: viewer {{ id }}" for i in range(MAX_ALIASES + 1)) + " }"
    assert code(await gql(query)) == "TOO_MANY_ALIASES"
    allowed = "{ " + " ".join(f"a{i}: viewer {{ id }}" for i in range(MAX_ALIASES)) + " }"
    assert "errors" not in await gql(allowed)


async def test_five_hundred_copies_of_one_field_are_refused(gql):
    assert code(await gql("{ " + "__typename " * 500 + "}")) == "TOO_MANY_FIELDS"


async def test_a_huge_document_is_refused_at_parse_time(gql):
    query = "{ viewer { id } }" + " ".join(f"fragment f{i} on Viewer {{ id }}" for i in range(700))
    result = await gql(query)
    assert code(result) == "GRAPHQL_PARSE_FAILED"
    assert "tokens" in result["errors"][0]["message"]


async def test_validation_errors_carry_a_code(gql):
    assert code(await gql("{ nope }")) == "GRAPHQL_VALIDATION_FAILED"
    assert code(await gql("{ territories(")) == "GRAPHQL_PARSE_FAILED"


async def test_page_sizes_over_one_hundred_are_refused(gql):
    assert code(await gql("{ territories(first: 101) { totalCount } }")) == "BAD_USER_INPUT"


async def test_partners_can_introspect_within_the_limits(gql):
    from graphql import get_introspection_query

    result = await gql(get_introspection_query(descriptions=True, specified_by_url=True,
                                               directive_is_repeatable=True, schema_description=True,
                                               input_value_deprecation=True))
    assert "errors" not in result
    assert result["data"]["__schema"]["queryType"]["name"] == "Query"
