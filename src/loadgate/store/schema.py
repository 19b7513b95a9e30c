"""The current tables, as the queries see them (migrations.py creates them).

Layout and why:

- `runs`: one row per run. `settings` is JSON text. `requests` and `failures`
  are running totals, kept by `append` in the same transaction as the rows they
  count, so `list_runs` reads one row per run instead of summing every second.
- `endpoint_seconds`: append-only, one row per (second, method, name) per
  append. No unique key on purpose: the same second may arrive twice (late
  requests, several workers), and merging HDR histograms on write would mean a
  read-decode-add-encode under a lock on every flush; readers merge instead,
  which costs only where duplicates exist. Status counts and error messages
  are JSON text columns, not child tables: they are always read with their row
  and never filtered in SQL, so one row per endpoint-second keeps a flush to one
  executemany, and JSON text (not PostgreSQL's JSONB) reads back exactly the
  mapping that was written on both backends. `histogram` holds
  LatencyHistogram.encode() bytes (HDR's compressed encoding).
- `users_samples`: append-only; the last written sample of a second wins.
- `endpoint_totals`: one row per endpoint of a finished run, the fold of all
  its seconds (counts, merged histogram, statuses, errors), written by
  `store_totals` once the run has ended (`loadgate run` does it), so that
  summaries of long runs read one row per endpoint. A run without them
  (older, running, lost, or more seconds appended after the totals) is read
  by folding its seconds: `runs.requests` must equal the sum of the totals'
  requests for them to be used. An ended run without them (a second Ctrl-C,
  a failing store, an import) gets them from its first whole-run reader
  (`keep_totals`); the primary key keeps two readers from both writing them.
  `errors` is a JSON list of [message, count, first second, last second] in
  first-seen order, so a summary from the totals lists errors as the fold of
  the seconds does.
- `runs.heartbeat_at`: when the run's writer last appended; a RUNNING run
  without a recent one is shown as lost (store/liveness.py).
- `generator_seconds`: append-only, the load generator's own health per second
  (`stall_ms`: the longest gevent hub stall, loadgate.engine.stall); a table of
  its own so that readers of measurements never see it unless they ask.
- `arrival_seconds`: append-only, the open model's scheduler per second
  (`--arrival-rate`): iterations started, iterations dropped, and the HDR
  histogram (µs) of their start lag. Several rows of one second (one per
  worker, or a late piece) are added by readers, as endpoint_seconds are.
- `applied_batches`: the id of every batch appended with one (the writer's
  batches, a spill file's batches and the spill file itself), written in the
  same transaction as the batch's rows. A batch both stored and spilled (its
  commit landed as the process exited) is skipped on import instead of
  counted twice; the index on `batch_id` finds a spill file already imported
  into any run.
- `run_workers`: one row per worker of a distributed run, written once at its
  end: what the worker sent (requests, seconds) and its CPU use, so the
  summary can tell a saturated worker. `position` keeps the workers' order.
- `run_events`: append-only, what happened to a run besides its measurements
  (a worker lost or stopped mid-run), at a wall-clock second; `detail` is JSON text.
- `endpoint_seconds.region`: the region of the workers that measured the row
  ('' for a single process); a master merges pieces per region.
- `scrape_series`, `scrape_samples`, `scrapes`: a target's own metrics,
  scraped once a second during the run (loadgate.scraped). A series row per
  (url, sample name, labels as sorted JSON, kind), written the first time it
  is seen; a sample row per series per second (the per-second value: a rate,
  a gauge or a quantile); a scrapes row per URL per second saying whether
  the scrape worked (`error` '' when it did: a gap otherwise), how many
  series it had and how many it dropped over the cap.
- `runs.p50_ms`, `p95_ms`, `p99_ms`, `threshold_outcome`: the whole run's
  percentiles and its thresholds' outcome (model.ThresholdOutcome), written
  once it has ended (`store_listing`), so the dashboard's list of thousands
  of runs and a test's trend decode no histogram; NULL until then (a reader
  fills them for older runs).
- `saved_tests`: the dashboard's saved test definitions (model.SavedTest);
  `script_text` is '' for a script on the server's disk, else the uploaded
  script; `thresholds` is a JSON list of expressions. A test's runs are the
  runs of its name. `cron` ('' for none) is its schedule;
  `schedule_handled_at` the last due time the dashboard handled (ran or
  reported as missed), `schedule_note` what it last said about missed ones.
- `endpoint_second_parts`: append-only, like `endpoint_seconds`: the latency
  of parts of an endpoint-second's requests (`part`: cache_hit, cache_miss,
  upstream, gateway; model.Part), when responses said (engine.gateway_headers).
  A table of its own, one row per part, because most runs have none: readers
  of the seconds never pay for them, and RunStore.iter_part_seconds reads them.
- `run_views`: one row per settled run read whole: what its reader folded
  from the seconds (the report's timeline, the findings' series, the parts)
  as zlib-compressed JSON (store/kept_view.py), so later page views load it
  instead of decoding every second's histogram. `data_key` says what the
  run's data was (its row, and the count and highest id of its seconds,
  parts and users samples); a row whose key no longer matches is ignored and
  replaced.
- `schema_migrations`: the names of the migrations applied (sqlite-utils style).

Times are UTC. Child rows go with their run (ON DELETE CASCADE).
"""

