"""The reference API gateway and its mock upstream services: the system under test.

It imports nothing else from loadgate. The public API is what `loadgate
gateway` uses: load a config, run a Supervisor until a signal.
"""

from loadgate.gateway.config import GatewayConfig
from loadgate.gateway.config_load import load_config
from loadgate.gateway.errors import GatewayConfigError, GatewayError, GatewayStartError
from loadgate.gateway.supervisor import GatewayUrls, Supervisor

__all__ = [
    "GatewayConfig",
    "GatewayConfigError",
    "GatewayError",
    "GatewayStartError",
    "GatewayUrls",
    "Supervisor",
    "load_config",
]
