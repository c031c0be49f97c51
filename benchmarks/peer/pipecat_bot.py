"""The peer: a Pipecat bot with the seed-budget timing, for ``benchmarks/peer.py`` to compare ours against.

Run with the peer's own virtualenv (``benchmarks/peer/setup.sh`` makes it), inside the loopback namespace:

    ./scripts/in-loopback-netns.sh benchmarks/peer/.venv/bin/python benchmarks/peer/pipecat_bot.py --port 8091

What it is: Pipecat's standard voice pipeline over its SmallWebRTC transport,
``transport.input() -> STT -> user aggregator -> LLM -> TTS -> transport.output() -> assistant aggregator``,
with ``POST /offer`` (``{sdp, type}`` in, the answer out) handled by Pipecat's ``SmallWebRTCRequestHandler``.

- ICE: no STUN server (``ice_servers=[]``, so aiortc gets an empty ``iceServers`` list) and host candidates on
  127.0.0.1 only: our ``restrict_host_addresses`` (``signaling/aiortc_patches.py``, imported from the repository)
  runs before Pipecat is imported.
- VAD and turn taking: Pipecat's own. Silero VAD (``SileroVADAnalyzer``, the ONNX model in Pipecat's wheel, its
  default ``VADParams``: confidence 0.7, start 0.2 s, stop 0.2 s) in the user aggregator, with Pipecat's
  ``SpeechTimeoutUserTurnStopStrategy`` as the turn-stop strategy and ``user_speech_timeout`` 0.05 s (its
  default, 0.6 s, would add a wait that the seed budget, where the STT's endpointing ends the turn, has not;
  Pipecat's default smart-turn model would add an inference per turn).
- The services mirror ``benchmarks/seed_budget.py``: STT (an ``STTService``) sends an interim transcript every
  100 ms of voiced audio and the finalized transcript 250 ms after the end of speech (the last voiced frame,
  by level, as our VAD marks it); the LLM (a ``FrameProcessor``) answers an ``LLMContextFrame`` with its first
  token after 800 ms, then 40 tokens a second; TTS (a ``TTSService``) speaks with eSpeak NG (the same engine
  as our seed-budget TTS, imported from the repository) and sends the first audio 300 ms after the request,
  the rest at four times real time.
- Server response latency, measured like ours (``first_frame_sent - user_speech_end``): from the arrival of
  the last voiced input frame (at the STT) to the ``BotStartedSpeakingFrame`` that the output transport sends
  when the reply's first audio goes out. ``GET /turns`` lists them; ``GET /healthz`` answers once it listens.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from signaling.aiortc_patches import restrict_host_addresses  # noqa: E402  (before Pipecat is imported)

restrict_host_addresses(["127.0.0.1"])

from aiohttp import web  # noqa: E402
from loguru import logger  # noqa: E402
from pipecat.audio.utils import create_stream_resampler  # noqa: E402
from pipecat.audio.vad.silero import SileroVADAnalyzer  # noqa: E402
from pipecat.frames.frames import (  # noqa: E402
    BotStartedSpeakingFrame,
    Frame,
    InterimTranscriptionFrame,
    InterruptionFrame,
    LLMContextFrame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMTextFrame,
    TranscriptionFrame,
    TTSAudioRawFrame,
)
from pipecat.pipeline.pipeline import Pipeline  # noqa: E402
from pipecat.pipeline.worker import PipelineParams, PipelineWorker  # noqa: E402
from pipecat.processors.aggregators.llm_context import LLMContext  # noqa: E402
from pipecat.processors.aggregators.llm_response_universal import (  # noqa: E402
    LLMContextAggregatorPair,
    LLMUserAggregatorParams,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor  # noqa: E402
from pipecat.services.settings import STTSettings, TTSSettings  # noqa: E402
from pipecat.services.stt_service import STTService  # noqa: E402
from pipecat.services.tts_service import TTSService  # noqa: E402
from pipecat.transports.base_transport import TransportParams  # noqa: E402
from pipecat.transports.smallwebrtc.request_handler import (  # noqa: E402
    SmallWebRTCRequest,
    SmallWebRTCRequestHandler,
)
from pipecat.transports.smallwebrtc.transport import SmallWebRTCTransport  # noqa: E402
from pipecat.turns.user_stop import SpeechTimeoutUserTurnStopStrategy  # noqa: E402
from pipecat.turns.user_turn_strategies import UserTurnStrategies  # noqa: E402
from pipecat.utils.time import time_now_iso8601  # noqa: E402
from pipecat.workers.runner import WorkerRunner  # noqa: E402

from voice_agent.providers.espeak import EspeakEngine  # noqa: E402

# The seed budget (benchmarks/seed_budget.py).
INTERIM_EVERY_S = 0.1
FINAL_AFTER_S = 0.25
WORDS_PER_SECOND = 2.8
LLM_FIRST_TOKEN_S = 0.8
LLM_TOKENS_PER_S = 40.0
TTS_FIRST_AUDIO_S = 0.3
TTS_SPEED = 4.0
TTS_CHUNK_S = 0.2
#: A frame louder than this is voiced (the loopback client's threshold; eSpeak's gaps are digital silence).
VOICE_DBFS = -50.0
USER_SPEECH_TIMEOUT_S = 0.05
OUT_SAMPLE_RATE = 48000

#: What the interviewer says, in turn (a follow-up and a next question, as long as the scripted interviewer's).
REPLIES = [
    "Thanks, that is helpful. What was the hardest technical decision in that migration, and how did you "
    "convince the team that it was the right one?",
    "That is a big improvement. How did you measure it, and what would you watch for if the pipeline started "
    "to slow down again?",
    "Nice project. Tell me about a time when something you built failed in production. What happened next?",
    "Good. How would you make sure that a payment is never charged twice, even when a retry happens after a timeout?",
    "Makes sense. When the cache and the database disagree, which one wins, and how would a user notice?",
]


def _dbfs(audio: bytes) -> float:
    samples = np.frombuffer(audio, dtype=np.int16).astype(np.float32)
    if samples.size == 0:
        return -120.0
    rms = float(np.sqrt(np.mean(samples * samples)))
    return 20 * np.log10(max(rms, 1e-9) / 32768)


class TurnLog:
    """Per-turn server response latency of every call (``GET /turns``)."""

    def __init__(self) -> None:
        self.turns: list[dict[str, Any]] = []


class SeedBudgetSTT(STTService):
    """Interim transcripts every 100 ms of voiced audio; the finalized one 250 ms after the last voiced frame."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(ttfs_p99_latency=FINAL_AFTER_S, settings=STTSettings(model=None, language=None), **kwargs)
        self._turn = 0
        self._speech_s = 0.0
        self._since_interim = 0.0
        self._final_task: asyncio.Task[None] | None = None
        #: When the last voiced frame arrived (the end of the user's speech once the final is sent).
        self.last_voiced: float | None = None
        self.speech_end: float | None = None

    async def run_stt(self, audio: bytes) -> AsyncGenerator[Frame | None, None]:
        seconds = len(audio) / 2 / self.sample_rate
        now = time.monotonic()
        if _dbfs(audio) > VOICE_DBFS:
            self.last_voiced = now
            self._speech_s += seconds
            self._since_interim += seconds
            if self._final_task is not None:
                self._final_task.cancel()
                self._final_task = None
            if self._since_interim >= INTERIM_EVERY_S:
                self._since_interim = 0.0
                heard = max(1, int(self._speech_s * WORDS_PER_SECOND))
                yield InterimTranscriptionFrame(" ".join(["word"] * heard), "", time_now_iso8601())
        elif self._speech_s > 0 and self._final_task is None and self.last_voiced is not None:
            self._final_task = self.create_task(self._final(self.last_voiced))
        yield None

    async def _final(self, last_voiced: float) -> None:
        delay = last_voiced + FINAL_AFTER_S - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        self._turn += 1
        self.speech_end = last_voiced
        text = f"answer number {self._turn} " + " ".join(["word"] * max(1, int(self._speech_s * WORDS_PER_SECOND)))
        self._speech_s = 0.0
        self._since_interim = 0.0
        self._final_task = None
        frame = TranscriptionFrame(text, "", time_now_iso8601())
        frame.finalized = True
        await self.push_frame(frame)


