"""funding-monitor: watch the news for the money figures a story rests on."""

__version__ = "0.1.0"
PROJECT_URL = "https://github.com/funding-monitor/funding-monitor"
USER_AGENT = f"funding-monitor/{__version__} (+{PROJECT_URL})"
