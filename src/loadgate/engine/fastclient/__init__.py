"""`--client fast`: HttpUser scripts on a geventhttpclient session that keeps the requests API.

The session (FastSession) builds real `requests.Response` objects and hands
them to Locust's own ResponseContextManager, so `catch_response`, `success()`,
`failure()`, `raise_for_status()` and the failure messages in the request
event are Locust's, not an imitation of them. What it does not do is refused
by name (UnsupportedByFastClientError), never done differently.
"""

from loadgate.engine.fastclient.install import use_client
from loadgate.engine.fastclient.refusal import UnsupportedByFastClientError
from loadgate.engine.fastclient.session import FastSession

__all__ = [
    "FastSession",
    "UnsupportedByFastClientError",
    "use_client",
]
