"""The one ``Settings`` object: every option of the server, read from the environment and ``.env``.

No other module reads ``os.environ``; they are handed what they need from here.
"""

from __future__ import annotations

import ipaddress
import os
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url

from signaling.aiortc_patches import is_loopback_host, parse_ice_servers
from voice_agent.providers import anthropic_llm, openai_llm
from voice_agent.providers.chat import ChatOptions
from voice_agent.providers.deepgram_stt import DeepgramOptions
from voice_agent.providers.openai_stt import OpenAITranscriptionOptions
from voice_agent.providers.openai_tts import OpenAISpeechOptions
from voice_agent.providers.registry import ProviderConfig
from voice_agent.providers.whisper_stt import WhisperOptions
from voice_agent.question_banks import QuestionBankError, load_question_banks
from voice_agent.session import SessionOptions
from voice_agent.turn_options import TurnOptions
from voice_agent.vad import VadOptions


def default_of(options: type[BaseModel], field: str) -> Any:
    """The default of one field of an option class (a provider's, ``TurnOptions``, ``VadOptions``): written there
    once, and the ``Settings`` field that sets it defaults to it."""
    return options.model_fields[field].default


class Settings(BaseSettings):
    """Server configuration (environment variables are the upper-case field names)."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    host: str = Field("127.0.0.1", description="address the HTTP server listens on")
    port: int = Field(8080, ge=0, le=65535)
    data_dir: Path = Field(Path("./data"), description="SQLite file, recordings, generated secret")
    database_url: str = Field("", description="SQLAlchemy async URL (empty: SQLite file in DATA_DIR)")
    secret_key: SecretStr | None = Field(None, description="signs session tokens (empty: generated in DATA_DIR)")
    public_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="extra origins allowed to make state-changing requests"
    )
    session_idle_days: float = Field(7.0, gt=0, description="a login expires after this long without activity")
    cookie_secure: bool | None = Field(None, description="Secure cookies (default: unless serving on localhost)")
    rate_limit_per_minute: int = Field(100, ge=1, description="requests per minute per IP")
    auth_rate_limit_per_minute: int = Field(10, ge=1, description="login and signup attempts per minute per IP")
    max_body_bytes: int = Field(256 * 1024, ge=1024, description="largest request body accepted")
    abandon_after_s: float = Field(600.0, gt=0, description="an interview idle this long without a call is abandoned")
    sweep_interval_s: float = Field(60.0, gt=0, description="how often idle interviews are looked for")
    recordings: bool = Field(True, description="record every call as Ogg/Opus (candidate left, agent right)")
    recordings_dir: Path | None = Field(None, description="where recordings go (default: DATA_DIR/recordings)")
    price_stt_per_minute: float = Field(0.0077, ge=0, description="USD per minute of cloud speech recognition")
    price_llm_input_per_mtok: float = Field(3.0, ge=0, description="USD per million input tokens")
    price_llm_output_per_mtok: float = Field(15.0, ge=0, description="USD per million output tokens")
    price_tts_per_mchar: float = Field(15.0, ge=0, description="USD per million characters of cloud speech")
    drain_grace_s: float = Field(0.0, ge=0, description="on SIGTERM, answer /readyz 503 this long before closing")
    shutdown_timeout_s: float = Field(15.0, gt=0, description="longest a shutdown may take")
    feedback_retry_delay_s: float = Field(5.0, ge=0, description="wait before retrying a failed feedback report")
    status_token: SecretStr | None = Field(None, description="bearer token for /api/status (and /metrics)")
    metrics_allow: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["127.0.0.0/8", "::1/128"],
        description="comma-separated networks that may read /metrics without the STATUS_TOKEN bearer",
    )
    hsts_max_age_s: int = Field(
        31_536_000, ge=0, description="Strict-Transport-Security max-age on HTTPS requests (0: never sent)"
    )
    http_idle_timeout_s: float = Field(
        30.0, gt=0, description="a connection that sent no complete request header this long (idle) is closed"
    )
    http_body_timeout_s: float = Field(30.0, gt=0, description="a request body not received this long gets 408")
    turn_secret: SecretStr | None = Field(
        None, description="coturn static-auth-secret: browsers get short-lived TURN credentials (TURN REST API)"
    )
    turn_credential_ttl_s: int = Field(7200, ge=60, description="lifetime of the short-lived TURN credentials")

    workers: int = Field(0, ge=0, description="worker processes for `serve` (0: one per core)")
    redis_url: str = Field("", description="Redis for state shared by workers and hosts (empty: per worker)")
    redis_prefix: str = Field("mock-interviewer", description="prefix of every Redis key and channel")
    lease_ttl_s: float = Field(15.0, ge=1, description="a call's lease expires this long after its last heartbeat")
    status_publish_interval_s: float = Field(1.0, gt=0, description="how often a worker shares its live calls")
    worker_state_dir: Path | None = Field(
        None, description="set by `serve --workers N`: where the workers share their live calls without Redis"
    )
    prometheus_multiproc_dir: Path | None = Field(
        None, description="set by `serve --workers N`: Prometheus multiprocess folder"
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="comma-separated addresses or networks whose X-Forwarded-For/-Proto are believed",
    )

    media_host_addresses: Annotated[list[str] | None, NoDecode] = Field(
        None, description="comma-separated host addresses for ICE candidates (default: by HOST)"
    )
    ice_servers: Annotated[list[dict[str, Any]], NoDecode] = Field(
        default_factory=list, description="JSON list of STUN/TURN servers for browser and server"
    )
    rtc_port_min: int | None = Field(None, ge=1, le=65535, description="lowest UDP port for media")
    rtc_port_max: int | None = Field(None, ge=1, le=65535, description="highest UDP port for media")
    rtc_public_ip: str | None = Field(None, description="address announced in host candidates behind a 1:1 NAT")

    stt_provider: str = ""
    llm_provider: str = ""
    tts_provider: str = ""
    deepgram_api_key: SecretStr | None = None
    anthropic_api_key: SecretStr | None = None
    openai_api_key: SecretStr | None = None
    deepgram_base_url: str = ""
    anthropic_base_url: str = ""
    openai_base_url: str = Field("", description="ends in /v1, e.g. http://localhost:11434/v1 for Ollama")
    stt_base_url: str = Field("", description="endpoint for speech-to-text only (overrides the provider's)")
    llm_base_url: str = Field("", description="endpoint for the language model only")
    tts_base_url: str = Field("", description="endpoint for text-to-speech only")
    deepgram_model: str = default_of(DeepgramOptions, "model")
    anthropic_model: str = anthropic_llm.DEFAULT_MODEL
    openai_chat_model: str = openai_llm.DEFAULT_MODEL
    openai_stt_model: str = default_of(OpenAITranscriptionOptions, "model")
    openai_tts_model: str = default_of(OpenAISpeechOptions, "model")
    openai_tts_voice: str = default_of(OpenAISpeechOptions, "voice")
    llm_timeout_s: float = Field(
        default_of(ChatOptions, "timeout_s"), gt=0, description="a language-model request or stalled stream fails after"
    )
    llm_max_tokens: int = Field(
        default_of(ChatOptions, "max_tokens"), ge=50, description="longest interviewer reply, in tokens"
    )
    provider_timeout_s: float = Field(15.0, gt=0, description="a speech request or stalled stream fails after")
    question_banks_dir: Path | None = Field(
        None,
        description="folder of TOML question banks for the scripted interviewer, each replacing the built-in "
        "bank of its file name",
    )

    whisper_model: str = Field(
        default_of(WhisperOptions, "model"), description="faster-whisper model folder (empty: bundled tiny.en)"
    )
    whisper_beam_size: int = default_of(WhisperOptions, "beam_size")
    whisper_threads: int = default_of(WhisperOptions, "cpu_threads")
    whisper_workers: int = default_of(WhisperOptions, "workers")
    hibari_voice: str = default_of(ProviderConfig, "hibari_voice")
    tts_workers: int = default_of(ProviderConfig, "hibari_workers")

    # The knobs of a turn's latency (TurnOptions), each with the options class's default.
    vad_aggressiveness: int = Field(
        default_of(VadOptions, "aggressiveness"), ge=0, le=3, description="webrtcvad mode, 0 to 3"
    )
    vad_hangover_ms: int = Field(
        default_of(VadOptions, "hangover_ms"), ge=100, le=3000, description="silence that ends a turn"
    )
    vad_early_pause_ms: int = Field(
        default_of(VadOptions, "early_pause_ms"), ge=20, description="silence before an early reply"
    )
    vad_pause_ms: int = Field(
        default_of(VadOptions, "pause_ms"), ge=40, description="silence counted as a natural pause"
    )
    vad_barge_in_ms: int = Field(
        default_of(VadOptions, "barge_in_ms"), ge=20, description="speech needed to interrupt the agent"
    )
    vad_preroll_ms: int = Field(
        default_of(VadOptions, "preroll_ms"), ge=0, description="audio kept from before speech starts"
    )
    turn_ending: str = Field(
        default_of(TurnOptions, "turn_ending"),
        pattern="^(adaptive|silence)$",
        description="adaptive, or a fixed silence (old)",
    )
    turn_model: str = Field("smart-turn", pattern="^(smart-turn|none)$", description="the end-of-turn model")
    think_grace_s: float = Field(default_of(TurnOptions, "think_grace_s"), gt=0, description="longest unfinished pause")
    think_grace_hard_s: float = Field(
        default_of(TurnOptions, "think_grace_hard_s"), gt=0, description="the same, hard questions"
    )
    resume_window_s: float = Field(
        default_of(TurnOptions, "resume_window_s"), ge=0, description="going on keeps the turn"
    )
    interrupt_after_ms: int = Field(
        default_of(TurnOptions, "interrupt_after_ms"), ge=0, description="speech that interrupts"
    )
    echo_gate: bool = Field(default_of(TurnOptions, "echo_gate"), description="drop the agent's own words heard back")
    ask_time_grace_s: float = Field(
        default_of(TurnOptions, "ask_time_grace_s"), gt=0, description="pause after 'let me think'"
    )
    idle_prompt_s: float = Field(
        default_of(TurnOptions, "idle_prompt_s"), gt=0, description="silence before a gentle prompt"
    )
    idle_move_on_s: float = Field(
        default_of(TurnOptions, "idle_move_on_s"), gt=0, description="then before offering to move on"
    )
    turn_model_complete_at: float = Field(
        default_of(TurnOptions, "turn_model_complete_at"), ge=0, le=1, description="finished"
    )
    turn_model_unfinished_below: float = Field(
        default_of(TurnOptions, "turn_model_unfinished_below"), ge=0, le=1, description="not"
    )
    min_speech_ms: int = Field(
        default_of(TurnOptions, "min_speech_ms"), ge=0, description="shorter voiced speech is noise"
    )
    interim_fresh_s: float = Field(
        default_of(TurnOptions, "interim_fresh_s"), ge=0, description="an interim this fresh covers it"
    )
    early_reply: bool = Field(default_of(TurnOptions, "early_reply"), description="start the reply on a stable interim")
    stt_final_timeout_s: float = Field(
        default_of(TurnOptions, "stt_final_timeout_s"), gt=0, description="wait for a final"
    )
    stt_endpointing_ms: int = Field(
        default_of(TurnOptions, "stt_endpointing_ms"), ge=10, description="Deepgram's endpointing"
    )
    sentence_max_chars: int = Field(
        default_of(TurnOptions, "sentence_max_chars"), ge=40, description="longest sentence spoken whole"
    )
    tts_keep_lead_s: float = Field(
        default_of(TurnOptions, "tts_keep_lead_s"), ge=0, description="leading silence kept of speech"
    )
    jitter_reorder_packets: int = Field(
        default_of(TurnOptions, "jitter_reorder_packets"), ge=0, description="reorder wait, packets"
    )
    opus_complexity: int = Field(
        default_of(TurnOptions, "opus_complexity"), ge=0, le=10, description="agent voice Opus complexity"
    )
    ws_frames_per_message: int = Field(
        default_of(TurnOptions, "ws_frames_per_message"), ge=1, description="frames per WS message"
    )
    media_timeout_s: float = Field(15.0, gt=0, description="end a call whose inbound audio stopped this long")
    connect_timeout_s: float = Field(
        30.0, gt=0, description="end a WebRTC call that has not connected this long after its answer"
    )
    max_pending_calls_per_address: int = Field(
        3, ge=1, description="WebRTC calls of other users from one client address still connecting, before 429"
    )
    ws_outbox_max_messages: int = Field(256, ge=1, description="events queued for a stream client that does not read")
    ws_outbox_max_bytes: int = Field(1024 * 1024, ge=1024, description="bytes of events queued for such a client")
    ws_bad_message_burst: int = Field(20, ge=1, description="malformed stream messages allowed in a burst")
    ws_bad_messages_per_s: float = Field(1.0, ge=0, description="malformed stream messages allowed per second")
    ws_audio_allowance_s: float = Field(
        2.0, ge=1.0, description="seconds of stream audio a client may send ahead of real time"
    )
    inbound_jitter_buffer: str = Field(
        "speech",
        pattern="^(speech|aiortc)$",
        description="speech: hand each inbound packet on as it arrives; aiortc: the library's 80 ms prefetch",
    )

    event_loop: str = Field("uvloop", pattern="^(uvloop|asyncio)$", description="the server's event loop")
    log_level: str = "INFO"
    log_format: str = Field("text", pattern="^(text|json)$")

    @field_validator("media_host_addresses", mode="before")
    @classmethod
    def _split_addresses(cls, value: Any) -> Any:
        if isinstance(value, str):
            items = [a.strip() for a in value.split(",") if a.strip()]
            for item in items:
                ipaddress.ip_address(item)
            return items or None
        return value

    @field_validator("secret_key", "status_token", "turn_secret", mode="before")
    @classmethod
    def _empty_secret_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("question_banks_dir", mode="before")
    @classmethod
    def _empty_folder_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("trusted_proxies", "metrics_allow", mode="before")
    @classmethod
    def _split_networks(cls, value: Any) -> Any:
        if isinstance(value, str):
            items = [p.strip() for p in value.split(",") if p.strip()]
            for item in items:
                ipaddress.ip_network(item, strict=False)  # raises ValueError on a typo
            return items
        return value

    @field_validator("rtc_public_ip", mode="before")
    @classmethod
    def _check_public_ip(cls, value: Any) -> Any:
        if value in (None, ""):
            return None
        return str(ipaddress.ip_address(str(value).strip()))

    @model_validator(mode="after")
    def _check_port_range(self) -> Settings:
        if (self.rtc_port_min is None) != (self.rtc_port_max is None):
            raise ValueError("set both RTC_PORT_MIN and RTC_PORT_MAX, or neither")
        if self.rtc_port_min is not None and self.rtc_port_max is not None and self.rtc_port_min > self.rtc_port_max:
            raise ValueError("RTC_PORT_MIN must not be above RTC_PORT_MAX")
        return self

    @field_validator("public_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [o.strip().rstrip("/") for o in value.split(",") if o.strip()]
        return value

    @field_validator("ice_servers", mode="before")
    @classmethod
    def _parse_ice_servers(cls, value: Any) -> Any:
        return parse_ice_servers(value)

    @cached_property
    def media_addresses(self) -> list[str] | None:
        """Host addresses for ICE: as configured, else 127.0.0.1 when serving on loopback, else every
        interface (None)."""
        if self.media_host_addresses:
            return self.media_host_addresses
        if is_loopback_host(self.host):
            return ["127.0.0.1"]
        return None

    @cached_property
    def trusted_proxy_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        """``TRUSTED_PROXIES`` as networks."""
        return [ipaddress.ip_network(entry, strict=False) for entry in self.trusted_proxies]

    @cached_property
    def metrics_allow_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        """``METRICS_ALLOW`` as networks."""
        return [ipaddress.ip_network(entry, strict=False) for entry in self.metrics_allow]

    @property
    def rtc_port_range(self) -> tuple[int, int] | None:
        """(lowest, highest) UDP port for media, or None for any port."""
        if self.rtc_port_min is None or self.rtc_port_max is None:
            return None
        return self.rtc_port_min, self.rtc_port_max

    @property
    def worker_count(self) -> int:
        """Worker processes ``serve`` runs: ``WORKERS``, else one per core this process may use (a container's
        CPU set, not the host's)."""
        if self.workers:
            return self.workers
        if hasattr(os, "sched_getaffinity"):
            return len(os.sched_getaffinity(0)) or 1
        return os.cpu_count() or 1

    def shared_deployment_reason(self) -> str | None:
        """Why this server may share its users with other hosts (a networked database or Redis), or None."""
        if self.redis_url:
            return "REDIS_URL is set"
        if make_url(self.resolved_database_url).get_backend_name() != "sqlite":
            return "DATABASE_URL is not a local SQLite file"
        return None

    def secret_key_problem(self) -> str | None:
        """Why the server must not start with this signing-key configuration, or None.

        Several hosts sharing one database must sign and check login tokens with one key: a key generated into
        each host's ``DATA_DIR`` would log users out whenever a request lands on another host.
        """
        reason = self.shared_deployment_reason()
        if reason is None or self.secret_key is not None:
            return None
        return (
            f"SECRET_KEY must be set explicitly when several hosts may share the users ({reason}): every host "
            "must sign login tokens with the same key. Generate one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'` and give the same value to every host."
        )

    def question_banks_problem(self) -> str | None:
        """Why ``QUESTION_BANKS_DIR`` cannot be used (the file and the field at fault), or None."""
        if self.question_banks_dir is None:
            return None
        try:
            load_question_banks(self.question_banks_dir)
        except QuestionBankError as exc:
            return f"QUESTION_BANKS_DIR: {exc}"
        return None

    @property
    def resolved_database_url(self) -> str:
        """``DATABASE_URL``, or the SQLite file in ``DATA_DIR``."""
        from db.engine import default_database_url

        return self.database_url or default_database_url(self.data_dir)

    @property
    def recordings_path(self) -> Path:
        """The folder recordings are written to."""
        return self.recordings_dir or self.data_dir / "recordings"

    @property
    def secure_cookies(self) -> bool:
        """Cookies are Secure unless the server only listens on localhost (browsers allow that over HTTP)."""
        if self.cookie_secure is not None:
            return self.cookie_secure
        return not is_loopback_host(self.host)

    def chosen_providers(self) -> tuple[str, str, str]:
        """(stt, llm, tts): as configured, else by the keys present (DESIGN §3): STT Deepgram, then OpenAI;
        LLM Anthropic, then OpenAI; TTS OpenAI; otherwise the embedded offline providers."""
        deepgram, anthropic, openai = self.deepgram_api_key, self.anthropic_api_key, self.openai_api_key
        stt = self.stt_provider or ("deepgram" if deepgram else "openai" if openai else "offline")
        llm = self.llm_provider or ("anthropic" if anthropic else "openai" if openai else "offline")
        tts = self.tts_provider or ("openai" if openai else "offline")
        return stt, llm, tts

    def provider_config(self) -> ProviderConfig:
        """Which provider serves each role, with its endpoint, model and limits."""
        stt, llm, tts = self.chosen_providers()
        openai_key = self.openai_api_key
        return ProviderConfig(
            stt=stt,
            llm=llm,
            tts=tts,
            deepgram=DeepgramOptions(
                api_key=self.deepgram_api_key,
                base_url=self.stt_base_url or self.deepgram_base_url,
                model=self.deepgram_model,
                endpointing_ms=self.stt_endpointing_ms,
            ),
            openai_stt=OpenAITranscriptionOptions(
                api_key=openai_key,
                base_url=self.stt_base_url or self.openai_base_url,
                model=self.openai_stt_model,
                timeout_s=self.provider_timeout_s,
            ),
            anthropic=ChatOptions(
                api_key=self.anthropic_api_key,
                base_url=self.llm_base_url or self.anthropic_base_url,
                model=self.anthropic_model,
                timeout_s=self.llm_timeout_s,
                max_tokens=self.llm_max_tokens,
            ),
            openai_llm=ChatOptions(
                api_key=openai_key,
                base_url=self.llm_base_url or self.openai_base_url,
                model=self.openai_chat_model,
                timeout_s=self.llm_timeout_s,
                max_tokens=self.llm_max_tokens,
            ),
            openai_tts=OpenAISpeechOptions(
                api_key=openai_key,
                base_url=self.tts_base_url or self.openai_base_url,
                model=self.openai_tts_model,
                voice=self.openai_tts_voice,
                timeout_s=self.provider_timeout_s,
            ),
            whisper=WhisperOptions(
                model=self.whisper_model,
                beam_size=self.whisper_beam_size,
                cpu_threads=self.whisper_threads,
                workers=self.whisper_workers,
            ),
            hibari_voice=self.hibari_voice,
            hibari_workers=self.tts_workers,
            question_banks_dir=self.question_banks_dir,
            turn_model=self.turn_model if self.turn_ending == "adaptive" else "none",
        )

    @cached_property
    def turn_options(self) -> TurnOptions:
        """Every knob of a turn's latency, built once from these settings (DESIGN §4)."""
        return TurnOptions(
            vad=VadOptions(
                aggressiveness=self.vad_aggressiveness,
                hangover_ms=self.vad_hangover_ms,
                early_pause_ms=self.vad_early_pause_ms,
                pause_ms=self.vad_pause_ms,
                barge_in_ms=self.vad_barge_in_ms,
                preroll_ms=self.vad_preroll_ms,
            ),
            turn_ending=self.turn_ending,
            think_grace_s=self.think_grace_s,
            think_grace_hard_s=self.think_grace_hard_s,
            resume_window_s=self.resume_window_s,
            interrupt_after_ms=self.interrupt_after_ms,
            echo_gate=self.echo_gate,
            ask_time_grace_s=self.ask_time_grace_s,
            idle_prompt_s=self.idle_prompt_s,
            idle_move_on_s=self.idle_move_on_s,
            turn_model_complete_at=self.turn_model_complete_at,
            turn_model_unfinished_below=self.turn_model_unfinished_below,
            min_speech_ms=self.min_speech_ms,
            interim_fresh_s=self.interim_fresh_s,
            early_reply=self.early_reply,
            stt_final_timeout_s=self.stt_final_timeout_s,
            stt_endpointing_ms=self.stt_endpointing_ms,
            sentence_max_chars=self.sentence_max_chars,
            tts_keep_lead_s=self.tts_keep_lead_s,
            jitter_reorder_packets=self.jitter_reorder_packets,
            opus_complexity=self.opus_complexity,
            ws_frames_per_message=self.ws_frames_per_message,
        )

    def session_options(self) -> SessionOptions:
        """Options for every call: the turn's knobs."""
        return SessionOptions(turn=self.turn_options)