from __future__ import annotations

import sqlalchemy as sa

# SQLite only auto-numbers an INTEGER PRIMARY KEY; PostgreSQL gets 64-bit keys.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

metadata = sa.MetaData()

schema_migrations = sa.Table(
    "schema_migrations",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("run_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("script_path", sa.Text, nullable=False),
    sa.Column("script_text", sa.Text, nullable=False),
    sa.Column("host", sa.Text, nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("status_reason", sa.Text, nullable=False),
    sa.Column("settings", sa.Text, nullable=False),
    sa.Column("is_baseline", sa.Boolean, nullable=False),
    sa.Column("requests", sa.BigInteger, nullable=False),
    sa.Column("failures", sa.BigInteger, nullable=False),
    sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("p50_ms", sa.Float, nullable=True),
    sa.Column("p95_ms", sa.Float, nullable=True),
    sa.Column("p99_ms", sa.Float, nullable=True),
    sa.Column("threshold_outcome", sa.String(8), nullable=True),
    sa.Index("ix_runs_name_run_id", "name", "run_id"),
    sa.Index("ix_runs_status_run_id", "status", "run_id"),
    sqlite_autoincrement=True,
)

endpoint_seconds = sa.Table(
    "endpoint_seconds",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column(
        "run_id", sa.Integer, sa.ForeignKey("runs.run_id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("second", sa.BigInteger, nullable=False),
    sa.Column("method", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("requests", sa.BigInteger, nullable=False),
    sa.Column("failures", sa.BigInteger, nullable=False),
    sa.Column("bytes_received", sa.BigInteger, nullable=False),
    sa.Column("out_of_range", sa.BigInteger, nullable=False),
    sa.Column("histogram", sa.LargeBinary, nullable=False),
    sa.Column("ok_status_counts", sa.Text, nullable=False),
    sa.Column("failed_status_counts", sa.Text, nullable=False),
    sa.Column("errors", sa.Text, nullable=False),
    sa.Column("region", sa.Text, nullable=False, server_default=""),
    sa.Index("ix_endpoint_seconds_run_id_second", "run_id", "second"),
)

users_samples = sa.Table(
    "users_samples",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column(
        "run_id", sa.Integer, sa.ForeignKey("runs.run_id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("second", sa.BigInteger, nullable=False),
    sa.Column("users", sa.Integer, nullable=False),
    sa.Index("ix_users_samples_run_id_second", "run_id", "second"),
)

endpoint_totals = sa.Table(
    "endpoint_totals",
    metadata,
    sa.Column(
        "run_id",
        sa.Integer,
        sa.ForeignKey("runs.run_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("method", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("requests", sa.BigInteger, nullable=False),
    sa.Column("failures", sa.BigInteger, nullable=False),
    sa.Column("bytes_received", sa.BigInteger, nullable=False),
    sa.Column("out_of_range", sa.BigInteger, nullable=False),
    sa.Column("first_second", sa.BigInteger, nullable=False),
    sa.Column("last_second", sa.BigInteger, nullable=False),
    sa.Column("histogram", sa.LargeBinary, nullable=False),
    sa.Column("ok_status_counts", sa.Text, nullable=False),
    sa.Column("failed_status_counts", sa.Text, nullable=False),
    sa.Column("errors", sa.Text, nullable=False),
)

generator_seconds = sa.Table(
    "generator_seconds",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column(
        "run_id", sa.Integer, sa.ForeignKey("runs.run_id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("second", sa.BigInteger, nullable=False),
    sa.Column("stall_ms", sa.Float, nullable=False),
    sa.Index("ix_generator_seconds_run_id_second", "run_id", "second"),
)

arrival_seconds = sa.Table(
    "arrival_seconds",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column(
        "run_id", sa.Integer, sa.ForeignKey("runs.run_id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("second", sa.BigInteger, nullable=False),
    sa.Column("iterations", sa.BigInteger, nullable=False),
    sa.Column("dropped_iterations", sa.BigInteger, nullable=False),
    sa.Column("start_lag", sa.LargeBinary, nullable=False),
    sa.Column("out_of_range", sa.BigInteger, nullable=False),
    sa.Index("ix_arrival_seconds_run_id_second", "run_id", "second"),
)

applied_batches = sa.Table(
    "applied_batches",
    metadata,
    sa.Column(
        "run_id",
        sa.Integer,
        sa.ForeignKey("runs.run_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("batch_id", sa.String(64), primary_key=True),
    sa.Index("ix_applied_batches_batch_id", "batch_id"),
)

run_workers = sa.Table(
    "run_workers",
    metadata,
    sa.Column(
        "run_id", sa.Integer, sa.ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("worker_id", sa.String(200), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("region", sa.Text, nullable=False),
    sa.Column("requests", sa.BigInteger, nullable=False),
    sa.Column("failures", sa.BigInteger, nullable=False),
    sa.Column("first_second", sa.BigInteger, nullable=True),
    sa.Column("last_second", sa.BigInteger, nullable=True),
    sa.Column("cpu_percent_mean", sa.Float, nullable=False),
    sa.Column("cpu_percent_max", sa.Float, nullable=False),
    sa.Column("users_max", sa.Integer, nullable=False),
    sa.Column("clock_offset_ms", sa.Float, nullable=True),
)

run_events = sa.Table(
    "run_events",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column(
        "run_id", sa.Integer, sa.ForeignKey("runs.run_id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("second", sa.BigInteger, nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Index("ix_run_events_run_id_second", "run_id", "second"),
)

scrape_series = sa.Table(
    "scrape_series",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column(
        "run_id", sa.Integer, sa.ForeignKey("runs.run_id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("labels", sa.Text, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Index("ix_scrape_series_run_id", "run_id"),
)

scrape_samples = sa.Table(
    "scrape_samples",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column(
        "run_id", sa.Integer, sa.ForeignKey("runs.run_id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("series_id", sa.BigInteger, nullable=False),  # a scrape_series.id
    sa.Column("second", sa.BigInteger, nullable=False),
    sa.Column("value", sa.Float, nullable=False),
    sa.Index("ix_scrape_samples_run_id_series_id_second", "run_id", "series_id", "second"),
)

scrapes = sa.Table(
    "scrapes",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column(
        "run_id", sa.Integer, sa.ForeignKey("runs.run_id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("second", sa.BigInteger, nullable=False),
    sa.Column("error", sa.Text, nullable=False),
    sa.Column("series", sa.Integer, nullable=False),
    sa.Column("series_dropped", sa.Integer, nullable=False),
    sa.Column("dropped_example", sa.Text, nullable=False),
    sa.Index("ix_scrapes_run_id_second", "run_id", "second"),
)

saved_tests = sa.Table(
    "saved_tests",
    metadata,
    sa.Column("test_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("script_path", sa.Text, nullable=False),
    sa.Column("script_text", sa.Text, nullable=False),
    sa.Column("host", sa.Text, nullable=False),
    sa.Column("users", sa.Integer, nullable=False),
    sa.Column("spawn_rate", sa.Float, nullable=False),
    sa.Column("stages", sa.Text, nullable=False),
    sa.Column("run_time", sa.Text, nullable=False),
    sa.Column("thresholds", sa.Text, nullable=False),
    sa.Column("baseline", sa.Text, nullable=False),
    sa.Column("cron", sa.Text, nullable=False),
    sa.Column("schedule_handled_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("schedule_note", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_saved_tests_name", "name", unique=True),
)

endpoint_second_parts = sa.Table(
    "endpoint_second_parts",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column(
        "run_id", sa.Integer, sa.ForeignKey("runs.run_id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("second", sa.BigInteger, nullable=False),
    sa.Column("method", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("region", sa.Text, nullable=False),
    sa.Column("part", sa.String(20), nullable=False),
    sa.Column("requests", sa.BigInteger, nullable=False),
    sa.Column("histogram", sa.LargeBinary, nullable=False),
    sa.Index("ix_endpoint_second_parts_run_id_second", "run_id", "second"),
)

run_views = sa.Table(
    "run_views",
    metadata,
    sa.Column(
        "run_id", sa.Integer, sa.ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("data_key", sa.Text, nullable=False),
    sa.Column("document", sa.LargeBinary, nullable=False),
)
