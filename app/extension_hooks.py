"""Strawberry's extension hooks, wrapped once per class instead of once per request.

For every operation Strawberry builds four hook managers (operation, parsing, validation,
execution), and each looks up the hook of every extension and wraps a generator hook in a new
`contextlib.contextmanager` (`functools.update_wrapper` included): 24 lookups and 7 wraps per
request for Parvis's extensions, about 5 % of a vote's server CPU under load
(bench/profile_votes.py --concurrency 16). Here the lookup and the wrapping are done once per
extension class and hook; a request only binds the wrapped hook to its extension instance
(`functools.partial`). The managers, their order and their exit stacks are Strawberry's own:
what a hook sees and when is unchanged. Hooks other than generator functions (plain or
coroutine callables) take Strawberry's own path. ParvisSchema uses this runner (app/api.py).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import (
    ExecutingContextManager,
    OperationContextManager,
    ParsingContextManager,
    ValidationContextManager,
    WrappedHook,
)
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import ExecutionContext
from strawberry.utils.await_maybe import await_maybe

# (extension class, hook name) -> (the hook wrapped as a context manager factory, async?),
# None when the class does not define the hook, or _STRAWBERRY for Strawberry's own path.
_STRAWBERRY = (None, False)
_wrapped: dict[tuple[type, str], tuple[Callable[..., Any] | None, bool] | None] = {}


def _wrapped_hook(cls: type, name: str) -> tuple[Callable[..., Any] | None, bool] | None:
    key = (cls, name)
    if key in _wrapped:
        return _wrapped[key]
    function = getattr(cls, name)
    made: tuple[Callable[..., Any] | None, bool] | None
    if function is getattr(SchemaExtension, name):
        made = None
    elif inspect.isgeneratorfunction(function):
        made = (contextlib.contextmanager(function), False)
    elif inspect.isasyncgenfunction(function):
        made = (contextlib.asynccontextmanager(function), True)
    else:
        made = _STRAWBERRY
    _wrapped[key] = made
    return made


class _OnceWrapped:
    HOOK_NAME: str
    __slots__ = ()

    def get_hook(self, extension: SchemaExtension) -> WrappedHook | None:
        made = _wrapped_hook(type(extension), self.HOOK_NAME)
        if made is None:
            return None
        factory, is_async = made
        if factory is None:
            return super().get_hook(extension)  # type: ignore[misc, no-any-return]
        return WrappedHook(extension=extension, hook=functools.partial(factory, extension), is_async=is_async)


class _Operation(_OnceWrapped, OperationContextManager):
    __slots__ = ()


class _Parsing(_OnceWrapped, ParsingContextManager):
    __slots__ = ()


class _Validation(_OnceWrapped, ValidationContextManager):
    __slots__ = ()


class _Executing(_OnceWrapped, ExecutingContextManager):
    __slots__ = ()


class OnceWrappedRunner(SchemaExtensionsRunner):
    """Strawberry's runner with hooks wrapped once per class; extensions that keep the base
    `get_results` (an empty dict) are not asked for theirs."""

    def operation(self) -> OperationContextManager:
        return _Operation(self.extensions)

    def validation(self) -> ValidationContextManager:
        return _Validation(self.extensions)

    def parsing(self) -> ParsingContextManager:
        return _Parsing(self.extensions)

    def executing(self) -> ExecutingContextManager:
        return _Executing(self.extensions)

    async def get_extensions_results(self, ctx: ExecutionContext) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for extension in self.extensions:
            if type(extension).get_results is not SchemaExtension.get_results:
                data.update(await await_maybe(extension.get_results()))
        data.update(ctx.extensions_results)
        return data
