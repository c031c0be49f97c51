"""The transport's share of the turn knobs (``TurnOptions``) reaches what it tunes."""

from __future__ import annotations

from aiortc import RTCPeerConnection

from signaling import aiortc_patches
from signaling.jitter_buffer import SpeechJitterBuffer
from signaling.tracks import opus_encoder
from voice_agent.turn_options import TurnOptions


def test_the_opus_complexity_is_the_encoders():
    assert opus_encoder(8).options["compression_level"] == "8"
    assert opus_encoder().options["compression_level"] == str(TurnOptions().opus_complexity)


async def test_new_receivers_hold_the_configured_reorder_wait():
    assert SpeechJitterBuffer().reorder_packets == TurnOptions().jitter_reorder_packets
    aiortc_patches.use_speech_jitter_buffer(True, reorder_packets=3)
    pc = RTCPeerConnection()
    try:
        receiver = pc.addTransceiver("audio").receiver
        buffer = aiortc_patches.speech_buffer_of(receiver)
        assert buffer is not None and buffer.reorder_packets == 3
    finally:
        aiortc_patches.use_speech_jitter_buffer(True)
        await pc.close()
