"""``CallSession``: one interview call, transport-agnostic.

A transport hands it inbound audio (any rate, any layout) and pulls one 48 kHz frame every 20 ms; the
session reports what happens through a callback (state, live transcript, metrics, errors, committed lines).
Inside, the turn manager moves listening → thinking → speaking → listening:

- VAD endpointing on 16 kHz frames opens an ``Utterance`` per utterance (``recognition.py``), streaming it to
  STT; it reports the recogniser's transcripts back through ``RecognitionHooks``, and the session decides.
- At the end of the candidate's turn the final transcript starts a ``Reply`` (LLM → sentences → TTS → queue).
  During a pause the reply may start early on the interim transcript, behind a closed gate; it is kept only
  if the final transcript matches.
- Sustained speech while the agent thinks or speaks interrupts it (barge-in): the reply is cancelled, queued
  audio is dropped, and the agent's line is stored as far as it was played.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import re
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

import av
import numpy as np
from pydantic import BaseModel, Field

from voice_agent.answer import Answer
from voice_agent.asides import ASIDES, SpokenText
from voice_agent.audio import FRAME_MS, VAD_FRAME_SAMPLES, VAD_SAMPLE_RATE, Framer, PcmResampler
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
    EndOfTurnModel,
    InterviewContext,
    LineKind,
    LlmUsage,
    Providers,
    ReplyRequest,
    SttCall,
    open_stt_call,
)
from voice_agent.recognition import Utterance
from voice_agent.reply import Reply
from voice_agent.turn_ending import EndReason, EndSignals, Verdict, end_reason, model_verdict
from voice_agent.turn_options import TurnOptions
from voice_agent.turn_text import (
    Completeness,
    EchoDetector,
    asks_for_time,
    completeness,
    echo_of,
    is_backchannel,
    is_filler_only,
)
from voice_agent.vad import (
    SpeechEnded,
    SpeechHesitated,
    SpeechPaused,
    SpeechResumed,
    SpeechStarted,
    SpeechSustained,
    VadEndpointer,
)

log = logging.getLogger(__name__)

EventSink = Callable[[SessionEvent], None]
#: Speech that began this soon after the agent's voice may be its echo; this soon, it began over it.
ECHO_WINDOW_S = 1.5
OVERLAP_S = 0.1


class SessionOptions(BaseModel):
    """Settings of a call: its turn-taking knobs, and how it starts and ends."""

    turn: TurnOptions = Field(default_factory=TurnOptions)
    greet: bool = Field(True, description="the agent speaks first")
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
        self.turn_options = self.options.turn
        self._adaptive = self.turn_options.turn_ending == "adaptive"
        vad = self.turn_options.vad
        if self._adaptive:
            # The turn decisions end the turn (at the latest when the think-time grace runs out): the VAD's own
            # hangover only stops a speech nobody ended.
            longest = max(self.turn_options.think_grace_s, self.turn_options.think_grace_hard_s)
            vad = vad.model_copy(update={"hangover_ms": max(vad.hangover_ms, round(longest * 1000) + 1000)})
        self._vad = VadEndpointer(vad)
        self._signals = EndSignals()
        self._pause_serial = 0
        self._answer: Answer | None = None
        self._answer_settled = False
        #: Replies dropped because the candidate went on just after they began (the answer was not finished).
        self.false_interruptions = 0
        #: Transcripts dropped as the agent's own voice heard back (speakerphone without echo cancellation).
        self.echoes_dropped = 0
        #: Speech over the agent that turned out not to interrupt it (a backchannel, a cough, an echo).
        self.backchannels = 0
        self._echo = EchoDetector()
        self._echo_suspected = False
        self._agent_voice_until = float("-inf")
        #: The utterance the agent paused its voice for, until its words say whether it interrupts.
        self._paused_for: Utterance | None = None
        self._idle_from: int | None = None
        self._idle_prompts = 0
        self._outbound = OutboundAudio()
        self._utterance: Utterance | None = None
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
            utterance, self._utterance = self._utterance, None
            if utterance is not None:
                self._finish_in_background(utterance, self.clock(), reply=False)
            if self._finishing:
                await asyncio.wait(set(self._finishing), timeout=self.options.close_grace_s)
            self._settle_answer()
            if utterance is not None:
                await utterance.aclose()
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
        utterance = self._utterance
        events = self._vad.process(frame, now)
        if utterance is not None and utterance.ended is None:
            utterance.push(frame, self._vad.voiced, now)
        for event in events:
            if isinstance(event, SpeechStarted):
                self._begin_utterance(event)
                continue
            utterance = self._utterance
            if utterance is None:
                continue
            if isinstance(event, SpeechSustained):
                self._on_sustained(utterance)
            elif isinstance(event, SpeechHesitated):
                self._on_hesitation(utterance, event)
            elif isinstance(event, SpeechPaused):
                self._on_pause(utterance, event)
            elif isinstance(event, SpeechResumed):
                self._on_resume(utterance)
            elif isinstance(event, SpeechEnded):
                self._on_speech_end(utterance, event)
        if self._adaptive:
            self._check_turn_end(now)
            self._check_paused_speech()
            self._check_idle()

    # ------------------------------------------------------------------ the candidate's turn

    def _begin_utterance(self, started: SpeechStarted) -> None:
        wall = datetime.now(UTC) - timedelta(seconds=self.clock() - started.time)
        self._idle_from = None
        self._signals = EndSignals()
        self._utterance = Utterance(
            started,
            wall,
            open_stream=self._stt.open_stream,  # type: ignore[union-attr]
            hooks=self,
            spawn=self._spawn,
        )
        self._utterance.after_agent_s = started.time - self._agent_voice_until

    def _heard_so_far(self, interim: str) -> str:
        """The answer in progress as it reads with ``interim`` as its next part."""
        if self._answer is None or self._answer_settled:
            return interim
        return self._answer.with_interim(interim)

    # RecognitionHooks: what the current utterance's recogniser says.

    def on_interim(self, utterance: Utterance, text: str) -> None:
        """A new interim transcript: shown live; during a pause it may start an early reply, and it tells the
        turn decisions whether the answer sounds finished."""
        self._emit(TranscriptUpdate("user", self._heard_so_far(text), final=False))
        if utterance.paused and utterance.ended is None:
            self._speculate(utterance)
            if self._adaptive and self._utterance is utterance:
                self._signals.transcript = _text_verdict(self._heard_so_far(text))
                self._check_turn_end(self.clock())

    def on_final(self, utterance: Utterance, text: str, speech_final: bool) -> None:
        """The final transcript. When the STT saw the end of the speech itself (Deepgram's endpointing), the
        utterance ends here; with adaptive turn-taking whether the *turn* ends is still the signals' call."""
        if not (speech_final and utterance.ended is None and self._utterance is utterance and text):
            return
        if self._adaptive:
            self._signals.stt_final = True
            self._signals.transcript = _text_verdict(self._heard_so_far(text))
        self._end_utterance(utterance, EndReason.STT, self.clock())

    def on_recognition_error(self, code: str, message: str) -> None:
        """Recognition failed for part of an answer: the candidate is told."""
        self._emit(ErrorRaised(code, message, "stt"))

    # The turn decisions, on the VAD's events and the end-of-turn signals.

    def _on_sustained(self, utterance: Utterance) -> None:
        utterance.sustained = True
        if self._reply is None:
            return
        if not self._adaptive:
            # Barge-in: the candidate talks over the agent. The agent falls silent from the next frame; storing
            # what was played can follow.
            self._spawn(self._interrupt_replies(reason="barge_in", reply=self._silence_reply()))
            return
        if self._echo_suspected:
            return  # on speakerphone: only words that are not the agent's own stop it (at the utterance's end)
        # Speech over the agent: it falls silent from the next frame, but keeps its place until the words (or
        # the speech going on past ``interrupt_after_ms``) say whether this interrupts it, or is a backchannel
        # ("mm-hm"), a cough or its own echo.
        self._outbound.paused = True
        self._paused_for = utterance
        self._set_state(AgentState.LISTENING)

    def _on_hesitation(self, utterance: Utterance, hesitated: SpeechHesitated) -> None:
        """A short silence: with a streaming STT whose interim kept up with the speech, start the reply now,
        behind its gate (an utterance-level STT has no fresh interim yet and waits for the pause)."""
        utterance.last_voiced_time = hesitated.last_voiced_time
        if utterance.interim_is_fresh(self._vad.silent_frames, self.turn_options.interim_fresh_s):
            utterance.pause(hesitated.last_voiced_time, hint_stt=False)
            self._speculate(utterance)

    def _on_pause(self, utterance: Utterance, paused: SpeechPaused) -> None:
        utterance.pause(paused.last_voiced_time)
        if utterance.interim:
            self._speculate(utterance)
        if not self._adaptive:
            return
        self._signals = EndSignals()
        if utterance.interim_is_fresh(self._vad.silent_frames, self.turn_options.interim_fresh_s):
            self._signals.transcript = _text_verdict(self._heard_so_far(utterance.interim))
        model = self.providers.turn_model
        if model is not None:
            self._pause_serial += 1
            self._spawn(self._ask_model(model, utterance, self._pause_serial))

    async def _ask_model(self, model: EndOfTurnModel, utterance: Utterance, serial: int) -> None:
        try:
            probability = await model.probability(utterance.recent_audio())
        except Exception as exc:
            log.warning("the end-of-turn model failed: %s", exc.__class__.__name__)
            return
        if serial != self._pause_serial or self._utterance is not utterance or utterance.ended is not None:
            return  # the pause it was asked about is over
        o = self.turn_options
        self._signals.model = model_verdict(probability, o.turn_model_complete_at, o.turn_model_unfinished_below)
        self._check_turn_end(self.clock())

    def _on_resume(self, utterance: Utterance) -> None:
        utterance.resume()
        self._pause_serial += 1
        self._signals = EndSignals()
        if self._speculative is not None:
            self._spawn(self._drop_speculative())

    def _grace_ms(self) -> int:
        o = self.turn_options
        hard = self.context.interview_type == "technical"
        return round((o.think_grace_hard_s if hard else o.think_grace_s) * 1000)

    def _check_turn_end(self, now: float) -> None:
        """Adaptive turn-taking, every frame and on every signal: end the utterance in a pause when the signals
        agree; release a held answer when its grace runs out."""
        utterance = self._utterance
        hangover = self.turn_options.vad.hangover_ms
        if utterance is not None:
            if utterance.ended is not None or not utterance.paused:
                return
            silence_ms = self._vad.silent_frames * FRAME_MS
            reason = end_reason(self._signals, silence_ms, hangover, self._grace_ms())
            if reason is not None:
                self._end_utterance(utterance, reason, now)
            return
        answer = self._answer
        if answer is not None and answer.held and self._reply is None and not self._finishing and not self._closing:
            silence_ms = (self._vad.index - answer.last_voiced_index) * FRAME_MS
            grace_ms = round(self.turn_options.ask_time_grace_s * 1000) if answer.think_time else self._grace_ms()
            if silence_ms >= grace_ms:
                answer.held = False
                metrics = TurnMetrics(user_speech_end=answer.last_voiced_time, endpoint=now, turn=0)
                metrics.stt_final = now
                metrics.ended_by = EndReason.GRACE.value
                self._reply_to_answer(answer, metrics)

    def _check_paused_speech(self) -> None:
        """Speech the agent paused for that goes on past ``interrupt_after_ms`` interrupts it, words or not."""
        utterance = self._paused_for
        if utterance is None or utterance.ended is not None:
            return
        spoken_ms = (self._vad.last_voiced_index - utterance.started.index + 1) * FRAME_MS
        if spoken_ms >= self.turn_options.interrupt_after_ms:
            self._confirm_interruption()

    def _confirm_interruption(self) -> None:
        """The speech over the agent is meant: if the answer it replies to was not settled yet, the reply was
        premature and is dropped (the speech joins the answer); otherwise it is a barge-in."""
        self._paused_for = None
        if self._reply is None:
            return
        reply = self._silence_reply()
        if self._answer is not None and not self._answer_settled:
            self._answer.held = True
            self.false_interruptions += 1
            self._spawn(self._discard_reply(reply))
        else:
            self._spawn(self._interrupt_replies(reason="barge_in", reply=reply))

    def _let_agent_go_on(self) -> None:
        """The speech the agent paused for did not interrupt it: it goes on where it stopped."""
        self._paused_for = None
        self.backchannels += 1
        self._outbound.paused = False
        if self._reply is not None and self._reply.metrics.first_frame_sent is not None:
            self._set_state(AgentState.SPEAKING)
        elif self._reply is not None:
            self._set_state(AgentState.THINKING)

    def _drop_utterance(self, utterance: Utterance) -> None:
        self._spawn(utterance.aclose())
        if self._utterance is utterance:
            self._utterance = None
        if self._paused_for is utterance:
            self._let_agent_go_on()

    def _check_idle(self) -> None:
        """Silence after a question: one gentle prompt, then an offer to move on; never more than two."""
        if self._idle_from is None or self._idle_prompts >= 2 or self._muted:
            return
        if self._reply is not None or self._utterance is not None or self._finishing or self._closing:
            return
        if self._answer is not None and self._answer.held:
            return
        o = self.turn_options
        wait_s = o.idle_prompt_s if self._idle_prompts == 0 else o.idle_move_on_s
        if (self._vad.index - self._idle_from) * FRAME_MS >= wait_s * 1000:
            self._idle_prompts += 1
            self._idle_from = None
            self._speak_aside(ASIDES.idle_prompt if self._idle_prompts == 1 else ASIDES.idle_move_on)

    def _speak_aside(self, text: str) -> None:
        """Say a fixed line around the turns (stored as an aside)."""
        if self._reply is not None or self._closing:
            return
        providers = dataclasses.replace(self.providers, llm=SpokenText(text))
        reply = Reply(
            request=self._request(None),
            providers=providers,
            outbound=self._outbound,
            metrics=TurnMetrics(turn=self._turn),
            emit=self._emit,
            clock=self.clock,
            usage=LlmUsage(),
            turn=self.turn_options,
            kind="aside",
        )
        reply.start()
        self._adopt_reply(reply)

    def _on_speech_end(self, utterance: Utterance, ended: SpeechEnded) -> None:
        reason = EndReason.GRACE if self._adaptive else EndReason.SILENCE
        utterance.end(ended, reason.value)
        too_short = ended.voiced_frames * FRAME_MS < self.turn_options.min_speech_ms
        if too_short or (self._reply is not None and not utterance.sustained):
            # A click or a cough, or a short noise while the agent was busy: not an answer.
            self._drop_utterance(utterance)
            return
        self._finish_in_background(utterance, self.clock(), reply=True)

    def _end_utterance(self, utterance: Utterance, reason: EndReason, now: float) -> None:
        """End the utterance before the VAD's hangover (the signals agreed, or the STT saw its end). If the
        candidate goes on, the VAD starts a new utterance, which joins a held answer or interrupts the reply."""
        ended = self._vad.end_now(now)
        if ended is None:
            return
        utterance.end(ended, reason.value)
        too_short = ended.voiced_frames * FRAME_MS < self.turn_options.min_speech_ms
        if too_short or (self._reply is not None and not utterance.sustained):
            self._drop_utterance(utterance)
            return
        self._finish_in_background(utterance, now, reply=True)

    def _finish_in_background(self, utterance: Utterance, endpoint: float, reply: bool) -> asyncio.Task[None]:
        task = self._spawn(self._finish_utterance(utterance, endpoint, reply))
        self._finishing.add(task)
        task.add_done_callback(self._finishing.discard)
        return task

    def _report_fault(self, code: str, message: str) -> None:
        self._emit(ErrorRaised(code, message, "stt"))

    async def _finish_utterance(self, utterance: Utterance, endpoint: float, reply: bool) -> None:
        """The utterance is over: wait for its final transcript, add it to the answer, and answer that, or hold
        it open when it still sounds unfinished."""
        if self._utterance is utterance:
            self._utterance = None
        metrics = TurnMetrics(turn=0, user_speech_end=utterance.last_voiced_time, endpoint=endpoint)
        metrics.ended_by = utterance.end_reason or EndReason.SILENCE.value
        model_said = self._signals.model
        heard = await utterance.transcript(self.turn_options.stt_final_timeout_s)
        if heard.timed_out:
            self._emit(ErrorRaised("stt_timeout", "Speech recognition was slow; using what was heard.", "stt"))
        metrics.stt_final = self.clock()
        await utterance.aclose()
        self.usage.stt_seconds += utterance.speech_seconds
        text = heard.text
        over_agent = utterance.after_agent_s <= ECHO_WINDOW_S
        if text and self._adaptive and self.turn_options.echo_gate and over_agent:
            # Speech that began while the agent was audible is held to a lower bar: a word or two of its own
            # ("Hi,", "Tell me") is enough, as the agent falls silent as soon as its echo is heard.
            overlapped = utterance.after_agent_s <= OVERLAP_S
            recent = self._echo.recent(self.clock())
            if echo_of(text, recent, min_words=1 if overlapped else 3):
                self.echoes_dropped += 1
                self._echo_suspected = True
                log.info("dropped a transcript that was the agent's own voice heard back")
                text = ""
        if self._paused_for is utterance or (self._echo_suspected and over_agent and self._reply is not None):
            if not text or is_backchannel(text) or is_filler_only(text):
                if self._paused_for is utterance:
                    self._let_agent_go_on()
                return
            self._confirm_interruption()
        if not text:
            if self._speculative is not None and (self._answer is None or not self._answer.held):
                await self._drop_speculative()
            return
        answer = self._answer
        if answer is None or self._answer_settled:
            answer = self._answer = Answer(utterance.wall_start)
            self._answer_settled = False
        last_index = utterance.ended.last_voiced_index if utterance.ended is not None else self._vad.index
        answer.add(text, utterance.speech_seconds, utterance.last_voiced_time, last_index)
        self._idle_prompts = 0
        if not self._adaptive:
            self._settle_answer()
        if not reply or self._closing:
            return
        if self._adaptive and asks_for_time(text):
            # "Let me think": a short aside, and a longer grace; the turn stays the candidate's.
            answer.held = True
            answer.think_time = True
            self._emit(TranscriptUpdate("user", answer.text, final=False))
            self._speak_aside(ASIDES.take_your_time)
            return
        if self._adaptive and metrics.ended_by != EndReason.GRACE.value:
            words = _text_verdict(answer.text)
            voice_unfinished = metrics.ended_by == EndReason.STT.value and model_said is Verdict.UNFINISHED
            if words is Verdict.UNFINISHED or (voice_unfinished and words is not Verdict.COMPLETE):
                answer.held = True  # it sounded finished to the ear, but the words stop mid-clause
                self._emit(TranscriptUpdate("user", answer.text, final=False))
                return
        answer.held = False
        self._reply_to_answer(answer, metrics)

    def _reply_to_answer(self, answer: Answer, metrics: TurnMetrics) -> None:
        """The answer is complete: reply to it, with the early reply if it heard the same words."""
        self._turn += 1
        metrics.turn = self._turn
        text = answer.text
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
            self._spawn(speculative.cancel())
        self._start_reply(metrics, user_text=None if self._answer_settled else text)

    def _settle_answer(self) -> None:
        """Store the answer as one line: its reply played past the resume window, or the call is ending."""
        answer = self._answer
        if answer is None or self._answer_settled:
            return
        self._answer_settled = True
        answer.held = False
        self._commit_line(
            "user", answer.text, answer.wall_start, answer.speech_seconds, {"stt": self.providers.stt.name}
        )

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
            turn=self.turn_options,
        )
        reply.start()
        return reply

    def _start_reply(self, metrics: TurnMetrics, user_text: str | None) -> None:
        self._adopt_reply(self._new_reply(metrics, user_text, gate_open=True))

    def _adopt_reply(self, reply: Reply) -> None:
        self._reply = reply
        reply.gate.set()
        self._set_state(AgentState.THINKING)

    def _speculate(self, utterance: Utterance) -> None:
        """Start a gated reply on the interim transcript while the candidate pauses."""
        if not self.turn_options.early_reply or self._reply is not None or self._closing:
            return
        text = self._heard_so_far(utterance.interim)
        current = self._speculative
        if current is not None and current.user_text == text:
            return
        if current is not None:
            self._spawn(current.cancel())
        self._speculative = self._new_reply(TurnMetrics(turn=self._turn + 1), text, gate_open=False)

    async def _drop_speculative(self) -> None:
        speculative, self._speculative = self._speculative, None
        if speculative is not None:
            await speculative.cancel()

    def _silence_reply(self) -> Reply | None:
        """Detach the current reply, stop it producing and drop its queued audio, all before the next frame."""
        reply, self._reply = self._reply, None
        self._outbound.paused = False
        self._paused_for = None
        if reply is not None:
            reply.stop()
            self._outbound.clear()
            if not self._closing:
                self._set_state(AgentState.LISTENING)
        return reply

    async def _discard_reply(self, reply: Reply | None) -> None:
        """Drop a premature reply: stopped, its audio gone, nothing of it stored."""
        if await self._stop_reply(reply):
            log.info("a premature reply was dropped after %.2f s: the candidate went on", reply.played_seconds())

    async def _interrupt_replies(self, reason: str, reply: Reply | None = None) -> None:
        """Cancel the agent's reply (``reply``, already silenced, or the current one), drop its queued audio and
        store what was actually played."""
        reply = reply or self._silence_reply()
        if not await self._stop_reply(reply):
            return
        self._settle_answer()
        heard = reply.played_text()
        if heard:
            self._commit_reply_line(reply, heard, interrupted=True)
        log.info("agent reply interrupted (%s) after %.2f s", reason, reply.played_seconds())

    async def _stop_reply(self, reply: Reply | None) -> bool:
        """Cancel ``reply`` (and any early reply), drop its queued audio and count what it used; False if none."""
        await self._drop_speculative()
        if reply is None:
            return False
        await reply.cancel()
        self._outbound.clear()
        self._account(reply)
        return True

    def pull_frame(self) -> np.ndarray:
        """The next 20 ms of the agent's voice (48 kHz mono int16), or silence. Called by the transport's
        paced clock every 20 ms, so the moment of the call is the moment the frame is sent."""
        frame, segment = self._outbound.pull()
        reply = self._reply
        if reply is None:
            return frame
        if segment is not None:
            now = self.clock()
            self._agent_voice_until = now
            if reply.metrics.first_frame_sent is None:
                reply.metrics.first_frame_sent = now
                reply.started_wall = datetime.now(UTC)
                self._set_state(AgentState.SPEAKING)
                if reply.kind == "turn":
                    self.turns.append(reply.metrics)
                    self._emit(TurnMetricsReady(reply.metrics))
            if segment.frames_played == 1:
                self._echo.played(segment.text, now)
                self._emit(TranscriptUpdate("assistant", reply.played_text() or segment.text, final=False))
            settles = reply.kind == "turn" and not self._answer_settled
            if settles and reply.played_seconds() >= self.turn_options.resume_window_s:
                self._settle_answer()
        elif reply.finished_playing:
            self._finish_reply(reply)
        return frame

    def _finish_reply(self, reply: Reply) -> None:
        self._reply = None
        self._account(reply)
        if reply.kind == "turn":
            self._settle_answer()
        self._idle_from = self._vad.index
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
        metrics = reply.metrics.to_dict() if reply.kind == "turn" else None
        self._commit_line("assistant", text, started, seconds, metrics, interrupted, kind=reply.kind)

    def _commit_line(
        self,
        role: str,
        text: str,
        started_at: datetime,
        seconds: float,
        metrics: dict[str, object] | None = None,
        interrupted: bool = False,
        kind: LineKind = "turn",
    ) -> None:
        """A line is final: into the history, to the client, and to the store."""
        self.history.append(ChatMessage(role, text, kind))  # type: ignore[arg-type]
        self._emit(TranscriptUpdate(role, text, final=True))
        line = SpokenLine(role, text, started_at, round(seconds, 2), metrics, interrupted, kind=kind)
        self._emit(LineCommitted(line))

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


_VERDICTS = {
    Completeness.COMPLETE: Verdict.COMPLETE,
    Completeness.UNFINISHED: Verdict.UNFINISHED,
    Completeness.UNKNOWN: Verdict.UNSURE,
}


def _text_verdict(text: str) -> Verdict:
    """What the words say: does the answer end mid-clause?"""
    return _VERDICTS[completeness(text)]


def merge_consecutive(messages: list[ChatMessage]) -> list[ChatMessage]:
    """Join consecutive lines of the same speaker (chat APIs want the roles to alternate)."""
    merged: list[ChatMessage] = []
    for message in messages:
        if merged and merged[-1].role == message.role:
            kind = "aside" if merged[-1].kind == message.kind == "aside" else "turn"
            merged[-1] = ChatMessage(message.role, f"{merged[-1].content} {message.content}", kind)
        else:
            merged.append(message)
    return merged
