"""Prometheus metrics (docs/metrics.md lists them).

``state``: what the database says now, read at each scrape (sources' health, claims'
statuses and probabilities), so every daemon, leader or standby, and `tracker metrics`
give the same figures. ``activity``: what one daemon does, counted as it happens (its
polls, the points they stored, whether it leads). The service layer knows nothing of
Prometheus: the poll cycle tells an observer of each source's line (tracker/service/poll.py).
"""
