"""The HTTP client HttpUser scripts get (`--client`, a plan's `client`): its names and default.

"fast" is loadgate.engine.fastclient (geventhttpclient behind the requests API);
"requests" is Locust's own (python-requests), the way back for a script that
needs what the fast client refuses.
"""

FAST_CLIENT = "fast"
REQUESTS_CLIENT = "requests"
CLIENT_CHOICES = (FAST_CLIENT, REQUESTS_CLIENT)
DEFAULT_CLIENT = FAST_CLIENT