class SeedBudgetLLM(FrameProcessor):
    """Answers each ``LLMContextFrame``: the first token after 800 ms, then 40 tokens a second."""

    def __init__(self) -> None:
        super().__init__()
        self._turn = 0
        self._task: asyncio.Task[None] | None = None

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, LLMContextFrame):
            await self._stop()
            self._task = self.create_task(self._reply())
            return
        if isinstance(frame, InterruptionFrame):
            await self._stop()
        await self.push_frame(frame, direction)

    async def _stop(self) -> None:
        if self._task is not None:
            await self.cancel_task(self._task)
            self._task = None

    async def _reply(self) -> None:
        start = time.monotonic()
        text = REPLIES[self._turn % len(REPLIES)]
        self._turn += 1
        tokens = re.findall(r"\S+\s*", text)
        await asyncio.sleep(LLM_FIRST_TOKEN_S)
        await self.push_frame(LLMFullResponseStartFrame())
        for index, token in enumerate(tokens):
            delay = start + LLM_FIRST_TOKEN_S + index / LLM_TOKENS_PER_S - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await self.push_frame(LLMTextFrame(token))
        await self.push_frame(LLMFullResponseEndFrame())


class SeedBudgetTTS(TTSService):
    """eSpeak NG speech, the first chunk 300 ms after the request, the rest at four times real time."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(settings=TTSSettings(model=None, voice=None, language=None), **kwargs)
        self._engine = EspeakEngine.shared()
        self._resampler = create_stream_resampler()

    def can_generate_metrics(self) -> bool:
        return False

    async def run_tts(self, text: str, context_id: str) -> AsyncGenerator[Frame | None, None]:
        start = time.monotonic()
        loop = asyncio.get_running_loop()
        samples = await loop.run_in_executor(self._engine.executor, self._engine.synthesize, text)
        rate = self._engine.sample_rate
        chunk = int(rate * TTS_CHUNK_S)
        for index, offset in enumerate(range(0, len(samples), chunk)):
            delay = start + TTS_FIRST_AUDIO_S + index * TTS_CHUNK_S / TTS_SPEED - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            pcm = np.ascontiguousarray(samples[offset : offset + chunk], dtype=np.int16).tobytes()
            audio = await self._resampler.resample(pcm, rate, self.sample_rate)
            yield TTSAudioRawFrame(audio=audio, sample_rate=self.sample_rate, num_channels=1, context_id=context_id)


class ResponseClock(FrameProcessor):
    """After the output transport: notes the server response latency of each turn."""

    def __init__(self, stt: SeedBudgetSTT, log: TurnLog, call: str) -> None:
        super().__init__()
        self._stt = stt
        self._log = log
        self._call = call
        self._noted_end: float | None = None

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, BotStartedSpeakingFrame):
            end = self._stt.speech_end
            if end is not None and end != self._noted_end:
                self._noted_end = end
                now = time.monotonic()
                self._log.turns.append({"call": self._call, "at": now, "response_ms": round((now - end) * 1000, 1)})
        await self.push_frame(frame, direction)


async def run_bot(connection: Any, log: TurnLog) -> None:
    """One call: Pipecat's pipeline on the connection until the client goes."""
    transport = SmallWebRTCTransport(
        webrtc_connection=connection,
        params=TransportParams(audio_in_enabled=True, audio_out_enabled=True),
    )
    stt = SeedBudgetSTT()
    llm = SeedBudgetLLM()
    tts = SeedBudgetTTS()
    context = LLMContext([{"role": "system", "content": "You are a job interviewer."}])
    aggregators = LLMContextAggregatorPair(
        context,
        user_params=LLMUserAggregatorParams(
            vad_analyzer=SileroVADAnalyzer(),
            user_turn_strategies=UserTurnStrategies(
                stop=[SpeechTimeoutUserTurnStopStrategy(user_speech_timeout=USER_SPEECH_TIMEOUT_S)]
            ),
        ),
    )
    clock = ResponseClock(stt, log, connection.pc_id)
    pipeline = Pipeline(
        [transport.input(), stt, aggregators.user(), llm, tts, transport.output(), clock, aggregators.assistant()]
    )
    worker = PipelineWorker(
        pipeline,
        params=PipelineParams(audio_out_sample_rate=OUT_SAMPLE_RATE),
        enable_rtvi=False,
        idle_timeout_secs=None,
    )

    @transport.event_handler("on_client_disconnected")
    async def on_client_disconnected(transport: Any, client: Any) -> None:
        await worker.cancel()

    runner = WorkerRunner(handle_sigint=False)
    await runner.add_workers(worker)
    await runner.run()


