"""Request body schemas for POST routes: the first field that fails, named by its path."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol


@dataclass(frozen=True)
class Invalid:
    """Why a body was refused: the dotted field path and what it must be."""

    field: str
    message: str


class Rule(Protocol):
    """A check of one JSON value; returns None when the value is acceptable."""

    @property
    def required(self) -> bool: ...

    def check(self, value: Any, path: str) -> Invalid | None: ...


@dataclass(frozen=True)
class Text:
    """A string of bounded length, optionally matching a pattern."""

    required: bool = True
    max_length: int = 256
    pattern: str = ""
    description: str = ""

    def check(self, value: Any, path: str) -> Invalid | None:
        what = self.description or f"a non-empty string of at most {self.max_length} characters"
        if not isinstance(value, str) or not value or len(value) > self.max_length:
            return Invalid(path, f"must be {what}")
        if self.pattern and not re.fullmatch(self.pattern, value):
            return Invalid(path, f"must be {what}")
        return None


@dataclass(frozen=True)
class Integer:
    """A whole number (not a boolean) within bounds."""

    low: int
    high: int
    required: bool = True

    def check(self, value: Any, path: str) -> Invalid | None:
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not (self.low <= value <= self.high)
        ):
            return Invalid(path, f"must be an integer from {self.low} to {self.high}")
        return None


@dataclass(frozen=True)
class Choice:
    """One of a fixed set of strings."""

    values: tuple[str, ...]
    required: bool = True

    def check(self, value: Any, path: str) -> Invalid | None:
        if value not in self.values:
            return Invalid(path, "must be one of " + ", ".join(self.values))
        return None


@dataclass(frozen=True)
class Object:
    """A JSON object with known fields (unknown fields are allowed, as most APIs do)."""

    fields: Mapping[str, Rule]
    required: bool = True

    def check(self, value: Any, path: str) -> Invalid | None:
        if not isinstance(value, dict):
            return Invalid(path or "body", "must be a JSON object")
        for name, rule in self.fields.items():
            field_path = f"{path}.{name}" if path else name
            if name not in value or value[name] is None:
                if rule.required:
                    return Invalid(field_path, "is required")
                continue
            problem = rule.check(value[name], field_path)
            if problem:
                return problem
        return None


_ADDRESS = Object(
    MappingProxyType(
        {
            "first_name": Text(max_length=100),
            "last_name": Text(max_length=100),
            "line1": Text(max_length=200),
            "line2": Text(required=False, max_length=200),
            "city": Text(max_length=100),
            "state": Text(required=False, max_length=100),
            "postal_code": Text(max_length=20),
            "country": Text(pattern="[A-Z]{2}", description="a two-letter country code"),
        }
    )
)

SCHEMAS: Mapping[str, Object] = MappingProxyType(
    {
        "token_request": Object(
            MappingProxyType(
                {
                    "grant_type": Choice(("password", "client_credentials")),
                    "client_id": Text(max_length=128),
                    "client_secret": Text(max_length=256),
                    "username": Text(required=False, max_length=256),
                    "password": Text(required=False, max_length=256),
                    "audience": Text(required=False, max_length=256),
                    "scope": Text(required=False, max_length=512),
                }
            )
        ),
        "cart_item": Object(
            MappingProxyType(
                {
                    "product_id": Integer(1, 999_999_999),
                    "quantity": Integer(1, 99),
                    "currency": Text(
                        required=False,
                        pattern="[A-Z]{3}",
                        description="a three-letter currency code",
                    ),
                }
            )
        ),
        "order": Object(
            MappingProxyType(
                {
                    "cart_id": Text(max_length=64),
                    "payment_method": Object(
                        MappingProxyType(
                            {
                                "type": Choice(("card", "paypal", "bank_transfer", "gift_card")),
                                "token": Text(max_length=256),
                            }
                        )
                    ),
                    "shipping_address": _ADDRESS,
                }
            )
        ),
    }
)


def validate_body(schema: Object, body: bytes) -> Invalid | None:
    """Parse a JSON body and check it against a schema."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return Invalid("body", "must be a JSON object")
    return schema.check(document, "")
