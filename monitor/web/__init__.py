"""The daemon's read-only pages: each claim's story as a chart and a table, the outbox, feeds.

`read` queries, `chart` and `pages` render plain data (`story`), `routes` maps a path to a
page; `monitor.health` serves them beside /healthz and /metrics.
"""
