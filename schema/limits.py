"""What one request may ask: depth, aliases, tokens, fields, and a static cost.

Refusals are GraphQL errors with a code in `extensions.code`; every answer reports its cost
in `extensions.cost`. The numbers, and why, are in docs/limits-and-errors.md.

The cost follows GitHub's model: a connection costs the number of nodes it may return (its
`first` or `last`, 20 by default), nested connections multiply, and a plain object costs 1
per parent node; a field fetching objects by a list of ids (`nodes(ids:)`) costs one per id,
and what it selects is multiplied likewise. It is computed from the document and the
variables (a variable left out is priced at its default value, as the executor will use it)
before execution, so a refused request costs nothing.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
    parse,
    value_from_ast_untyped,
)
from strawberry.extensions import AddValidationRules, SchemaExtension

from access.errors import LocalizedError

MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 2_000
MAX_FIELDS = 300
MAX_COST = 10_000
DEFAULT_PAGE = 20
MUTATION_COST = 10


def _error(message: str, code: str, **details: Any) -> GraphQLError:
    """A refusal whose message is a catalogue msgid filled from its extensions (access/i18n.py)."""
    return LocalizedError(message, code, details, **details)


class DepthRule(ValidationRule):
    """Refuses operations nested deeper than MAX_DEPTH fields (fragments included)."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        fragments = {f.name.value: f for f in self.context.document.definitions if isinstance(f, FragmentDefinitionNode)}
        depth = _depth(node.selection_set, fragments, 0, set())
        if depth > MAX_DEPTH:
            self.report_error(
                _error("The query is {depth} levels deep; the limit is {limit}.", "QUERY_TOO_DEEP",
                       depth=depth, limit=MAX_DEPTH)
            )


def _depth(selection_set: SelectionSetNode | None, fragments: dict[str, FragmentDefinitionNode],
           level: int, seen: set[str]) -> int:
    if selection_set is None or level > MAX_DEPTH:
        return level
    deepest = level
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.name.value.startswith("__"):
                continue  # introspection's own nesting is fixed by the spec
            deepest = max(deepest, _depth(selection.selection_set, fragments, level + 1, seen))
        elif isinstance(selection, InlineFragmentNode):
            deepest = max(deepest, _depth(selection.selection_set, fragments, level, seen))
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in fragments and name not in seen:
                deepest = max(deepest, _depth(fragments[name].selection_set, fragments, level, seen | {name}))
    return deepest


class AliasAndFieldRule(ValidationRule):
    """Refuses documents with more than MAX_ALIASES aliases or MAX_FIELDS field selections
    (a query repeating one field 500 times is refused even though the copies merge)."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.aliases = 0
        self.fields = 0

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        self.fields += 1
        if node.alias is not None:
            self.aliases += 1

    def leave_document(self, *_: Any) -> None:
        if self.aliases > MAX_ALIASES:
            self.report_error(_error("The query has {count} aliases; the limit is {limit}.",
                                     "TOO_MANY_ALIASES", count=self.aliases, limit=MAX_ALIASES))
        if self.fields > MAX_FIELDS:
            self.report_error(_error("The query selects {count} fields; the limit is {limit}.",
                                     "TOO_MANY_FIELDS", count=self.fields, limit=MAX_FIELDS))


class QueryLimits(AddValidationRules):
    """Depth, aliases and fields (validation rules, cached with the document) and tokens."""

    def __init__(self) -> None:
        super().__init__([DepthRule, AliasAndFieldRule])

    def on_operation(self) -> Iterator[None]:
        self.execution_context.parse_options["max_tokens"] = MAX_TOKENS
        yield from super().on_operation()


class QueryCost(SchemaExtension):
    """Computes the operation's cost from the document and variables; refuses it over MAX_COST."""

    cost: int | None = None

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        document = ctx.graphql_document
        if document is not None:
            self.cost = cached_operation_cost(ctx.schema._schema, document, ctx.operation_name, ctx.variables or {})
            if hasattr(ctx.context, "query_cost"):
                ctx.context.query_cost = self.cost
            if self.cost > MAX_COST:
                raise _error(
                    "The query could return up to {cost} nodes; the limit is {limit}. "
                    "Ask for smaller pages (first/last) or fewer nested connections.",
                    "MAX_COST_EXCEEDED", cost=self.cost, limit=MAX_COST,
                )
        yield

    def get_results(self) -> dict[str, Any]:
        if self.cost is None:
            return {}
        return {"cost": {"requestedQueryCost": self.cost, "maximumAvailable": MAX_COST}}


@functools.lru_cache(maxsize=512)
def selected_operation_type(query: str | None, operation_name: str | None) -> OperationType | None:
    """The type of the operation a request selects (query, mutation, subscription), or None
    when the document does not parse or selects no single operation."""
    if not query:
        return None
    try:
        document = parse(query, max_tokens=MAX_TOKENS)
    except GraphQLError:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name is not None and o.name.value == operation_name]
    return operations[0].operation if len(operations) == 1 else None


