"""Voice errors: bad audio (answered politely in chat) and a model that cannot be set up (stops the start)."""


class AudioError(Exception):
    """Audio the bot cannot transcribe; `code` is one of empty, truncated, not_audio, too_long, silence, timeout, busy."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code


class VoiceSetupError(RuntimeError):
    """The speech model is missing or incomplete; the message says how to fix it."""
