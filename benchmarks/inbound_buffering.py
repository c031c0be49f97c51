"""Inbound buffering: how long a candidate's packet waits between arriving and its audio reaching the VAD.

Two aiortc peers on 127.0.0.1 in this process: one sends a recorded answer (eSpeak speech and silence) on the
paced 20 ms clock, as the loopback client does; the other receives it as the server does, with aiortc's own
audio jitter buffer (``JitterBuffer(capacity=16, prefetch=4)``) or with ``SpeechJitterBuffer``
(``INBOUND_JITTER_BUFFER=speech``, the default). For every packet it records the moment the receiver got it
(``RTCRtpReceiver._handle_rtp_packet``) and the moment its decoded audio came out of ``track.recv()``, which
is where the server hands the audio to the resampler and the VAD, and reports the delay between the two, and
how much of the audio arrived (the damage). Each buffer runs on a clean path and on an impaired one: the
receiving side drops 2% of packets and holds back 2% by 30 ms (so they arrive out of order).

    .venv/bin/python benchmarks/inbound_buffering.py [--seconds 12]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiortc import RTCPeerConnection
from aiortc.rtcrtpreceiver import RTCRtpReceiver

from benchmarks.common import write_result
from benchmarks.seed_budget import ANSWERS
from signaling.aiortc_patches import restrict_host_addresses, rtc_configuration, use_speech_jitter_buffer
from signaling.client.audio import speak
from signaling.client.webrtc import MicrophoneTrack

IMPAIRED = {"drop": 0.02, "delay": 0.02, "delay_s": 0.03}


class ArrivalLog:
    """Arrival times of packets by their (mapped) RTP timestamp, with an optional impaired path in front."""

    def __init__(self, drop: float = 0.0, delay: float = 0.0, delay_s: float = 0.0, seed: int = 7) -> None:
        self.drop, self.delay, self.delay_s = drop, delay, delay_s
        self.random = random.Random(seed)
        self.arrived: dict[int, float] = {}
        self.origin: int | None = None
        self.sent = 0
        self.dropped = 0

    def install(self, receiver: RTCRtpReceiver) -> None:
        """Put the (impaired) path and the arrival log in front of the receiver."""
        original = receiver._handle_rtp_packet

        async def arrive(packet: Any, arrival_time_ms: int) -> None:
            if self.origin is None:
                self.origin = packet.timestamp
            self.arrived[(packet.timestamp - self.origin) % (1 << 32)] = time.monotonic()
            await original(packet, arrival_time_ms)

        async def late(packet: Any, arrival_time_ms: int) -> None:
            await asyncio.sleep(self.delay_s)  # this packet only: the ones behind it overtake it
            await arrive(packet, arrival_time_ms)

        async def handle(packet: Any, arrival_time_ms: int) -> None:
            self.sent += 1
            roll = self.random.random()
            if roll < self.drop:
                self.dropped += 1
            elif roll < self.drop + self.delay:
                asyncio.get_running_loop().create_task(late(packet, arrival_time_ms))
            else:
                await arrive(packet, arrival_time_ms)

        receiver._handle_rtp_packet = handle  # type: ignore[method-assign]


async def measure(speech_buffer: bool, impaired: bool, seconds: float) -> dict[str, Any]:
    """One sender, one receiver, ``seconds`` of answers and pauses; the delay of every frame."""
    use_speech_jitter_buffer(speech_buffer)
    sender, receiver = RTCPeerConnection(rtc_configuration([])), RTCPeerConnection(rtc_configuration([]))
    mic = MicrophoneTrack()
    log = ArrivalLog(**(IMPAIRED if impaired else {}))
    delays: list[float] = []
    samples = 0
    done = asyncio.Event()

    @receiver.on("track")
    def on_track(track: Any) -> None:
        async def consume() -> None:
            nonlocal samples
            while not done.is_set():
                try:
                    frame = await track.recv()
                except Exception:
                    return
                now = time.monotonic()
                samples += frame.samples
                arrived = log.arrived.get(frame.pts)
                if arrived is not None:
                    delays.append(now - arrived)

        asyncio.get_running_loop().create_task(consume())

    try:
        sender.addTrack(mic)
        await sender.setLocalDescription(await sender.createOffer())
        await receiver.setRemoteDescription(sender.localDescription)
        log.install(receiver.getTransceivers()[0].receiver)
        await receiver.setLocalDescription(await receiver.createAnswer())
        await sender.setRemoteDescription(receiver.localDescription)
        started = time.monotonic()
        n = 0
        while time.monotonic() - started < seconds:
            await mic.play(speak(ANSWERS[n % len(ANSWERS)]))
            n += 1
        done.set()
    finally:
        await sender.close()
        await receiver.close()
    data = np.asarray(delays) * 1000
    return {
        "buffer": "speech" if speech_buffer else "aiortc",
        "path": "impaired" if impaired else "clean",
        "packets_sent": log.sent,
        "packets_dropped_on_the_path": log.dropped,
        "frames_measured": int(data.size),
        "delay_ms": {
            "p50": round(float(np.percentile(data, 50)), 1),
            "p95": round(float(np.percentile(data, 95)), 1),
            "max": round(float(data.max()), 1),
        },
        "audio_delivered_share": round(samples / 960 / max(1, log.sent), 4),
    }


def main() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description="delay from packet arrival to the VAD, per jitter buffer")
    parser.add_argument("--seconds", type=float, default=12.0)
    args = parser.parse_args()
    restrict_host_addresses(["127.0.0.1"])
    runs = []
    for impaired in (False, True):
        for speech in (False, True):
            runs.append(asyncio.run(measure(speech, impaired, args.seconds)))
    use_speech_jitter_buffer(True)
    path = write_result("inbound_buffering", {"seconds": args.seconds, "impairment": IMPAIRED, "runs": runs})
    print("\ninbound buffering: packet arrival to audio at the VAD (ms)")
    print(f"{'buffer':<8}{'path':<10}{'p50':>8}{'p95':>8}{'max':>8}{'audio delivered':>17}")
    for r in runs:
        d = r["delay_ms"]
        share = f"{r['audio_delivered_share'] * 100:.1f}%"
        print(f"{r['buffer']:<8}{r['path']:<10}{d['p50']:>8}{d['p95']:>8}{d['max']:>8}{share:>17}")
    print(f"written to {path}")
    return {"runs": runs}


if __name__ == "__main__":
    main()
