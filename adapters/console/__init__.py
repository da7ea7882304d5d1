"""The terminal as a chat: lines in, replies out; buttons are numbered choices the user types."""

from adapters.console.adapter import ConsoleAdapter, plain_text

__all__ = ["ConsoleAdapter", "plain_text"]
