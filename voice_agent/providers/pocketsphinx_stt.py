"""pocketsphinx: the light streaming speech-to-text alternative (no model download, partial results).

Why a separate process: pocketsphinx's decoder does **not** release the GIL. Decoding in a thread of the
server process stalled the event loop for about a second at ``end_utt()`` of a 25 s answer, which freezes
every call's audio, signaling and timers. So all decoding happens in one worker process started with the
``spawn`` method; each stream's decoder (``pocketsphinx.Decoder``, its search state and acoustic
normalisation) lives there, keyed by a stream id. The event loop only ever:

- queues commands (``open``, ``audio``, ``finalize``, ``close``, ``stop``) for a *sender thread* that writes
  them to the worker's command pipe, so a busy worker with a full pipe can never block the loop;
- receives results (``ready``, ``interim``, ``final``, ``failed``) from a *reader thread* that blocks on the
  result pipe and hands each message to the loop with ``loop.call_soon_threadsafe``.

Both threads spend their time in ``read``/``write`` system calls, which release the GIL.

If the worker dies, every stream still waiting for a final gets one with the last interim text it heard (an
empty string if none), streams opened on it answer ``finalize()`` the same way at once, and the next
``open_stream()`` starts a fresh worker.

Memory: one pocketsphinx decoder with the bundled US English model takes about 90 MB and about 0.5 s of CPU
to load. The worker keeps one idle decoder ready (loaded while no command is waiting) and keeps up to two
decoders of closed streams for reuse, so opening a stream does not usually pay the load time. A reused
decoder carries over its cepstral mean normalisation, which helps rather than hurts.

All audio pushed is decoded, whatever the VAD said about it (``is_speech`` is ignored): pocketsphinx does
its own silence handling and its normalisation needs the background too.

The worker is started with ``spawn``, so the program's main module must guard its entry point with
``if __name__ == "__main__":`` (the child re-imports it).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import multiprocessing
import queue
import threading
from multiprocessing.connection import Connection
from typing import Any

from voice_agent.providers.base import STT_SAMPLE_RATE, QueueSttStream, SttStream, Transcript

logger = logging.getLogger(__name__)

#: Bytes per millisecond of 16 kHz mono s16 audio.
_BYTES_PER_MS = STT_SAMPLE_RATE * 2 // 1000
#: Audio is sent to the worker in batches of at least this many milliseconds (``finalize`` flushes the rest).
_BATCH_MS = 100
#: Idle decoders the worker keeps for the next streams (each is about 90 MB). Two, so that a call opening one
#: stream per utterance reuses the decoder of the previous one instead of loading a spare each time.
_MAX_IDLE_DECODERS = 2
_START_TIMEOUT_S = 60.0
_STOP_TIMEOUT_S = 5.0


# --------------------------------------------------------------------------------------------------------
# The worker process
# --------------------------------------------------------------------------------------------------------


class _Utterance:
    """Worker-side state of one stream: its decoder and what it last reported."""

    __slots__ = ("decoder", "in_utt", "last_text", "since_interim")

    def __init__(self, decoder: Any) -> None:
        self.decoder = decoder
        self.in_utt = False
        self.last_text = ""
        self.since_interim = 0


def _hyp_text(decoder: Any) -> str:
    hyp = decoder.hyp()
    return "" if hyp is None else " ".join(hyp.hypstr.split())


def _worker_main(commands: Connection, results: Connection, interim_interval_ms: int) -> None:
    """Entry point of the worker process: decode the audio of every stream, one decoder per stream.

    Runs until it receives ``("stop",)`` or the command pipe closes (the parent went away).
    """
    import signal

    # Ctrl-C reaches the whole process group: let the parent shut the worker down in order.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from pocketsphinx import Decoder

    def new_decoder() -> Any:
        return Decoder(samprate=STT_SAMPLE_RATE, loglevel="ERROR")

    idle: list[Any] = [new_decoder()]
    streams: dict[int, _Utterance] = {}
    interval_bytes = max(2, interim_interval_ms * _BYTES_PER_MS // 2 * 2)
    results.send(("ready",))

    def feed(sid: int, state: _Utterance, data: bytes) -> None:
        if not state.in_utt:
            state.decoder.start_utt()
            state.in_utt = True
            state.last_text = ""
            state.since_interim = 0
        pos = 0
        while pos < len(data):
            take = min(interval_bytes - state.since_interim, len(data) - pos)
            state.decoder.process_raw(data[pos : pos + take], full_utt=False)
            pos += take
            state.since_interim += take
            if state.since_interim >= interval_bytes:
                state.since_interim = 0
                text = _hyp_text(state.decoder)
                if text != state.last_text:
                    state.last_text = text
                    if text:
                        results.send(("interim", sid, text))

    def finish(sid: int, state: _Utterance) -> None:
        text = ""
        if state.in_utt:
            state.decoder.end_utt()
            state.in_utt = False
            text = _hyp_text(state.decoder)
        state.last_text = ""
        results.send(("final", sid, text))

    def release(state: _Utterance) -> None:
        try:
            if state.in_utt:
                state.decoder.end_utt()
        except Exception:
            return  # a decoder in an unknown state is not reused
        if len(idle) < _MAX_IDLE_DECODERS:
            idle.append(state.decoder)

    while True:
        if not idle and not commands.poll(0):
            idle.append(new_decoder())  # keep one ready while nothing is waiting
        try:
            message = commands.recv()
        except (EOFError, OSError):
            break
        kind = message[0]
        if kind == "stop":
            break
        sid = message[1]
        try:
            if kind == "open":
                streams[sid] = _Utterance(idle.pop() if idle else new_decoder())
            elif kind == "audio":
                state = streams.get(sid)
                if state is not None:
                    feed(sid, state, message[2])
            elif kind == "finalize":
                state = streams.get(sid)
                if state is not None:
                    finish(sid, state)
            elif kind == "close":
                state = streams.pop(sid, None)
                if state is not None:
                    release(state)
        except Exception as exc:
            streams.pop(sid, None)
            results.send(("failed", sid, f"{type(exc).__name__}: {exc}"))
    results.close()


# --------------------------------------------------------------------------------------------------------
# The asyncio side
# --------------------------------------------------------------------------------------------------------


class _Worker:
    """One worker process and the two threads that talk to it without blocking the event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, interim_interval_ms: int) -> None:
        self._loop = loop
        self._interim_interval_ms = interim_interval_ms
        self.alive = False
        self.streams: dict[int, PocketsphinxSttStream] = {}
        self._ids = itertools.count(1)
        self._outbox: queue.SimpleQueue[tuple[Any, ...] | None] = queue.SimpleQueue()
        self._ready: asyncio.Future[None] = loop.create_future()
        self._exited = False
        self._stopping = False
        ctx = multiprocessing.get_context("spawn")
        cmd_recv, self._cmd_send = ctx.Pipe(duplex=False)
        self._res_recv, res_send = ctx.Pipe(duplex=False)
        self._child_ends = (cmd_recv, res_send)
        self.process = ctx.Process(
            target=_worker_main,
            args=(cmd_recv, res_send, interim_interval_ms),
            name="pocketsphinx-stt",
            daemon=True,
        )
        self._reader = threading.Thread(target=self._read_results, name="pocketsphinx-stt-reader", daemon=True)
        self._sender = threading.Thread(target=self._send_commands, name="pocketsphinx-stt-sender", daemon=True)

    async def start(self) -> None:
        """Spawn the process (from the reader thread) and wait until its first decoder is loaded."""
        self.alive = True
        self._reader.start()
        self._sender.start()
        try:
            await asyncio.wait_for(asyncio.shield(self._ready), _START_TIMEOUT_S)
        except BaseException:
            await self.stop()
            raise

    def send(self, message: tuple[Any, ...]) -> None:
        """Queue a command for the worker; never blocks."""
        if self.alive:
            self._outbox.put(message)

    def open_stream(self) -> PocketsphinxSttStream:
        """Register a new stream and ask the worker for its decoder."""
        sid = next(self._ids)
        stream = PocketsphinxSttStream(self, sid, self._interim_interval_ms)
        self.streams[sid] = stream
        self.send(("open", sid))
        if not self.alive:
            stream._worker_lost()
        return stream

    async def stop(self) -> None:
        """Ask the worker to stop, kill it if it does not, reap it and let the threads end."""
        self._stopping = True
        self.send(("stop",))
        self._outbox.put(None)
        if self._reader.ident is not None:
            # The reader reaps the process once the worker's end of the result pipe closes.
            await asyncio.to_thread(self._reader.join, _STOP_TIMEOUT_S)
            if self._reader.is_alive() and self.process.pid is not None:
                logger.warning("pocketsphinx worker did not stop: killing it")
                self.process.kill()
                await asyncio.to_thread(self._reader.join, _STOP_TIMEOUT_S)
        if self._sender.ident is not None:
            await asyncio.to_thread(self._sender.join, _STOP_TIMEOUT_S)
        if not self._reader.is_alive():
            for end in (self._cmd_send, self._res_recv, *self._child_ends):
                end.close()
        self._on_exit()

    # threads -------------------------------------------------------------------------------------------

    def _send_commands(self) -> None:
        while True:
            message = self._outbox.get()
            if message is None:
                return
            try:
                self._cmd_send.send(message)
            except (OSError, ValueError):
                return  # the worker is gone; the reader reports it

    def _read_results(self) -> None:
        """Start the process, then forward its results to the loop until its end of the pipe closes."""
        try:
            self.process.start()  # here rather than on the loop: spawning takes a few milliseconds
            for end in self._child_ends:
                end.close()  # only the child holds them now: its exit closes the pipe and wakes us up
            while True:
                self._call_soon(self._dispatch, self._res_recv.recv())
        except (EOFError, OSError):
            pass
        except Exception:
            logger.exception("pocketsphinx worker failed to start")
        finally:
            # The worker is exiting or dead: reap it here, off the event loop.
            if self.process.pid is not None:
                self.process.join(_STOP_TIMEOUT_S)
            self._call_soon(self._on_exit)

    def _call_soon(self, callback: Any, *args: Any) -> None:
        try:
            self._loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:
            pass  # the loop is closed

    # event loop callbacks ------------------------------------------------------------------------------

    def _dispatch(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "ready":
            if not self._ready.done():
                self._ready.set_result(None)
            return
        stream = self.streams.get(message[1])
        if stream is None:
            return
        if kind == "interim":
            stream._on_interim(message[2])
        elif kind == "final":
            stream._on_final(message[2])
        elif kind == "failed":
            logger.warning("pocketsphinx stream %s failed: %s", message[1], message[2])
            stream._worker_lost()

    def _on_exit(self) -> None:
        if self._exited:
            return
        self._exited = True
        self.alive = False
        self._outbox.put(None)
        if not self._ready.done():
            self._ready.set_exception(RuntimeError(f"pocketsphinx worker exited ({self.process.exitcode})"))
            self._ready.exception()  # retrieved: no "never retrieved" warning if nobody awaits it
        elif not self._stopping:
            logger.warning("pocketsphinx worker died (exit code %s)", self.process.exitcode)
        for stream in list(self.streams.values()):
            stream._worker_lost()


class PocketsphinxSttStream(QueueSttStream):
    """One stream decoded by the worker: interim transcripts while audio arrives, one final per
    ``finalize()``. Pushing audio after a final starts a new utterance on the same decoder."""

    def __init__(self, worker: _Worker, stream_id: int, interim_interval_ms: int) -> None:
        super().__init__()
        self._worker = worker
        self._id = stream_id
        self._buffer = bytearray()
        self._batch_bytes = min(_BATCH_MS, max(20, interim_interval_ms)) * _BYTES_PER_MS
        self._last_text = ""
        self._finalizing = False
        self._lost = False

    def push(self, pcm16k: bytes, is_speech: bool = True) -> None:
        """Queue 16 kHz mono s16 audio; it goes to the worker in batches of about 100 ms."""
        if self._closed or self._lost:
            return
        self._buffer += pcm16k
        if len(self._buffer) >= self._batch_bytes:
            self._flush()

    async def finalize(self) -> None:
        """Send what is buffered and ask for the final transcript (it arrives through iteration)."""
        if self._closed:
            return
        if self._lost:
            self._finish_lost()
            return
        self._flush()
        self._finalizing = True
        self._worker.send(("finalize", self._id))

    async def aclose(self) -> None:
        """Free the decoder in the worker and end iteration."""
        if not self._closed:
            self._worker.streams.pop(self._id, None)
            self._worker.send(("close", self._id))
        await super().aclose()

    def _flush(self) -> None:
        size = len(self._buffer) - len(self._buffer) % 2
        if size:
            self._worker.send(("audio", self._id, bytes(self._buffer[:size])))
            del self._buffer[:size]

    def _on_interim(self, text: str) -> None:
        self._last_text = text
        self.emit(Transcript(text, is_final=False))

    def _on_final(self, text: str) -> None:
        self._finalizing = False
        self._last_text = ""
        self.emit(Transcript(text, is_final=True))

    def _worker_lost(self) -> None:
        """The worker died (or failed on this stream): no more audio can be decoded."""
        if self._lost:
            return
        self._lost = True
        self._buffer.clear()
        self._worker.streams.pop(self._id, None)
        if self._finalizing:
            self._finish_lost()

    def _finish_lost(self) -> None:
        if self._closed:
            return
        self._finalizing = False
        self.emit(Transcript(self._last_text, is_final=True))
        self._closed = True  # nothing else can come: end iteration after the final
        self._results.put_nowait(self._END)


class PocketsphinxSpeechToText:
    """Streaming speech-to-text with pocketsphinx, decoded in one worker process shared by all streams.

    ``interim_interval_ms``: how much audio the worker decodes between two looks at the partial hypothesis
    (an interim transcript is sent only when its text changed).
    """

    name = "pocketsphinx"
    embedded = True
    streaming = True

    def __init__(self, interim_interval_ms: int = 300) -> None:
        if interim_interval_ms <= 0:
            raise ValueError("interim_interval_ms must be positive")
        self.interim_interval_ms = interim_interval_ms
        self._worker: _Worker | None = None
        self._lock = asyncio.Lock()

    @property
    def worker_pid(self) -> int | None:
        """Process id of the current worker (None when none runs)."""
        worker = self._worker
        return worker.process.pid if worker is not None and worker.alive else None

    async def start(self) -> None:
        """Start the worker process (if it does not run) and wait until its decoder is loaded."""
        async with self._lock:
            await self._running_worker()

    async def _running_worker(self) -> _Worker:
        """The live worker, started (or restarted after it died) if need be. Call with the lock held."""
        if self._worker is not None and self._worker.alive:
            return self._worker
        if self._worker is not None:
            old, self._worker = self._worker, None
            await old.stop()  # reap the dead one
        worker = _Worker(asyncio.get_running_loop(), self.interim_interval_ms)
        await worker.start()
        self._worker = worker
        return worker

    async def aclose(self) -> None:
        """Stop the worker and reap it; open streams waiting for a final get one."""
        async with self._lock:
            if self._worker is not None:
                worker, self._worker = self._worker, None
                await worker.stop()

    async def open_stream(self) -> SttStream:
        """Open a stream on the worker, (re)starting the worker if it is not running."""
        async with self._lock:
            worker = await self._running_worker()
            return worker.open_stream()
