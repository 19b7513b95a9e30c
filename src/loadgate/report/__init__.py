"""Renderers of stored runs: terminal, JSON (and HTML, JUnit, CSV)."""
