"""Slack through slack-bolt: Socket Mode or signed HTTP requests in, Block Kit messages out."""

from adapters.slack.adapter import SlackAdapter

__all__ = ["SlackAdapter"]
