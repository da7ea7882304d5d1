"""Settings from environment variables and an optional TOML file (never created at import time)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

LANGUAGES = ("zh-Hant", "zh-Hans", "en")
_PLACEHOLDERS = re.compile(r"^(|changeme|change-me|xxx+|your[-_ ].*|<.*>|todo|placeholder|\.\.\.|test)$", re.I)
_TELEGRAM_TOKEN = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")


class SettingsError(ValueError):
    """A setting is missing, a placeholder or malformed; the message says which and how to fix it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False,
                                      toml_file="config/chatcrm.toml")

    database_url: str = Field(default="sqlite:///data/chatcrm.db")
    default_timezone: str = "Asia/Taipei"
    default_language: str = "zh-Hant"
    default_country: str = "TW"
    log_level: str = "INFO"
    open_signup: bool = False  # /start without a code founds a new team (Telegram); off: only the first team

    telegram_bot_token: str | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_file_base_url: str = "https://api.telegram.org/file/bot"
    telegram_webhook_url: str | None = None
    telegram_webhook_listen: str = "0.0.0.0"
    telegram_webhook_port: int = 8443
    telegram_webhook_secret: str | None = None
    telegram_poll_timeout: float = 30.0
    telegram_max_messages_per_second: float = 30.0  # Telegram's global bot limit; 0 = unlimited (local Bot API)

    slack_bot_token: str | None = None
    slack_app_token: str | None = None
    slack_signing_secret: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_http_host: str = "0.0.0.0"
    slack_http_port: int = 3000

    whisper_engine: str = "faster"  # faster | openai
    whisper_model_dir: Path | None = None  # a CTranslate2 model directory; default: assembled from PyPI parts
    whisper_cache_dir: Path = Path("data/models")
    whisper_preload: bool | None = None  # None: in the background at start when a chat platform is set
    whisper_workers: int = 2
    whisper_cpu_threads: int = 1
    voice_max_seconds: float = 300.0
    voice_keep_audio_bytes: int = 5_000_000
    voice_queue: str = "local"  # local (in-process pool) | postgres (procrastinate jobs; `chatcrm run --role voice`)

    dispatch_interval_seconds: float = 5.0
    max_message_chars: int = 4096
    max_import_bytes: int = 50 * 1024 * 1024
    import_spool_dir: Path = Path("data/imports")  # exports parked while the bot asks a question about them
    forward_batch_seconds: float = 2.5  # forwarded messages this close together form one conversation
    processed_update_days: float = Field(default=30.0, gt=0)  # the janitor removes update keys and done inbox rows
    audio_keep_days: float = Field(default=180.0, ge=0)  # stored voice recordings (0: kept forever)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls)

    @field_validator("default_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Asia/Taipei") from exc
        return value

    @field_validator("default_language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)}")
        return value

    @model_validator(mode="after")
    def _secrets(self) -> Settings:
        for name in ("telegram_bot_token", "slack_bot_token", "slack_app_token", "slack_signing_secret",
                     "telegram_webhook_secret"):
            value = getattr(self, name)
            if value is not None and _PLACEHOLDERS.match(value.strip()):
                raise ValueError(f"{name.upper()} is a placeholder ({value!r}); set the real value or unset it")
        token = self.telegram_bot_token
        if token and not _TELEGRAM_TOKEN.match(token):
            raise ValueError("TELEGRAM_BOT_TOKEN looks malformed; BotFather gives one like 123456:ABC-DEF…")
        if self.slack_bot_token and not self.slack_bot_token.startswith("xoxb-"):
            raise ValueError("SLACK_BOT_TOKEN must start with xoxb-")
        if self.slack_app_token and not self.slack_app_token.startswith("xapp-"):
            raise ValueError("SLACK_APP_TOKEN must start with xapp- (an app-level token with connections:write)")
        if self.slack_bot_token and not (self.slack_app_token or self.slack_signing_secret):
            raise ValueError("Slack needs SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode)")
        if self.telegram_webhook_url and not self.telegram_webhook_secret:
            raise ValueError("TELEGRAM_WEBHOOK_URL needs TELEGRAM_WEBHOOK_SECRET (checked on every request)")
        return self

    @property
    def platforms(self) -> list[str]:
        found = []
        if self.telegram_bot_token:
            found.append("telegram")
        if self.slack_bot_token:
            found.append("slack")
        return found or ["console"]


def load_settings(toml_path: str | Path | None = None, **overrides: Any) -> Settings:
    """Build settings now; raise SettingsError with a readable message when a value is refused."""
    from pydantic import ValidationError

    cls = Settings
    if toml_path is not None:
        config = SettingsConfigDict(**{**Settings.model_config, "toml_file": str(toml_path)})
        cls = cast("type[Settings]", type("Settings", (Settings,), {"model_config": config}))  # a subclass
    try:
        return cls(**overrides)
    except ValidationError as exc:
        lines = [f"- {'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}" for err in exc.errors()]
        raise SettingsError("chatcrm cannot start, a setting is wrong:\n" + "\n".join(lines)) from None