_costs: OrderedDict[tuple[int, int, str | None, tuple[tuple[str, int], ...]], tuple[Any, Any, int]] = OrderedDict()


def cached_operation_cost(schema: GraphQLSchema, document: Any, operation_name: str | None,
                          variables: dict[str, Any]) -> int:
    """operation_cost, remembered per parsed document (the parser cache hands out the same
    one for the same text) and what of the variables a cost depends on: integers, and the
    length of lists."""
    numbers = tuple(sorted(
        (k, len(v) if isinstance(v, list) else v)
        for k, v in variables.items() if isinstance(v, (int, list))
    ))
    key = (id(schema), id(document), operation_name, numbers)
    found = _costs.get(key)
    if found is not None and found[0] is schema and found[1] is document:  # not reused ids
        return found[2]
    cost = operation_cost(schema, document, operation_name, variables)
    _costs[key] = (schema, document, cost)
    if len(_costs) > 1024:
        _costs.popitem(last=False)
    return cost


def operation_cost(schema: GraphQLSchema, document: Any, operation_name: str | None,
                   variables: dict[str, Any]) -> int:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name is not None and o.name.value == operation_name]
    if not operations:
        return 0
    operation = operations[0]
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    variables = {**defaults_of(operation), **variables}
    root = {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }[operation.operation]
    if root is None:
        return 0
    base = MUTATION_COST * sum(1 for s in operation.selection_set.selections if isinstance(s, FieldNode)) \
        if operation.operation == OperationType.MUTATION else 0
    return base + _cost(schema, root, operation.selection_set, 1, fragments, variables, set())


def _cost(schema: GraphQLSchema, parent: Any, selection_set: SelectionSetNode | None, multiplier: int,
          fragments: dict[str, FragmentDefinitionNode], variables: dict[str, Any], seen: set[str]) -> int:
    if selection_set is None:
        return 0
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            name = selection.name.value
            fields = getattr(parent, "fields", {})
            if name.startswith("__") or name not in fields:
                continue
            named = get_named_type(fields[name].type)
            if not isinstance(named, (GraphQLObjectType, GraphQLInterfaceType, GraphQLUnionType)):
                continue  # scalars and enums are free
            if named.name.endswith("Connection"):
                size = _page_size(selection, variables)
                nodes = multiplier * size
                total += nodes + _cost(schema, named, selection.selection_set, nodes, fragments, variables, seen)
            elif is_list_type(get_nullable_type(fields[name].type)) and (
                ids := _list_length(selection, "ids", variables)
            ) is not None:
                # One object per id: a hundred copies of one id cost a hundred objects.
                nodes = multiplier * ids
                total += nodes + _cost(schema, named, selection.selection_set, nodes, fragments, variables, seen)
            else:
                # A connection's edges and nodes are the nodes it already counted.
                wrapper = getattr(parent, "name", "").endswith(("Connection", "Edge"))
                total += (0 if wrapper else multiplier) + _cost(
                    schema, named, selection.selection_set, multiplier, fragments, variables, seen
                )
        elif isinstance(selection, InlineFragmentNode):
            target = parent
            if selection.type_condition is not None:
                target = schema.get_type(selection.type_condition.name.value) or parent
            total += _cost(schema, target, selection.selection_set, multiplier, fragments, variables, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in fragments and name not in seen:
                fragment = fragments[name]
                target = schema.get_type(fragment.type_condition.name.value) or parent
                total += _cost(schema, target, fragment.selection_set, multiplier, fragments, variables,
                               seen | {name})
    return total


def defaults_of(operation: OperationDefinitionNode) -> dict[str, Any]:
    """The default values the operation declares for its variables (`$n: Int = 100`)."""
    return {
        definition.variable.name.value: value_from_ast_untyped(definition.default_value)
        for definition in operation.variable_definitions or ()
        if definition.default_value is not None
    }


def _list_length(field: FieldNode, name: str, variables: dict[str, Any]) -> int | None:
    """How many items the field's list argument `name` holds, or None without one."""
    for argument in field.arguments or ():
        if argument.name.value != name:
            continue
        value = argument.value
        if isinstance(value, ListValueNode):
            return len(value.values)
        if isinstance(value, VariableNode):
            given = variables.get(value.name.value)
            return len(given) if isinstance(given, list) else 1  # a single id is coerced to a list of one
        return 1
    return None


def _page_size(field: FieldNode, variables: dict[str, Any]) -> int:
    sizes = []
    for argument in field.arguments or ():
        if argument.name.value not in ("first", "last"):
            continue
        value = argument.value
        if isinstance(value, IntValueNode):
            sizes.append(int(value.value))
        elif isinstance(value, VariableNode) and isinstance(variables.get(value.name.value), int):
            sizes.append(int(variables[value.name.value]))
    # Over-large pages are refused when executed; price them at what they asked for.
    return max(sizes) if sizes else DEFAULT_PAGE
