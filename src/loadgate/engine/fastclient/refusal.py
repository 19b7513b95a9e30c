"""What the fast client refuses, said once, with the way back."""

from __future__ import annotations

WAY_BACK = "run with --client requests to use python-requests"


class UnsupportedByFastClientError(Exception):
    """A script used a part of the requests API that `--client fast` does not offer."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} is not supported by --client fast: {WAY_BACK}")
        self.what = what


class AttributeRefusedError(UnsupportedByFastClientError, AttributeError):
    """An attribute the fast client's session or response does not have (requests' do).

    An AttributeError too, so that getattr(x, name, default) and hasattr keep
    working for code that probes; using the attribute gets the message.
    """
