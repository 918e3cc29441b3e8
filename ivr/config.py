"""Settings from `IVR_*` environment variables.

Names are a contract with users and tests: see DESIGN.md. A command asks for
what it needs with :meth:`Settings.require`, so a missing value stops it at
start-up with the name of the variable instead of failing mid-call.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ivr.callback_numbers import (
    CALLBACK_COUNTRIES,
    check_callback_number,
    configured_numbers,
    setting_name,
)
from ivr.vocab.locales import DEFAULT_LOCALE, LOCALES, Locale
from ivr.voice.profile import (
    DEFAULT_PITCH,
    DEFAULT_PROFILES,
    PITCH_RANGE,
    RATE_RANGE,
    VoiceProfile,
    check_variant_name,
    check_voice_name,
)

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///ivr.db"


class SettingsError(Exception):
    """A setting a command needs is missing or invalid; the message names it."""


class Settings(BaseSettings):
    """Everything the service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="IVR_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    public_url: str | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from_number: str | None = None
    twilio_api_url: str | None = None
    vosk_model: str | None = None
    locale: Locale = DEFAULT_LOCALE

    # The number a debtor is told to call back, one per country (E.164, a
    # number of that country), so nobody is given a foreign number. Unset: the
    # from-number when it is of that country (ivr.callback_numbers).
    callback_number_br: str | None = None
    callback_number_us: str | None = None

    # Recognize in another locale's grammars (a test locale such as ko-KR,
    # whose words map to the product's through grammars/<locale>/lexicon.json).
    asr_locale: str | None = None

    # Operational knobs with safe defaults (not part of the fixed contract).
    cache_dir: Path = Path(".ivr-cache")
    tts_rate: int = 160
    # The voice of each locale (ivr.voice.profile): an espeak-ng voice and
    # variant (checked against espeak-ng when the synthesizer starts), words per
    # minute (unset: IVR_TTS_RATE) and pitch (50 = the variant's own).
    tts_voice_pt_br: str = DEFAULT_PROFILES["pt-BR"].voice
    tts_variant_pt_br: str = DEFAULT_PROFILES["pt-BR"].variant
    tts_rate_pt_br: int | None = Field(default=None, ge=RATE_RANGE[0], le=RATE_RANGE[1])
    tts_pitch_pt_br: int = Field(default=DEFAULT_PITCH, ge=PITCH_RANGE[0], le=PITCH_RANGE[1])
    tts_voice_en_us: str = DEFAULT_PROFILES["en-US"].voice
    tts_variant_en_us: str = DEFAULT_PROFILES["en-US"].variant
    tts_rate_en_us: int | None = Field(default=None, ge=RATE_RANGE[0], le=RATE_RANGE[1])
    tts_pitch_en_us: int = Field(default=DEFAULT_PITCH, ge=PITCH_RANGE[0], le=PITCH_RANGE[1])
    recording_retention_days: int = Field(default=90, ge=1)
    scheduler_tick_seconds: float = Field(default=5.0, gt=0)
    scheduler_enabled: bool = True
    account_cps: float = Field(default=1.0, gt=0)
    agent_wrapup_seconds: int = Field(default=30, ge=0)
    queue_callback_offer_seconds: int = Field(default=60, ge=1)
    # A media socket that has not sent a valid ``start`` by then is closed.
    stream_start_timeout_seconds: float = Field(default=5.0, gt=0, le=60)

    # Signs agent session cookies; unset: a random per-process secret (sessions
    # do not survive a restart or span replicas), with a warning at start-up.
    secret_key: str | None = None

    # Operations: transcripts in debug logs (off: they are personal data), how
    # long SIGTERM waits for live calls, and the bearer token for /metrics
    # (unset: /metrics answers 404).
    log_transcripts: bool = False
    drain_timeout_seconds: float = Field(default=60.0, ge=0)
    metrics_token: str | None = None

    # Tests only: shift the service's "now" by this many seconds (ivr.clock), so
    # a test can run real processes at a chosen local hour and move the clock
    # forward for time-based jobs. Timers and rate limits keep real time.
    clock_offset_seconds: float = Field(default=0.0, ge=-10 * 365 * 86400, le=10 * 365 * 86400)

    # PostgreSQL connections per replica: the pool and its overflow, and a fifth
    # of each again for carrier status callbacks (ivr.store.db.make_callback_engine).
    # Replicas x 1.2 x (pool + overflow) must stay under the server's
    # max_connections (100 by default), so several replicas on one server want
    # smaller pools.
    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_max_overflow: int = Field(default=20, ge=0, le=200)

    @field_validator("locale", mode="before")
    @classmethod
    def _known_locale(cls, value: object) -> object:
        if value not in LOCALES:
            raise ValueError(f"must be {' or '.join(LOCALES)}")
        return value

    @field_validator("callback_number_br", "callback_number_us")
    @classmethod
    def _callback_number(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or not value.strip():
            return None
        assert info.field_name is not None
        return check_callback_number(value, info.field_name.rsplit("_", 1)[1].upper())

    @field_validator("tts_voice_pt_br", "tts_voice_en_us")
    @classmethod
    def _voice_name(cls, value: str) -> str:
        return check_voice_name(value)

    @field_validator("tts_variant_pt_br", "tts_variant_en_us")
    @classmethod
    def _variant_name(cls, value: str) -> str:
        return check_variant_name(value)

    @field_validator("public_url", "twilio_api_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http(s) URL such as https://ivr.example.com")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _db_url(cls, value: str) -> str:
        if not (value.startswith("sqlite") or value.startswith("postgresql")):
            raise ValueError("must be sqlite+aiosqlite:///FILE or postgresql+asyncpg://...")
        if value.startswith("postgresql://"):
            value = "postgresql+asyncpg://" + value.removeprefix("postgresql://")
        if value.startswith("sqlite:///"):
            value = "sqlite+aiosqlite:///" + value.removeprefix("sqlite:///")
        return value

    def require(self, *names: str) -> None:
        """Fail with a message naming every missing setting among `names`."""
        missing = [f"IVR_{n.upper()}" for n in names if not getattr(self, n)]
        if missing:
            raise SettingsError("missing setting(s): " + ", ".join(missing))

    def voice_profiles(self) -> dict[str, VoiceProfile]:
        """The configured voice of each product locale (pt-BR, en-US)."""
        profiles = {}
        for locale in ("pt-BR", "en-US"):
            suffix = locale.replace("-", "_").upper()
            key = suffix.lower()
            profiles[locale] = VoiceProfile(
                voice=getattr(self, f"tts_voice_{key}"),
                variant=getattr(self, f"tts_variant_{key}"),
                rate=getattr(self, f"tts_rate_{key}"),
                pitch=getattr(self, f"tts_pitch_{key}"),
                setting=suffix,
            )
        return profiles

    def callback_numbers(self) -> dict[str, str]:
        """Country -> the number its debtors are told to call back (see
        :mod:`ivr.callback_numbers`); a country without one is left out."""
        per_country = {c: getattr(self, f"callback_number_{c.lower()}") for c in CALLBACK_COUNTRIES}
        return configured_numbers(per_country, self.twilio_from_number)

    def missing_callback_numbers(self) -> list[str]:
        """The settings of the countries that have no callback number at all."""
        numbers = self.callback_numbers()
        return [setting_name(c) for c in CALLBACK_COUNTRIES if c not in numbers]

    @property
    def is_sandbox(self) -> bool:
        return self.twilio_api_url is not None


def load_settings(**overrides: object) -> Settings:
    """Read settings, turning pydantic's errors into one readable message."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = "IVR_" + str(err["loc"][0]).upper() if err["loc"] else "IVR_?"
            lines.append(f"{name}: {err['msg']}")
        raise SettingsError("invalid setting(s): " + "; ".join(lines)) from None