HANDLER = web.AppKey("handler", SmallWebRTCRequestHandler)
TURNS = web.AppKey("turns", TurnLog)
BOTS = web.AppKey("bots", set)


async def offer(request: web.Request) -> web.Response:
    """POST /offer: ``{sdp, type}`` in, the answer (with ``pc_id``) out."""
    body = await request.json()
    app = request.app

    async def start(connection: Any) -> None:
        task = asyncio.get_running_loop().create_task(run_bot(connection, app[TURNS]))
        app[BOTS].add(task)
        task.add_done_callback(app[BOTS].discard)

    answer = await app[HANDLER].handle_web_request(
        SmallWebRTCRequest(sdp=body["sdp"], type=body["type"]), webrtc_connection_callback=start
    )
    return web.json_response(answer)


async def healthz(request: web.Request) -> web.Response:
    """GET /healthz."""
    return web.json_response({"ok": True, "bots": len(request.app[BOTS])})


async def turns(request: web.Request) -> web.Response:
    """GET /turns: the response latency of every turn so far."""
    return web.json_response({"turns": request.app[TURNS].turns})


async def _shutdown(app: web.Application) -> None:
    await app[HANDLER].close()
    for task in list(app[BOTS]):
        task.cancel()


def create_app() -> web.Application:
    """The bot's aiohttp application."""
    app = web.Application()
    app[HANDLER] = SmallWebRTCRequestHandler(ice_servers=[])
    app[TURNS] = TurnLog()
    app[BOTS] = set()
    app.router.add_post("/offer", offer)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/turns", turns)
    app.on_shutdown.append(_shutdown)
    return app


def main() -> None:
    """Serve on 127.0.0.1 until interrupted."""
    parser = argparse.ArgumentParser(description="a Pipecat bot with the seed-budget timing")
    parser.add_argument("--port", type=int, default=8091)
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args()
    logger.remove()
    logger.add(sys.stderr, level=args.log_level)
    web.run_app(create_app(), host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
