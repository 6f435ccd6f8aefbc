"""Prometheus metrics of one process; each daemon owns its own registry."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.polls = Counter("monitor_polls", "Feed polls, by result.", ["result"], registry=r)
        self.articles = Counter("monitor_articles", "New articles stored.", registry=r)
        self.dropped = Counter(
            "monitor_items_dropped",
            "New items of a feed that is not a search, dropped for naming no entity or "
            "keyword of its watch.",
            registry=r,
        )
        self.figures = Counter("monitor_figures", "Money figures attributed to claims.", registry=r)
        self.alerts = Counter(
            "monitor_alerts", "Alerts delivered, by outcome.", ["outcome"], registry=r
        )
        self.poll_seconds = Histogram("monitor_poll_seconds", "Time to poll one feed.", registry=r)
        self.delivery_latency = Histogram(
            "monitor_delivery_latency_seconds",
            "From an alert's creation to Slack accepting it.",
            buckets=(0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600),
            registry=r,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
