"""The gateway's own errors (it imports nothing from loadgate, so the CLI translates them).

GatewayError              base
├── GatewayConfigError    the config file or a flag has a value we cannot use
└── GatewayStartError     a process of the gateway could not start or died
"""

from __future__ import annotations


class GatewayError(Exception):
    """Base of every error the gateway raises on purpose."""


class GatewayConfigError(GatewayError):
    """A config key or flag has an unusable value; the message names key and expectation."""


class GatewayStartError(GatewayError):
    """The gateway, an upstream or the admin server failed to start, or died."""
