"""Edges to the outside world: CI runner, command monitor, report ingestion, exporters and the
pytest plugin.

Each integration is its own module (``configlab.integrations.ci``, ``.monitor``, ``.ingest``,
``.exporters``) or package (``.pytest``); nothing is imported here so that loading one does not load
the others.
"""
