"""Writing and reading what was scraped from a run's targets, in a caller's transaction.

Tables scrape_series, scrape_samples and scrapes (schema.py says what each holds).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from loadgate.scraped import (
    ChartBuckets,
    Labels,
    ScrapedRun,
    ScrapeSecond,
    ScrapeTarget,
    SeriesKey,
    SeriesKind,
    SeriesStats,
)
from loadgate.store.schema import scrape_samples, scrape_series, scrapes

SeriesIds = Mapping[SeriesKey, int]


def append_scrapes(
    conn: Connection, run_id: int, seconds: Sequence[ScrapeSecond], known: SeriesIds
) -> dict[SeriesKey, int]:
    """Store scrapes and their values; returns the ids of the series stored for the first time.

    `known` are ids returned by earlier calls for the same run: those series
    are not looked up again.
    """
    created: dict[SeriesKey, int] = {}
    samples: list[dict[str, Any]] = []
    for scrape in seconds:
        for key, value in scrape.values.items():
            series_id = known.get(key) or created.get(key)
            if series_id is None:
                series_id = created[key] = _create_series(conn, run_id, key)
            samples.append(
                {"run_id": run_id, "series_id": series_id, "second": scrape.second, "value": value}
            )
    rows = [_scrape_row(run_id, scrape) for scrape in seconds]
    if rows:
        conn.execute(sa.insert(scrapes), rows)
    if samples:
        conn.execute(sa.insert(scrape_samples), samples)
    return created


def append_missing_scrapes(conn: Connection, run_id: int, seconds: Sequence[ScrapeSecond]) -> int:
    """Store the scrapes whose (url, second) the run does not have yet; returns how many.

    For a spill file's scrapes: some may have been stored as well as spilled
    (a commit that landed after its wait timed out), and the run's series may
    exist already, under ids the spilling process may not have known.
    """
    query = sa.select(scrapes.c.url, scrapes.c.second).where(scrapes.c.run_id == run_id)
    stored = {(str(row.url), int(row.second)) for row in conn.execute(query)}
    missing = [scrape for scrape in seconds if (scrape.url, scrape.second) not in stored]
    if missing:
        append_scrapes(conn, run_id, missing, _series_ids(conn, run_id))
    return len(missing)


def _series_ids(conn: Connection, run_id: int) -> dict[SeriesKey, int]:
    rows = conn.execute(sa.select(scrape_series).where(scrape_series.c.run_id == run_id)).all()
    return {
        SeriesKey(row.url, row.name, _labels(row.labels), SeriesKind(row.kind)): int(row.id)
        for row in rows
    }


def _create_series(conn: Connection, run_id: int, key: SeriesKey) -> int:
    values = {
        "run_id": run_id,
        "url": key.url,
        "name": key.name,
        "labels": json.dumps(dict(key.labels), sort_keys=True),
        "kind": key.kind.value,
    }
    result = conn.execute(sa.insert(scrape_series).values(values).returning(scrape_series.c.id))
    return int(result.scalar_one())


def _scrape_row(run_id: int, scrape: ScrapeSecond) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "url": scrape.url,
        "second": scrape.second,
        "error": scrape.error,
        "series": len(scrape.values),
        "series_dropped": scrape.series_dropped,
        "dropped_example": scrape.dropped_example,
    }


def _labels(text: str) -> Labels:
    loaded: dict[str, Any] = json.loads(text)
    return tuple(sorted((str(k), str(v)) for k, v in loaded.items()))


def read_scraped(
    conn: Connection,
    run_id: int,
    wanted: Callable[[SeriesKey], bool],
    charted: Callable[[SeriesKey], bool] | None = None,
    buckets: ChartBuckets | None = None,
) -> ScrapedRun:
    """What was scraped during the run, the values per second of the series `wanted` accepts,
    and those of the series `charted` accepts averaged per bucket of `buckets`."""
    targets = _targets(conn, run_id)
    if not targets:
        return ScrapedRun()
    stats = _series_stats(conn, run_id)
    ids = {s.key: series_id for series_id, s in stats.items()}
    chosen = {series_id: key for key, series_id in ids.items() if wanted(key)}
    charts: dict[SeriesKey, dict[int, float]] = {}
    if charted is not None and buckets is not None:
        drawn = {series_id: key for key, series_id in ids.items() if charted(key)}
        charts = _bucket_means(conn, run_id, drawn, buckets)
    return ScrapedRun(
        targets=targets,
        series=tuple(sorted(stats.values(), key=lambda s: s.key)),
        samples=_samples(conn, run_id, chosen),
        chart_samples=charts,
    )


def _bucket_means(
    conn: Connection, run_id: int, chosen: Mapping[int, SeriesKey], buckets: ChartBuckets
) -> dict[SeriesKey, dict[int, float]]:
    """Each chosen series' mean per bucket, keyed by the bucket's first second (SQL does it)."""
    means: dict[SeriesKey, dict[int, float]] = {key: {} for key in chosen.values()}
    if not chosen:
        return means
    v = scrape_samples.c
    index = ((v.second - buckets.first_second) // buckets.bucket_s).label("bucket")
    rows = conn.execute(
        sa.select(v.series_id, index, sa.func.avg(v.value).label("mean"))
        .where(
            v.run_id == run_id,
            v.series_id.in_(list(chosen)),
            v.second >= buckets.first_second,
            v.second < buckets.stop_second,
        )
        .group_by(v.series_id, index)
    )
    for row in rows:
        start = buckets.first_second + int(row.bucket) * buckets.bucket_s
        means[chosen[int(row.series_id)]][start] = float(row.mean)
    return means


def _targets(conn: Connection, run_id: int) -> tuple[ScrapeTarget, ...]:
    c = scrapes.c
    totals = conn.execute(
        sa.select(
            c.url,
            sa.func.count().label("scrapes"),
            sa.func.max(c.series).label("series"),
            sa.func.max(c.series_dropped).label("dropped"),
            sa.func.min(c.id).label("first_id"),
        )
        .where(c.run_id == run_id)
        .group_by(c.url)
        .order_by(sa.func.min(c.id))
    ).all()
    gaps: dict[str, list[int]] = {}
    first_error: dict[str, str] = {}
    gap_rows = conn.execute(
        sa.select(c.url, c.second, c.error)
        .where(c.run_id == run_id, c.error != "")
        .order_by(c.second, c.id)
    )
    for row in gap_rows:
        gaps.setdefault(row.url, []).append(int(row.second))
        first_error.setdefault(row.url, row.error)
    examples = {
        row.url: row.example
        for row in conn.execute(
            sa.select(c.url, sa.func.min(c.dropped_example).label("example"))
            .where(c.run_id == run_id, c.dropped_example != "")
            .group_by(c.url)
        )
    }
    return tuple(
        ScrapeTarget(
            url=row.url,
            scrapes=int(row.scrapes),
            gap_seconds=tuple(gaps.get(row.url, ())),
            first_error=first_error.get(row.url, ""),
            series=int(row.series or 0),
            series_dropped=int(row.dropped or 0),
            dropped_example=str(examples.get(row.url, "")),
        )
        for row in totals
    )


def _series_stats(conn: Connection, run_id: int) -> dict[int, SeriesStats]:
    s, v = scrape_series.c, scrape_samples.c
    values = (
        sa.select(
            v.series_id,
            sa.func.count().label("samples"),
            sa.func.min(v.value).label("low"),
            sa.func.max(v.value).label("high"),
            sa.func.avg(v.value).label("mean"),
        )
        .where(v.run_id == run_id)
        .group_by(v.series_id)
        .subquery()
    )
    rows = conn.execute(
        sa.select(s.id, s.url, s.name, s.labels, s.kind, values)
        .join(values, values.c.series_id == s.id)
        .where(s.run_id == run_id)
    )
    return {
        int(row.id): SeriesStats(
            key=SeriesKey(
                url=row.url, name=row.name, labels=_labels(row.labels), kind=SeriesKind(row.kind)
            ),
            samples=int(row.samples),
            min_value=float(row.low),
            max_value=float(row.high),
            mean_value=float(row.mean),
        )
        for row in rows
    }


def _samples(
    conn: Connection, run_id: int, chosen: Mapping[int, SeriesKey]
) -> dict[SeriesKey, dict[int, float]]:
    samples: dict[SeriesKey, dict[int, float]] = {key: {} for key in chosen.values()}
    if not chosen:
        return samples
    v = scrape_samples.c
    rows = conn.execute(
        sa.select(v.series_id, v.second, v.value)
        .where(v.run_id == run_id, v.series_id.in_(list(chosen)))
        .order_by(v.series_id, v.second, v.id)
    )
    for row in rows:
        samples[chosen[int(row.series_id)]][int(row.second)] = float(row.value)
    return samples
