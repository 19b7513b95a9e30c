"""The web dashboard (ASGI): stored runs, run pages, comparisons; it never imports Locust."""

from loadgate.web.app import create_app
from loadgate.web.settings import DashboardSettings, checked_settings

__all__ = ["DashboardSettings", "checked_settings", "create_app"]
