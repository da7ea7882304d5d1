"""Telegram through python-telegram-bot: long polling or webhook, updates in, replies out."""

from adapters.telegram.adapter import TelegramAdapter

__all__ = ["TelegramAdapter"]
