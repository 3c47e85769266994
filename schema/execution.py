"""A faster path through graphql-core for fields that only read an attribute.

Most fields of an answer are read straight off the object a resolver returned (`id`,
`title`, `edges`, `node`...). graphql-core gives each of them the full treatment: a resolve
info tuple, the argument check, Strawberry's resolver wrapper (for a field with a resolver:
argument conversion and an Info object), an awaitable check and the generic completion.
This execution context shortens two kinds of fields without arguments or field extensions:

- a *basic* field (a Strawberry field with no resolver): its value is
  `getattr(source, python_name)`. A scalar or enum is coerced here directly; an object or a
  list goes to graphql-core's completion as usual, only the resolver call is skipped;
- a field with a resolver whose object carries a *ready* value, `ready_<python_name>` not
  None: the page that built the object loaded it already (see schema/placement.py,
  prepare_polls...). Every such resolver starts with `if self.ready_x is not None: return
  self.ready_x` (tests/test_execution.py holds them to it), so the value is used as the
  resolver would return it, without calling it.

Anything else, including a null for a non-null leaf or a value a scalar refuses, goes through
graphql-core unchanged, so errors and their paths are those of the normal path. Field-level
middleware (a schema extension with a `resolve` hook) turns the shortcut off.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLField, GraphQLNonNull, GraphQLObjectType, is_leaf_type
from graphql.execution.executor import to_nodes
from graphql.pyutils import Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

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


class FastExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context with the shortcuts above."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        self._fast = manager is None or not getattr(manager, "middlewares", None)

    def execute_field(  # type: ignore[override]
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
                key = (parent_type, node.name.value)
                plan = _plans.get(key, _MISSING)
                if plan is _MISSING:
                    plan = _plans[key] = _plan(parent_type, node.name.value)
                if plan is not None:
                    value = getattr(source, plan.name, _MISSING)  # type: ignore[union-attr]
                    if value is not _MISSING and not (value is None and plan.ready):  # type: ignore[union-attr]
                        done = self._complete(plan, parent_type, field_details_list, path,  # type: ignore[arg-type]
                                              value, position_context)
                        if done is not _MISSING:
                            return done
        return super().execute_field(parent_type, source, field_details_list, path, position_context)

    def _complete(self, plan: _Plan, parent_type: GraphQLObjectType, field_details_list: Any,
                  path: Any, value: Any, position_context: Any) -> Any:
        """The completed value, or _MISSING to take graphql-core's own path instead."""
        if value is None:
            return None if plan.nullable else _MISSING
        if plan.leaf is not None:
            try:
                coerced = plan.leaf.coerce_output_value(value)
            except Exception:  # noqa: BLE001 - the normal path reports it
                return _MISSING
            return _MISSING if coerced is Undefined or coerced is None else coerced
        field = plan.field
        info = self.build_resolve_info(field, to_nodes(field_details_list), parent_type, path)
        try:
            completed = self.complete_value(
                field.type, field_details_list, info, path, value, position_context
            )
        except Exception as raw_error:  # noqa: BLE001 - reported as graphql-core would
            self.handle_field_error(raw_error, field.type, field_details_list, path)
            return None
        if self.is_awaitable(completed):
            return self._await_completed(completed, field, field_details_list, path)
        return completed

    async def _await_completed(self, completed: Any, field: GraphQLField,
                               field_details_list: Any, path: Any) -> Any:
        try:
            return await completed
        except Exception as raw_error:  # noqa: BLE001 - reported as graphql-core would
            self.handle_field_error(raw_error, field.type, field_details_list, path)
            return None
