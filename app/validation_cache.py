"""Validation remembered by the parsed document's identity.

Strawberry's ValidationCache keys an lru_cache on the document, and a DocumentNode hashes by
walking its whole tree: about a hundred and fifty hashes per request for the home page, more
than validating costs once. The parser cache (ParserCache) hands every request with the same
text the same DocumentNode, so its identity is as good a key and costs nothing to hash. Each
entry keeps its document (and schema) alive, so an id here is never another object's.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from strawberry.extensions.base_extension import SchemaExtension
from strawberry.schema.schema import validate_document

_Key = tuple[int, int, tuple[type, ...]]
_cache: OrderedDict[_Key, tuple[Any, Any, list[Any]]] = OrderedDict()


class DocumentValidationCache(SchemaExtension):
    """Validate each parsed document once (per schema and rule set), newest `maxsize` kept."""

    def __init__(self, maxsize: int = 256) -> None:
        super().__init__()
        self.maxsize = maxsize

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        schema, document = context.schema._schema, context.graphql_document
        if document is None:  # nothing parsed: Strawberry reports it
            yield
            return
        rules = tuple(context.validation_rules)
        key = (id(schema), id(document), rules)
        entry = _cache.get(key)
        if entry is None or entry[0] is not schema or entry[1] is not document:
            entry = _cache[key] = (schema, document, validate_document(schema, document, rules))
            while len(_cache) > self.maxsize:
                _cache.popitem(last=False)
        else:
            _cache.move_to_end(key)
        # A copy: the error extension rewrites the list in place (codes, the reader's language).
        context.pre_execution_errors = list(entry[2])
        yield
