"""Scalars of the contract: DateTime (ISO 8601 with offset), Decimal (exact, as a string) and
Upload (a file part of a multipart request).

Types are annotated with the Python types (`dt.datetime`, `decimal.Decimal`); the schema maps
them to these scalars (SCALARS, the scalar_map of the schema's StrawberryConfig).
"""

from __future__ import annotations

import datetime as dt
import decimal

import strawberry
from starlette.datastructures import UploadFile
from strawberry.file_uploads import Upload
from strawberry.types.scalar import ScalarDefinition

from models.clock import as_utc

DateTime: ScalarDefinition = strawberry.scalar(
    name="DateTime",
    description="A moment as ISO 8601 with its UTC offset, e.g. 2026-11-27T14:00:00+00:00.",
    serialize=lambda value: as_utc(value).isoformat(),
    parse_value=lambda value: _parse_datetime(value),
)

Decimal: ScalarDefinition = strawberry.scalar(
    name="Decimal",
    description='An exact decimal number written as a string, e.g. "1250000.00".',
    serialize=lambda value: format(value, "f"),
    parse_value=lambda value: _parse_decimal(value),
)



def _parse_datetime(value: object) -> dt.datetime:
    if not isinstance(value, str):
        raise ValueError("DateTime must be an ISO 8601 string with an offset.")
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("DateTime must carry its UTC offset (e.g. +00:00 or Z).")
    return parsed.astimezone(dt.UTC)


def _parse_decimal(value: object) -> decimal.Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError("Decimal must be a string such as \"1250000.00\".")
    try:
        parsed = decimal.Decimal(str(value).strip())
    except decimal.InvalidOperation as exc:
        raise ValueError("Decimal must be a string such as \"1250000.00\".") from exc
    if not parsed.is_finite():
        raise ValueError("Decimal must be a finite number.")
    return parsed


def _parse_upload(value: object) -> UploadFile:
    # A file part of a multipart request, never a string a client put in the variables (or a
    # form field the request's `map` pointed at): Strawberry's own scalar passes anything.
    if not isinstance(value, UploadFile):
        raise ValueError("Upload must be a file part of a multipart request (GraphQL multipart request spec).")
    return value


def _serialize_upload(value: object) -> str:
    raise ValueError("An Upload is only ever an input.")


UploadScalar: ScalarDefinition = strawberry.scalar(
    name="Upload",
    description=(
        "A file sent as a part of a multipart request (the GraphQL multipart request spec), with the "
        "header `Apollo-Require-Preflight: true`; input only."
    ),
    serialize=_serialize_upload,
    parse_value=_parse_upload,
)


# Python type -> the contract's scalar (Strawberry's Upload read through the check above).
SCALARS: dict[object, ScalarDefinition] = {dt.datetime: DateTime, decimal.Decimal: Decimal, Upload: UploadScalar}
