"""Settings from the environment and an optional `.env` file.

The names are a contract (README, Dockerfile, systemd unit): MONITOR_* for the daemon,
SLACK_* for delivery.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from monitor.googlenews import GOOGLE_NEWS


def _env(name: str) -> AliasChoices:
    return AliasChoices(name, name.lower())


class Settings(BaseSettings):
    """Everything the daemon reads from its environment."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str = Field("sqlite:///monitor.db", validation_alias=_env("MONITOR_DATABASE_URL"))
    rules: Path = Field(Path("rules"), validation_alias=_env("MONITOR_RULES"))
    slack_bot_token: str | None = Field(None, validation_alias=_env("SLACK_BOT_TOKEN"))
    slack_channel: str | None = Field(None, validation_alias=_env("SLACK_CHANNEL"))
    slack_webhook_url: str | None = Field(None, validation_alias=_env("SLACK_WEBHOOK_URL"))
    slack_api_url: str | None = Field(None, validation_alias=_env("SLACK_API_URL"))
    # Slack interactivity (the decision buttons): over the request URL, or Socket Mode.
    slack_signing_secret: str | None = Field(None, validation_alias=_env("SLACK_SIGNING_SECRET"))
    slack_app_token: str | None = Field(None, validation_alias=_env("SLACK_APP_TOKEN"))
    http_addr: str = Field("127.0.0.1:9108", validation_alias=_env("MONITOR_HTTP_ADDR"))
    connect_timeout: float = Field(10.0, validation_alias=_env("MONITOR_CONNECT_TIMEOUT"))
    fetch_timeout: float = Field(30.0, validation_alias=_env("MONITOR_FETCH_TIMEOUT"))
    max_body_bytes: int = Field(10_000_000, validation_alias=_env("MONITOR_MAX_BODY_BYTES"))
    per_host: int = Field(2, validation_alias=_env("MONITOR_PER_HOST"))
    # Private addresses feeds may be fetched from (monitor/addresses.py): "" allows none.
    fetch_allow: str = Field("", validation_alias=_env("MONITOR_FETCH_ALLOW"))
    full_text_budget: float = Field(60.0, validation_alias=_env("MONITOR_FULL_TEXT_BUDGET"))
    # Where `google_news:` searches (feeds and `monitor backfill`) go: a proxy, or a stand-in.
    google_news_url: str = Field(GOOGLE_NEWS, validation_alias=_env("MONITOR_GOOGLE_NEWS_URL"))
    degraded_after: int = Field(5, validation_alias=_env("MONITOR_DEGRADED_AFTER"))
    delivery_every: float = Field(2.0, validation_alias=_env("MONITOR_DELIVERY_EVERY"))
    max_alerts_per_poll: int = Field(10, ge=1, validation_alias=_env("MONITOR_MAX_ALERTS_PER_POLL"))
    replica_id: str | None = Field(None, validation_alias=_env("MONITOR_REPLICA_ID"))
    event_broker: str | None = Field(None, validation_alias=_env("MONITOR_EVENT_BROKER"))
    log_level: str = Field("INFO", validation_alias=_env("MONITOR_LOG_LEVEL"))
    log_format: str = Field("text", validation_alias=_env("MONITOR_LOG_FORMAT"))

    @property
    def interactive(self) -> bool:
        """Whether Slack can reach the daemon with button presses: the bot, plus a
        signing secret (request URL) or an app token (Socket Mode)."""
        return bool(self.slack_bot_token and (self.slack_signing_secret or self.slack_app_token))

    @property
    def shared(self) -> bool:
        """Whether replicas share work through the database (PostgreSQL only)."""
        return self.database_url.startswith("postgresql")
