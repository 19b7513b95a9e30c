"""Reading a target's Prometheus metrics: fetch the text, parse it, turn it into values per second.

Pure code, no gevent: `loadgate.engine.scraper` runs it on native threads.
Parsing is prometheus-client's own (`text_string_to_metric_families`).
"""

from loadgate.scrape.derive import Deriver
from loadgate.scrape.exposition import Reading, read_exposition
from loadgate.scrape.fetch import ScrapeError, fetch_text
from loadgate.scrape.poll import DEFAULT_TIMEOUT_S, scrape_once

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "Deriver",
    "Reading",
    "ScrapeError",
    "fetch_text",
    "read_exposition",
    "scrape_once",
]
