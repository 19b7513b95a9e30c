"""The engine: Locust as a library, our collector and the run's life cycle.

This is the only package that imports Locust (and so gevent's monkey-patching).
Its pure modules (`config`, `tags`, `collector`, `writer`, `live`, `stall`)
import neither and can be used anywhere (`writer_thread`, `ending` and
`interrupt` use gevent's threads, without Locust); `loadgate.engine.session` runs load
and imports Locust: import it first in a process that runs a load test, never
in one that does anything else.
"""
