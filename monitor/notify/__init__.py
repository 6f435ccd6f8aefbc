"""Notification targets side by side behind one small interface: Slack bot, webhook, console."""

from monitor.notify.base import Message, Notifier, make_notifier

__all__ = ["Message", "Notifier", "make_notifier"]
