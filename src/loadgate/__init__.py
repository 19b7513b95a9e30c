"""loadgate: self-hosted load testing for HTTP APIs and the gateways in front of them."""

__version__ = "0.1.0"
