"""The HTTP client HttpUser scripts get (`--client`, a plan's `client`): its names and default.

"requests" is Locust's own (python-requests); "fast" is loadgate.engine.fastclient.
"""

CLIENT_CHOICES = ("requests", "fast")
DEFAULT_CLIENT = "requests"
