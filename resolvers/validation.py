"""check_* helpers for mutation inputs: each failure is an INVALID userError with its path."""

from __future__ import annotations

import decimal
import re
from typing import Any
from urllib.parse import urlsplit

from schema.errors import Refusal, UserError, UserErrorCode

TITLE_MAX = 200
BODY_MAX = 20_000
# ISO 4217 codes in use (active currencies), so "EUR" passes and "XYZ" does not.
ISO_4217 = frozenset(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN
    BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP
    GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS
    KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR
    MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF
    SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD
    TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL""".split()
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Lone UTF-16 surrogates: JSON lets a client send "\ud800", but no database can store it
# (UTF-8 has no encoding for it), so it is refused here rather than failing the INSERT.
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def is_utf8(value: str) -> bool:
    """False for text with a lone surrogate: it cannot be encoded, hashed nor stored."""
    return _SURROGATE.search(value) is None


def is_clean(value: str) -> bool:
    """Encodable text without control characters (NUL among them: PostgreSQL refuses it)."""
    return is_utf8(value) and _CONTROL.search(value) is None


class Checks:
    """Collects INVALID errors so a client sees every bad field at once."""

    def __init__(self) -> None:
        self.errors: list[UserError] = []

    def fail(self, message: str, *field: str, **params: Any) -> None:
        """An INVALID error: `message` is the catalogue's msgid, `params` its parameters."""
        self.errors.append(
            UserError(field=["input", *field], message=message, code=UserErrorCode.INVALID, arguments=params)
        )

    def text(self, value: str, *field: str, max_length: int, min_length: int = 1) -> str:
        """Trimmed text of min_length..max_length characters without control characters."""
        cleaned = value.strip()
        if not is_clean(cleaned):
            self.fail("Must not contain control characters.", *field)
        elif not min_length <= len(cleaned) <= max_length:
            self.fail("Must be {min} to {max} characters long.", *field, min=min_length, max=max_length)
        return cleaned

    def title(self, value: str, *field: str) -> str:
        return self.text(value, *field, max_length=TITLE_MAX)

    def body(self, value: str, *field: str) -> str:
        return self.text(value, *field, max_length=BODY_MAX)

    def url(self, value: str, *field: str) -> str:
        cleaned = value.strip()
        try:
            parts = urlsplit(cleaned)
        except ValueError:  # "https://[::1", or a netloc NFKC normalization changes
            parts = None
        if (
            parts is None
            or parts.scheme not in ("http", "https")
            or not parts.netloc
            or len(cleaned) > 2000
            or not is_clean(cleaned)
        ):
            self.fail("Must be an http(s) URL.", *field)
        return cleaned

    def currency(self, value: str, *field: str) -> str:
        code = value.strip().upper()
        if code not in ISO_4217:
            self.fail("Must be an ISO 4217 currency code such as EUR.", *field)
        return code

    def amount(self, value: decimal.Decimal, *field: str) -> decimal.Decimal:
        if value < 0:
            self.fail("Must be zero or more.", *field)
        elif value >= decimal.Decimal("1e14"):
            self.fail("Is too large.", *field)
        elif value != value.quantize(decimal.Decimal("0.01")):
            self.fail("Must have at most 2 decimals.", *field)
        else:
            return value.quantize(decimal.Decimal("0.01"))
        return value

    def done(self) -> None:
        if self.errors:
            raise Refusal(self.errors)
