"""A faster path through graphql-core for fields that only read an attribute.

A Strawberry field with no resolver, or one whose object carries a ready value
(`ready_<name>` set by the page that loaded it), is completed here with its whole subtree in
one pass. Anything this pass cannot do exactly as graphql-core would (arguments, a null for a
non-null field, a value a scalar refuses, @defer...) sends the field back to graphql-core
unchanged. tests/test_execution.py holds the two paths equal. Reasoning: docs/adr/0007.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    DirectiveNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLUnionType,
    is_leaf_type,
)
from graphql.pyutils import Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.cast import get_strawberry_type_cast

from sharing.parts import COMPLETED, OVERLAID

_MISSING = object()


class _Plan:
    """How to read one field of one object type quickly."""

    __slots__ = ("field", "leaf", "name", "nullable", "ready")

    def __init__(self, field: GraphQLField, name: str, ready: str | None) -> None:
        self.field = field
        self.name = name  # the attribute holding the value
        self.ready = ready is not None  # the value is a ready_ attribute (may be unset)
        leaf = field.type
        self.nullable = not isinstance(leaf, GraphQLNonNull)
        if not self.nullable:
            leaf = leaf.of_type  # type: ignore[union-attr]
        self.leaf = leaf if is_leaf_type(leaf) else None


_plans: dict[tuple[GraphQLObjectType, str], _Plan | None] = {}


class _Bail(Exception):
    """This subtree needs graphql-core's own path."""


def _plan_of(parent_type: GraphQLObjectType, field_name: str) -> _Plan | None:
    key = (parent_type, field_name)
    plan = _plans.get(key, _MISSING)
    if plan is _MISSING:
        plan = _plans[key] = _plan(parent_type, field_name)
    return plan  # type: ignore[return-value]


def _plan(parent_type: GraphQLObjectType, field_name: str) -> _Plan | None:
    field = parent_type.fields.get(field_name)
    if field is None or field.args:
        return None
    definition = (field.extensions or {}).get("strawberry-definition")
    if definition is None or definition.extensions:
        return None
    if definition.base_resolver is None:
        if not getattr(field.resolve, "_is_default", False):
            return None
        return _Plan(field, definition.python_name, None)
    ready = "ready_" + definition.python_name
    owner = (parent_type.extensions or {}).get("strawberry-definition")
    if ready not in getattr(getattr(owner, "origin", None), "__dataclass_fields__", {}):
        return None
    return _Plan(field, ready, ready)


# Whether an operation (with its fragments) has no directive at all: only then does a
# selection complete the same way whatever the variables (@skip/@include read them), so its
# answers from a shared part's objects may be reused. By the operation's identity (the parser
# cache hands every request with the same text the same document); the entry keeps the
# operation alive, so its id is never another's while it is here.
_unconditional: dict[int, tuple[Any, bool]] = {}


def _has_directive(node: Any) -> bool:
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, DirectiveNode):
            return True
        for key in item.keys:
            child = getattr(item, key, None)
            if isinstance(child, (list, tuple)):
                stack.extend(c for c in child if hasattr(c, "keys"))
            elif hasattr(child, "keys"):
                stack.append(child)
    return False


def _reusable(operation: Any, fragments: dict[str, Any]) -> bool:
    entry = _unconditional.get(id(operation))
    if entry is None or entry[0] is not operation:
        if len(_unconditional) >= 1024:
            _unconditional.clear()
        flag = not _has_directive(operation) and not any(
            _has_directive(getattr(f, "definition", f)) for f in fragments.values()  # FragmentDetails
        )
        entry = _unconditional[id(operation)] = (operation, flag)
    return entry[1]


class FastExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context with the shortcuts above."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        self._fast = manager is None or not getattr(manager, "middlewares", None)
        self._reuse = self._fast and _reusable(self.operation, self.fragments)

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Any,
        position_context: Any,
    ) -> Any:
        if self._fast:
            node = field_details_list[0].node
            if not node.arguments:
                plan = _plan_of(parent_type, node.name.value)
                if plan is not None:
                    value = getattr(source, plan.name, _MISSING)
                    if value is not _MISSING and not (value is None and plan.ready):
                        done = self._complete(plan, field_details_list, value)
                        if done is not _MISSING:
                            return done
        return super().execute_field(parent_type, source, field_details_list, path, position_context)

    def _complete(self, plan: _Plan, field_details_list: Any, value: Any) -> Any:
        """The completed value, or _MISSING to take graphql-core's own path instead."""
        if value is None:
            return None if plan.nullable else _MISSING
        if plan.leaf is not None:
            try:
                coerced = plan.leaf.coerce_output_value(value)
            except Exception:  # noqa: BLE001 - the normal path reports it
                return _MISSING
            return _MISSING if coerced is Undefined or coerced is None else coerced
        try:
            return self._tree(plan.field.type, field_details_list, value)
        except _Bail:
            return _MISSING  # graphql-core resolves and completes it, errors and all

    # A whole subtree of objects, lists and leaves that only read attributes, completed in
    # one recursive pass (no paths, infos or awaitable checks). The first thing it cannot do
    # exactly as graphql-core would (a field with arguments or a resolver without a ready
    # value, a null in a non-null position, a refused scalar, @defer, a cast object...)
    # abandons the pass: it only read attributes, so graphql-core then redoes the subtree.

    def _tree(self, return_type: Any, field_details_list: Any, value: Any) -> Any:
        if isinstance(return_type, GraphQLNonNull):
            if value is None:
                raise _Bail
            return_type = return_type.of_type
        if value is None:
            return None
        if isinstance(return_type, GraphQLList):
            if not isinstance(value, (list, tuple)):
                raise _Bail
            item_type = return_type.of_type
            return [self._tree(item_type, field_details_list, item) for item in value]
        if is_leaf_type(return_type):
            try:
                coerced = return_type.coerce_output_value(value)
            except Exception as error:  # noqa: BLE001 - graphql-core reports it
                raise _Bail from error
            if coerced is Undefined or coerced is None:
                raise _Bail
            return coerced
        if isinstance(return_type, (GraphQLInterfaceType, GraphQLUnionType)):
            return_type = self._runtime_type(return_type, value)
        is_type_of = return_type.is_type_of
        if is_type_of is not None:
            matches = is_type_of(value, None)
            if matches is not True:
                raise _Bail
        if self._reuse:
            memo = getattr(value, COMPLETED, None)
            if memo is not None:
                return self._shared(memo, return_type, field_details_list, value)
            overlaid = getattr(value, OVERLAID, None)
            if overlaid is not None:
                return self._overlaid(overlaid, return_type, field_details_list, value)
        return self._object(return_type, field_details_list, value)

    # Objects of a stored shared part are completed once per selection (the memo's key holds
    # the selection's nodes, so their ids stay theirs while the entry lives); a viewer's copy
    # of one (sharing.parts.overlay) reuses the original's answer without the fields it changed.

    def _shared(self, memo: dict[Any, Any], return_type: GraphQLObjectType, field_details_list: Any,
                value: Any) -> dict[str, Any]:
        nodes = tuple(details.node for details in field_details_list)
        key = (return_type, *map(id, nodes))
        done = memo.get(key)
        if done is None:
            done = memo[key] = (nodes, self._object(return_type, field_details_list, value))
        return done[1]

    def _overlaid(self, overlaid: tuple[dict[Any, Any], frozenset[str]], return_type: GraphQLObjectType,
                  field_details_list: Any, value: Any) -> dict[str, Any]:
        memo, changed = overlaid
        nodes = tuple(details.node for details in field_details_list)
        key = (return_type, changed, *map(id, nodes))
        done = memo.get(key)
        if done is None:
            own: list[tuple[str, _Plan]] = []
            done = memo[key] = (nodes, self._object(return_type, field_details_list, value, changed, own), own)
        completed = dict(done[1])
        for response_name, plan in done[2]:
            # The viewer's own fields are leaves (anything else was not left out: _object).
            field_value = getattr(value, plan.name, _MISSING)
            if field_value is _MISSING or (field_value is None and plan.ready):
                raise _Bail
            completed[response_name] = self._tree(plan.field.type, None, field_value)
        return completed

    def _object(self, return_type: GraphQLObjectType, field_details_list: Any, value: Any,
                changed: frozenset[str] = frozenset(), own: list[tuple[str, _Plan]] | None = None) -> dict[str, Any]:
        """The object's answer; the leaves read from `changed` attributes are left as None
        placeholders (keeping the selection's order) and listed in `own`."""
        grouped, defers, _ = self.collect_subfields(return_type, field_details_list)
        if defers:
            raise _Bail
        completed: dict[str, Any] = {}
        for response_name, sub_fields in grouped.items():
            node = sub_fields[0].node
            name = node.name.value
            if name == "__typename":
                completed[response_name] = return_type.name
                continue
            if node.arguments:
                raise _Bail
            plan = _plan_of(return_type, name)
            if plan is None:
                raise _Bail
            if own is not None and plan.name in changed:
                if plan.leaf is None:
                    raise _Bail
                own.append((response_name, plan))
                completed[response_name] = None
                continue
            field_value = getattr(value, plan.name, _MISSING)
            if field_value is _MISSING or (field_value is None and plan.ready):
                raise _Bail
            completed[response_name] = self._tree(plan.field.type, sub_fields, field_value)
        return completed

    def _runtime_type(self, abstract: Any, value: Any) -> GraphQLObjectType:
        """The concrete type of a Strawberry object returned for an interface or union, as
        Strawberry's resolve_type would name it (cast objects and generics excepted)."""
        definition = getattr(value, "__strawberry_definition__", None)
        if definition is None or definition.is_graphql_generic or get_strawberry_type_cast(value) is not None:
            raise _Bail
        runtime = self.schema.get_type(definition.name)
        if not isinstance(runtime, GraphQLObjectType) or not self.schema.is_sub_type(abstract, runtime):
            raise _Bail
        return runtime

