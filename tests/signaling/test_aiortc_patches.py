"""The library patches of signaling/aiortc_patches.py still fit the libraries they patch."""

import inspect

import aioice.ice
import pytest
from aiortc import RTCPeerConnection
from aiortc.rtcicetransport import RTCIceGatherer

from signaling import aiortc_patches
from signaling.aiortc_patches import parse_ice_servers, restrict_host_addresses, rtc_configuration


def test_the_patched_aioice_function_keeps_its_shape():
    original = aiortc_patches._original_get_host_addresses
    assert list(inspect.signature(original).parameters) == ["use_ipv4", "use_ipv6"]
    assert "get_host_addresses(" in inspect.getsource(aioice.ice.Connection.gather_candidates)


def test_aiortc_still_falls_back_to_a_public_stun_server_so_we_always_pass_a_list():
    assert RTCIceGatherer.getDefaultIceServers()[0].urls.startswith("stun:")
    assert rtc_configuration([]).iceServers == []


async def test_an_offer_only_carries_the_configured_host_address_and_no_stun():
    restrict_host_addresses(["127.0.0.1"])
    pc = RTCPeerConnection(rtc_configuration([]))
    try:
        pc.addTransceiver("audio")
        await pc.setLocalDescription(await pc.createOffer())
        candidates = [line for line in pc.localDescription.sdp.splitlines() if line.startswith("a=candidate:")]
        assert candidates and all(" 127.0.0.1 " in c and " typ host" in c for c in candidates)
        connection = pc.getTransceivers()[0].sender.transport.transport.iceGatherer._connection
        assert connection.stun_server is None and connection.turn_server is None
    finally:
        await pc.close()


def test_addresses_are_validated_and_filtered_by_family():
    with pytest.raises(ValueError):
        restrict_host_addresses(["not-an-ip"])
    restrict_host_addresses(["127.0.0.1", "::1"])
    assert aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=False) == ["127.0.0.1"]
    assert aioice.ice.get_host_addresses(use_ipv4=False, use_ipv6=True) == ["::1"]
    restrict_host_addresses(["127.0.0.1"])


def test_ice_servers_setting():
    assert parse_ice_servers("") == []
    servers = parse_ice_servers('[{"urls": "turn:turn.example.org:3478", "username": "u", "credential": "p"}]')
    config = rtc_configuration(servers)
    assert config.iceServers[0].urls == "turn:turn.example.org:3478" and config.iceServers[0].username == "u"
    with pytest.raises(ValueError):
        parse_ice_servers('{"urls": "stun:x"}')


def test_aiortc_still_builds_its_audio_jitter_buffer_where_the_patch_replaces_it():
    import aiortc.rtcrtpreceiver

    source = inspect.getsource(aiortc.rtcrtpreceiver.RTCRtpReceiver.__init__)
    assert "JitterBuffer(capacity=16, prefetch=4)" in source
    assert "self.__jitter_buffer.add(packet)" in inspect.getsource(aiortc.rtcrtpreceiver.RTCRtpReceiver)


async def test_new_audio_receivers_get_the_speech_jitter_buffer_and_video_keeps_aiortcs():
    from aiortc.jitterbuffer import JitterBuffer

    from signaling.jitter_buffer import SpeechJitterBuffer

    aiortc_patches.use_speech_jitter_buffer(True)
    pc = RTCPeerConnection(rtc_configuration([]))
    try:
        audio = pc.addTransceiver("audio").receiver
        video = pc.addTransceiver("video").receiver
        assert isinstance(audio._RTCRtpReceiver__jitter_buffer, SpeechJitterBuffer)
        assert isinstance(video._RTCRtpReceiver__jitter_buffer, JitterBuffer)
        aiortc_patches.use_speech_jitter_buffer(False)
        plain = pc.addTransceiver("audio").receiver
        assert isinstance(plain._RTCRtpReceiver__jitter_buffer, JitterBuffer)
    finally:
        aiortc_patches.use_speech_jitter_buffer(True)
        await pc.close()
