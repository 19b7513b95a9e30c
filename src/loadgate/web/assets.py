"""The static files the dashboard's pages load: plotly.js from its Python package, our JS and CSS.

Served from /static/NAME, never inlined: the pages' CSP allows scripts from
this origin only, and plotly.min.js (about 4.5 MB) is then fetched once per
browser instead of with every page.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

CACHE_CONTROL = "public, max-age=3600"


@dataclass(frozen=True)
class Asset:
    package: str
    path: str
    media_type: str

    def file(self) -> Traversable:
        return resources.files(self.package).joinpath(self.path)


ASSETS: dict[str, Asset] = {
    "plotly.min.js": Asset("plotly", "package_data/plotly.min.js", "text/javascript"),
    "report.js": Asset("loadgate.report", "templates/report.js", "text/javascript"),
    "compare.js": Asset("loadgate.report", "templates/compare.js", "text/javascript"),
    "report.css": Asset("loadgate.report", "templates/report.css", "text/css"),
    "dashboard.css": Asset("loadgate.web", "static/dashboard.css", "text/css"),
    "live.js": Asset("loadgate.web", "static/live.js", "text/javascript"),
}


def static_file(request: Request) -> Response:
    """GET /static/NAME: one of ASSETS, cached by the browser for an hour."""
    asset = ASSETS.get(request.path_params["name"])
    if asset is None:
        return PlainTextResponse("no such static file\n", status_code=404)
    return Response(
        asset.file().read_bytes(),
        media_type=asset.media_type,
        headers={"cache-control": CACHE_CONTROL},
    )
