"""``CallSession``: one interview call, transport-agnostic.

A transport hands it inbound audio (any rate, any layout) and pulls one 48 kHz frame every 20 ms; the
session reports what happens through a callback (state, live transcript, metrics, errors, committed lines).
Inside, the turn manager moves listening → thinking → speaking → listening:

- VAD endpointing on 16 kHz frames opens a ``Capture`` per utterance, streaming it to STT.
- At the end of the candidate's turn the final transcript starts a ``Reply`` (LLM → sentences → TTS → queue).
  During a pause the reply may start early on the interim transcript, behind a closed gate; it is kept only
  if the final transcript matches.
- Sustained speech while the agent thinks or speaks interrupts it (barge-in): the reply is cancelled, queued
  audio is dropped, and the agent's line is stored as far as it was played.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

import av
import numpy as np
from pydantic import BaseModel, Field

from voice_agent.audio import VAD_FRAME_SAMPLES, VAD_SAMPLE_RATE, Framer, PcmResampler
from voice_agent.events import (
    AgentState,
    CallEnded,
    ErrorRaised,
    LineCommitted,
    SessionEvent,
    SpokenLine,
    StateChanged,
    TranscriptUpdate,
    TurnMetrics,
    TurnMetricsReady,
)
from voice_agent.interview import build_system_prompt
from voice_agent.outbound import OutboundAudio
from voice_agent.providers.base import (
    ChatMessage,
    InterviewContext,
    LlmUsage,
    Providers,
    ReplyRequest,
    SttCall,
    SttStream,
    Transcript,
    open_stt_call,
)
from voice_agent.reply import Reply
from voice_agent.vad import (
    SpeechEnded,
    SpeechHesitated,
    SpeechPaused,
    SpeechResumed,
    SpeechStarted,
    SpeechSustained,
    VadEndpointer,
    VadOptions,
)

log = logging.getLogger(__name__)

EventSink = Callable[[SessionEvent], None]
#: An interim that arrived this close to the end of the speech covers it (a streaming STT's).
INTERIM_FRESH_S = 0.3


class SessionOptions(BaseModel):
    """Turn-taking settings of a call."""

    vad: VadOptions = Field(default_factory=VadOptions)
    stt_final_timeout_s: float = Field(8.0, description="longest wait for the final transcript")
    early_reply: bool = Field(True, description="start the reply on a stable interim transcript")
    greet: bool = Field(True, description="the agent speaks first")
    min_speech_ms: int = Field(250, description="voiced speech shorter than this is noise, not an answer")
    overrun_s: float = Field(120.0, description="hard stop this long after the planned duration")
    close_grace_s: float = Field(2.0, description="time allowed to finish transcripts when the call closes")


class Usage(BaseModel):
    """What a call consumed from its providers."""

    stt_seconds: float = 0.0
    llm_input_tokens: int = 0
    llm_output_tokens: int = 0
    tts_characters: int = 0


_WORD = re.compile(r"[a-z0-9']+")


def same_words(a: str, b: str) -> bool:
    """Two transcripts say the same words (case and punctuation aside)."""
    return _WORD.findall(a.lower()) == _WORD.findall(b.lower())


class Capture:
    """One candidate utterance on its way through STT."""

    def __init__(self, started: SpeechStarted, wall_start: datetime) -> None:
        self.started = started
        self.wall_start = wall_start
        self.stream: SttStream | None = None
        self.pending: list[tuple[bytes, bool]] = []
        self.interim = ""
        self.final: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.sustained = False
        self.paused = False
        self.ended: SpeechEnded | None = None
        self.last_voiced_time = started.time
        self.reader: asyncio.Task[None] | None = None
        self.interim_time = 0.0
        self.speech_seconds = 0.0
        self.ended_by_stt = False

    def push(self, frame: bytes, is_speech: bool) -> None:
        if self.stream is None:
            self.pending.append((frame, is_speech))
        else:
            self.stream.push(frame, is_speech)


class CallSession:
    """The real-time core of one call. Create, ``await start()``, feed audio, pull frames, ``await close()``."""

    def __init__(
        self,
        *,
        providers: Providers,
        context: InterviewContext,
        on_event: EventSink,
        options: SessionOptions | None = None,
        history: Iterable[ChatMessage] = (),
        elapsed_before: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.providers = providers
        self.context = context
        self.options = options or SessionOptions()
        self.clock = clock
        self.history: list[ChatMessage] = list(history)
        self.usage = Usage()
        self.state = AgentState.LISTENING
        self.end_reason: str | None = None
        self.turns: list[TurnMetrics] = []
        self._emit_to = on_event
        self._elapsed_before = elapsed_before
        self._started_at: float | None = None
        self._inbound = PcmResampler(VAD_SAMPLE_RATE)
        self._framer = Framer(VAD_FRAME_SAMPLES)
        self._vad = VadEndpointer(self.options.vad)
        self._outbound = OutboundAudio()
        self._capture: Capture | None = None
        self._stt: SttCall | object = providers.stt
        self._reply: Reply | None = None
        self._speculative: Reply | None = None
        self._turn = 0
        self._muted = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._finishing: set[asyncio.Task[None]] = set()
        self._closing = False
        self.closed = asyncio.Event()

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start the clock and, unless configured otherwise, greet the candidate."""
        self._started_at = self.clock()
        self._emit(StateChanged(self.state))
        try:
            self._stt = await open_stt_call(self.providers.stt, self._report_fault)
        except Exception as exc:
            log.warning("speech-to-text did not connect at call start: %s", exc.__class__.__name__)
            self._report_fault("stt_unavailable", "Speech recognition is not connected yet; retrying per answer.")
        deadline = self.context.duration_minutes * 60 + self.options.overrun_s - self._elapsed_before
        self._spawn(self._hard_stop(max(1.0, deadline)))
        if self.options.greet:
            self._start_reply(TurnMetrics(turn=0), user_text=None)

    @property
    def elapsed_seconds(self) -> float:
        """Interview time so far, including earlier calls of the same interview."""
        if self._started_at is None:
            return self._elapsed_before
        return self._elapsed_before + self.clock() - self._started_at

    async def close(self, reason: str = "hangup") -> None:
        """End the call: keep every line that was spoken (the candidate's current utterance is finalised,
        the agent's line is cut to what was played), report ``ended`` and release the providers' streams."""
        if self._closing:
            await self.closed.wait()
            return
        self._closing = True
        self.end_reason = reason
        try:
            await self._interrupt_replies(reason="closing")
            # Lines already spoken are finished and stored before anything is cancelled.
            capture, self._capture = self._capture, None
            if capture is not None:
                finishing = self._spawn(self._finish_capture(capture, self.clock(), reply=False))
                self._finishing.add(finishing)
            if self._finishing:
                await asyncio.wait(set(self._finishing), timeout=self.options.close_grace_s)
            if capture is not None:
                await self._release_capture(capture)
            me = asyncio.current_task()
            others = [t for t in self._tasks if t is not me]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)
            if self._stt is not self.providers.stt:
                with contextlib.suppress(Exception):
                    await self._stt.aclose()  # type: ignore[union-attr]
        finally:
            self._set_state(AgentState.ENDED)
            self._emit(CallEnded(reason))
            self.closed.set()

    async def _hard_stop(self, after: float) -> None:
        await asyncio.sleep(after)
        self._spawn(self.close("time_limit"))

    # ------------------------------------------------------------------ inbound audio

    def set_muted(self, muted: bool) -> None:
        """While muted, inbound audio counts as silence."""
        self._muted = muted

    def push_frame(self, frame: av.AudioFrame) -> None:
        """Inbound audio as a PyAV frame (any rate and layout)."""
        self._push_16k(self._inbound.resample_frame(frame))

    def push_pcm(self, samples: np.ndarray, sample_rate: int, channels: int = 1) -> None:
        """Inbound audio as interleaved int16 or float32 samples."""
        self._push_16k(self._inbound.resample(samples, sample_rate, channels))

    def _push_16k(self, samples: np.ndarray) -> None:
        if self._closing:
            return
        now = self.clock()
        for frame in self._framer.push(samples):
            if self._muted:
                frame[:] = 0
            self._on_frame(frame.tobytes(), now)

    def _on_frame(self, frame: bytes, now: float) -> None:
        capture = self._capture
        events = self._vad.process(frame, now)
        if capture is not None and capture.ended is None:
            capture.push(frame, self._vad.voiced)
            if self._vad.voiced:
                capture.last_voiced_time = now
        for event in events:
            if isinstance(event, SpeechStarted):
                self._begin_capture(event)
            elif self._capture is None:
                continue
            elif isinstance(event, SpeechSustained):
                self._on_sustained(self._capture)
            elif isinstance(event, SpeechHesitated):
                self._on_hesitation(self._capture, event)
            elif isinstance(event, SpeechPaused):
                self._on_pause(self._capture, event)
            elif isinstance(event, SpeechResumed):
                self._on_resume(self._capture)
            elif isinstance(event, SpeechEnded):
                self._on_speech_end(self._capture, event)

    # ------------------------------------------------------------------ the candidate's turn

    def _begin_capture(self, started: SpeechStarted) -> None:
        wall = datetime.now(UTC) - timedelta(seconds=self.clock() - started.time)
        capture = Capture(started, wall)
        self._capture = capture
        for frame in started.preroll:
            capture.push(frame, True)
        capture.reader = self._spawn(self._read_transcripts(capture))

    async def _read_transcripts(self, capture: Capture) -> None:
        try:
            stream = await self._stt.open_stream()  # type: ignore[union-attr]
        except Exception as exc:
            log.warning("speech-to-text failed to open: %s", exc.__class__.__name__)
            self._emit(ErrorRaised("stt_failed", "Speech recognition is unavailable right now.", "stt"))
            if not capture.final.done():
                capture.final.set_result("")
            return
        capture.stream = stream
        for frame, is_speech in capture.pending:
            stream.push(frame, is_speech)
        capture.pending.clear()
        if capture.paused:
            stream.pause()
        if capture.ended is not None:
            await stream.finalize()
        try:
            async for result in stream:
                self._on_transcript(capture, result)
                if result.is_final:
                    break
        except Exception as exc:
            log.warning("speech-to-text stream failed: %s", exc.__class__.__name__)
            self._emit(ErrorRaised("stt_failed", "Speech recognition failed for part of the answer.", "stt"))
        finally:
            if not capture.final.done():
                capture.final.set_result(capture.interim)

    def _on_transcript(self, capture: Capture, result: Transcript) -> None:
        text = result.text.strip()
        if result.is_final:
            if not capture.final.done():
                capture.final.set_result(text)
            if result.speech_final and capture.ended is None and self._capture is capture and text:
                self._end_turn_early(capture)
            return
        if not text:
            return
        # A repeated interim still says the recogniser has caught up with the speech as of now.
        capture.interim_time = self.clock()
        if text != capture.interim:
            capture.interim = text
            self._emit(TranscriptUpdate("user", text, final=False))
            if capture.paused and capture.ended is None:
                self._speculate(capture)

    def _on_sustained(self, capture: Capture) -> None:
        capture.sustained = True
        if self._reply is not None:
            # Barge-in: the candidate talks over the agent (or the agent was about to talk). The agent falls
            # silent from the next frame; storing what was played can follow.
            reply = self._silence_reply()
            self._spawn(self._interrupt_replies(reason="barge_in", reply=reply))

    def _on_hesitation(self, capture: Capture, hesitated: SpeechHesitated) -> None:
        """A short silence: with a streaming STT whose interim kept up with the speech, start the reply now,
        behind its gate (an utterance-level STT has no fresh interim yet and waits for the pause)."""
        capture.last_voiced_time = hesitated.last_voiced_time
        fresh = capture.interim and capture.interim_time >= hesitated.last_voiced_time - INTERIM_FRESH_S
        if fresh:
            capture.paused = True
            self._speculate(capture)

    def _on_pause(self, capture: Capture, paused: SpeechPaused) -> None:
        capture.paused = True
        capture.last_voiced_time = paused.last_voiced_time
        if capture.stream is not None:
            capture.stream.pause()
        if capture.interim:
            self._speculate(capture)

    def _on_resume(self, capture: Capture) -> None:
        capture.paused = False
        if self._speculative is not None:
            self._spawn(self._drop_speculative())

    def _on_speech_end(self, capture: Capture, ended: SpeechEnded) -> None:
        capture.ended = ended
        capture.last_voiced_time = ended.last_voiced_time
        capture.speech_seconds = ended.speech_seconds
        too_short = ended.voiced_frames * 20 < self.options.min_speech_ms
        if too_short or (self._reply is not None and not capture.sustained):
            # A click or a cough, or a short noise while the agent was busy: not an answer.
            self._spawn(self._release_capture(capture))
            self._capture = None
            return
        task = self._spawn(self._finish_capture(capture, self.clock(), reply=True))
        self._finishing.add(task)
        task.add_done_callback(self._finishing.discard)

    def _end_turn_early(self, capture: Capture) -> None:
        """The STT saw the end of the utterance (Deepgram's endpointing) before the VAD's hangover ran out: end
        the turn now. If the candidate goes on, the VAD starts a new utterance (which may interrupt the reply)."""
        self._vad.end_now()
        now = self.clock()
        capture.ended = SpeechEnded(
            self._vad.index,
            now,
            capture.started.index,
            self._vad.index,
            capture.last_voiced_time,
            max(1, round((capture.last_voiced_time - capture.started.time) / 0.02)),
        )
        capture.speech_seconds = capture.last_voiced_time - capture.started.time + 0.02
        capture.ended_by_stt = True
        task = self._spawn(self._finish_capture(capture, now, reply=True))
        self._finishing.add(task)
        task.add_done_callback(self._finishing.discard)

    def _report_fault(self, code: str, message: str) -> None:
        self._emit(ErrorRaised(code, message, "stt"))

    async def _finish_capture(self, capture: Capture, endpoint: float, reply: bool) -> None:
        """The candidate finished speaking: wait for the final transcript, store the line, answer it."""
        if self._capture is capture:
            self._capture = None
        self._turn += 1
        metrics = TurnMetrics(turn=self._turn, user_speech_end=capture.last_voiced_time, endpoint=endpoint)
        if capture.ended_by_stt:
            metrics.ended_by = "stt"
        if capture.stream is not None:
            await capture.stream.finalize()
        try:
            text = await asyncio.wait_for(asyncio.shield(capture.final), self.options.stt_final_timeout_s)
        except TimeoutError:
            text = capture.interim
            self._emit(ErrorRaised("stt_timeout", "Speech recognition was slow; using what was heard.", "stt"))
        metrics.stt_final = self.clock()
        if capture.ended is None:  # cut short (the call closed mid-sentence): up to the last voiced frame
            capture.speech_seconds = capture.last_voiced_time - capture.started.time + 0.02
        await self._release_capture(capture)
        self.usage.stt_seconds += capture.speech_seconds
        if not text:
            if self._speculative is not None:
                await self._drop_speculative()
            return
        self._commit_line("user", text, capture.wall_start, capture.speech_seconds, {"stt": self.providers.stt.name})
        if not reply or self._closing:
            return
        speculative, self._speculative = self._speculative, None
        if speculative is not None and speculative.user_text is not None and same_words(speculative.user_text, text):
            metrics.early_reply = True
            early = speculative.metrics
            metrics.llm_start, metrics.llm_first_token = early.llm_start, early.llm_first_token
            metrics.tts_start, metrics.tts_first_audio = early.tts_start, early.tts_first_audio
            speculative.metrics = metrics
            self._adopt_reply(speculative)
            return
        if speculative is not None:
            metrics.early_reply_discarded = True
            await speculative.cancel()
        self._start_reply(metrics, user_text=None)

    async def _release_capture(self, capture: Capture) -> None:
        if capture.stream is not None:
            with contextlib.suppress(Exception):
                await capture.stream.aclose()
        if capture.reader is not None and not capture.reader.done():
            capture.reader.cancel()

    # ------------------------------------------------------------------ the agent's turn

    def _request(self, pending_user_text: str | None) -> ReplyRequest:
        messages = list(self.history)
        if pending_user_text:
            messages.append(ChatMessage("user", pending_user_text))
        return ReplyRequest(
            system=build_system_prompt(self.context, self.elapsed_seconds),
            messages=tuple(merge_consecutive(messages)),
            context=self.context,
            elapsed_seconds=self.elapsed_seconds,
        )

    def _new_reply(self, metrics: TurnMetrics, pending_user_text: str | None, gate_open: bool) -> Reply:
        reply = Reply(
            request=self._request(pending_user_text),
            providers=self.providers,
            outbound=self._outbound,
            metrics=metrics,
            emit=self._emit,
            clock=self.clock,
            usage=LlmUsage(),
            gate_open=gate_open,
            user_text=pending_user_text,
        )
        reply.start()
        return reply

    def _start_reply(self, metrics: TurnMetrics, user_text: str | None) -> None:
        self._adopt_reply(self._new_reply(metrics, user_text, gate_open=True))

    def _adopt_reply(self, reply: Reply) -> None:
        self._reply = reply
        reply.gate.set()
        self._set_state(AgentState.THINKING)

    def _speculate(self, capture: Capture) -> None:
        """Start a gated reply on the interim transcript while the candidate pauses."""
        if not self.options.early_reply or self._reply is not None or self._closing:
            return
        current = self._speculative
        if current is not None and current.user_text == capture.interim:
            return
        if current is not None:
            self._spawn(current.cancel())
        self._speculative = self._new_reply(TurnMetrics(turn=self._turn + 1), capture.interim, gate_open=False)

    async def _drop_speculative(self) -> None:
        speculative, self._speculative = self._speculative, None
        if speculative is not None:
            await speculative.cancel()

    def _silence_reply(self) -> Reply | None:
        """Detach the current reply, stop it producing and drop its queued audio, all before the next frame."""
        reply, self._reply = self._reply, None
        if reply is not None:
            reply.stop()
            self._outbound.clear()
            if not self._closing:
                self._set_state(AgentState.LISTENING)
        return reply

    async def _interrupt_replies(self, reason: str, reply: Reply | None = None) -> None:
        """Cancel the agent's reply (``reply``, already silenced, or the current one), drop its queued audio and
        store what was actually played."""
        reply = reply or self._silence_reply()
        await self._drop_speculative()
        if reply is None:
            return
        await reply.cancel()
        self._outbound.clear()
        self._account(reply)
        heard = reply.played_text()
        if heard:
            self._commit_reply_line(reply, heard, interrupted=True)
        log.info("agent reply interrupted (%s) after %.2f s", reason, reply.played_seconds())

    def pull_frame(self) -> np.ndarray:
        """The next 20 ms of the agent's voice (48 kHz mono int16), or silence. Called by the transport's
        paced clock every 20 ms, so the moment of the call is the moment the frame is sent."""
        frame, segment = self._outbound.pull()
        reply = self._reply
        if reply is None:
            return frame
        if segment is not None:
            if reply.metrics.first_frame_sent is None:
                reply.metrics.first_frame_sent = self.clock()
                reply.started_wall = datetime.now(UTC)
                self._set_state(AgentState.SPEAKING)
                self.turns.append(reply.metrics)
                self._emit(TurnMetricsReady(reply.metrics))
            if segment.frames_played == 1:
                self._emit(TranscriptUpdate("assistant", reply.played_text() or segment.text, final=False))
        elif reply.finished_playing:
            self._finish_reply(reply)
        return frame

    def _finish_reply(self, reply: Reply) -> None:
        self._reply = None
        self._account(reply)
        if reply.text:
            self._commit_reply_line(reply, reply.text, interrupted=False)
        if reply.ends_interview:
            self._spawn(self.close("completed"))
        else:
            self._set_state(AgentState.LISTENING)

    def _account(self, reply: Reply) -> None:
        self.usage.llm_input_tokens += reply.usage.input_tokens
        self.usage.llm_output_tokens += reply.usage.output_tokens
        self.usage.tts_characters += reply.tts_characters

    # ------------------------------------------------------------------ events

    def _commit_reply_line(self, reply: Reply, text: str, interrupted: bool) -> None:
        seconds = reply.played_seconds()
        started = reply.started_wall or datetime.now(UTC) - timedelta(seconds=seconds)
        self._commit_line("assistant", text, started, seconds, reply.metrics.to_dict(), interrupted)

    def _commit_line(
        self,
        role: str,
        text: str,
        started_at: datetime,
        seconds: float,
        metrics: dict[str, object] | None = None,
        interrupted: bool = False,
    ) -> None:
        """A line is final: into the history, to the client, and to the store."""
        self.history.append(ChatMessage(role, text))  # type: ignore[arg-type]
        self._emit(TranscriptUpdate(role, text, final=True))
        self._emit(LineCommitted(SpokenLine(role, text, started_at, round(seconds, 2), metrics, interrupted)))

    def _set_state(self, state: AgentState) -> None:
        if state != self.state:
            self.state = state
            self._emit(StateChanged(state))

    def _emit(self, event: SessionEvent) -> None:
        try:
            self._emit_to(event)
        except Exception:
            log.exception("event sink failed")

    def _spawn(self, coro: object) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("session task failed", exc_info=task.exception())


def merge_consecutive(messages: list[ChatMessage]) -> list[ChatMessage]:
    """Join consecutive lines of the same speaker (chat APIs want the roles to alternate)."""
    merged: list[ChatMessage] = []
    for message in messages:
        if merged and merged[-1].role == message.role:
            merged[-1] = ChatMessage(message.role, f"{merged[-1].content} {message.content}")
        else:
            merged.append(message)
    return merged
