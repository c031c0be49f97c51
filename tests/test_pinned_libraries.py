"""The libraries the code reaches inside of are the versions it was written against, and still have the parts
it uses.

``signaling/aiortc_patches.py`` replaces private functions of aioice and aiortc, and the server's track and
jitter buffer lean on aiortc's sender and receiver internals; ``voice_agent/providers/whisper_stt.py`` drives
faster-whisper's model pieces (feature extractor, encoder, prompt, CTranslate2 ``generate``) instead of its
``transcribe``. So ``pyproject.toml`` pins those three with ``~=`` to a minor version, and this test fails when the
installed version leaves the pin or when one of the parts is gone or changed shape: a library upgrade is caught
here, not in a call.
"""

from __future__ import annotations

import inspect
import re
import tomllib
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pytest

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
#: The pinned libraries and the minor version the code is written against.
WRITTEN_AGAINST = {"aiortc": (1, 16), "aioice": (0, 13), "faster-whisper": (1, 2)}


def pins() -> dict[str, str]:
    """``name -> version`` of every ``~=`` pin in the project's dependencies."""
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    found = {}
    for requirement in dependencies:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*~=\s*([0-9.]+)", requirement)
        if match:
            found[match[1].lower()] = match[2]
    return found


def release(text: str) -> tuple[int, ...]:
    """The numeric release of a version string ("1.16.0" -> (1, 16, 0); a suffix such as "rc1" is dropped)."""
    return tuple(int(part) for part in re.match(r"[0-9]+(?:\.[0-9]+)*", text)[0].split("."))


@pytest.mark.parametrize("name", list(WRITTEN_AGAINST))
def test_the_library_is_pinned_to_the_minor_version_the_code_is_written_against(name: str) -> None:
    pinned = release(pins()[name])
    assert len(pinned) == 3 and pinned[:2] == WRITTEN_AGAINST[name], f"{name} is pinned ~={pins()[name]}"


@pytest.mark.parametrize("name", list(WRITTEN_AGAINST))
def test_the_installed_version_is_inside_the_pin(name: str) -> None:
    pinned, installed = release(pins()[name]), release(version(name))
    # ``~=X.Y.Z``: at least X.Y.Z, and the same X.Y.
    assert installed[:2] == pinned[:2] and installed >= pinned, f"{name} {version(name)} is outside ~={pins()[name]}"


def test_aioice_still_gathers_host_candidates_through_the_functions_the_patches_replace() -> None:
    import aioice.ice

    from signaling import aiortc_patches

    # restrict_host_addresses: a module function, looked up by name when candidates are gathered.
    original = aiortc_patches._original_get_host_addresses
    assert list(inspect.signature(original).parameters) == ["use_ipv4", "use_ipv6"]
    assert "get_host_addresses(" in inspect.getsource(aioice.ice.Connection.gather_candidates)
    # restrict_port_range: ``aioice.ice.asyncio.get_running_loop()`` binds each host socket to an ephemeral port.
    assert hasattr(aioice.ice, "asyncio")
    source = inspect.getsource(aioice.ice.Connection.get_component_candidates)
    assert "asyncio.get_running_loop()" in source and "local_addr=(address, 0)" in source


def test_aiortc_still_has_the_parts_the_patches_and_the_media_path_use() -> None:
    import aiortc.rtcrtpreceiver
    import aiortc.rtcrtpsender
    from aiortc.jitterbuffer import JitterBuffer, JitterFrame
    from aiortc.rtcicetransport import RTCIceGatherer

    # use_speech_jitter_buffer: the receiver builds its buffer from the module-level name, then adds packets.
    assert hasattr(aiortc.rtcrtpreceiver, "JitterBuffer")
    assert list(inspect.signature(JitterBuffer).parameters) == ["capacity", "prefetch", "is_video"]
    receiver = inspect.getsource(aiortc.rtcrtpreceiver.RTCRtpReceiver)
    assert "self.__jitter_buffer = JitterBuffer(capacity=16, prefetch=4)" in receiver
    assert "pli_flag, encoded_frame = self.__jitter_buffer.add(packet)" in receiver
    # speech_buffer_of reads the private attribute of that name; SpeechJitterBuffer builds JitterFrames.
    assert list(inspect.signature(JitterFrame).parameters) == ["data", "timestamp"]
    # rtc_configuration always passes a list because aiortc falls back to a public STUN server.
    assert RTCIceGatherer.getDefaultIceServers()[0].urls.startswith("stun:")
    # PacedAudioTrack(encode=True) returns av.Packets, which the sender packs as they are.
    assert "self.__encoder.pack(data)" in inspect.getsource(aiortc.rtcrtpsender.RTCRtpSender._next_encoded_frame)


async def test_a_receiver_built_by_aiortc_carries_the_speech_buffer_where_the_patch_reads_it() -> None:
    from aiortc import RTCPeerConnection

    from signaling.aiortc_patches import rtc_configuration, speech_buffer_of, use_speech_jitter_buffer

    use_speech_jitter_buffer(True)
    pc = RTCPeerConnection(rtc_configuration([]))
    try:
        assert speech_buffer_of(pc.addTransceiver("audio").receiver) is not None
    finally:
        await pc.close()


def test_faster_whisper_still_has_the_model_pieces_the_provider_drives() -> None:
    from faster_whisper import WhisperModel
    from faster_whisper.tokenizer import Tokenizer

    def parameters(function: object) -> list[str]:
        return list(inspect.signature(function).parameters)  # type: ignore[arg-type]

    assert {"device", "compute_type", "cpu_threads", "num_workers", "local_files_only"} <= set(
        parameters(WhisperModel.__init__)
    )
    assert parameters(WhisperModel.get_prompt)[:4] == ["self", "tokenizer", "previous_tokens", "without_timestamps"]
    assert parameters(WhisperModel.encode) == ["self", "features"]
    assert {"language", "beam_size", "initial_prompt", "condition_on_previous_text", "without_timestamps"} <= set(
        parameters(WhisperModel.transcribe)
    )
    assert "vad_filter" in parameters(WhisperModel.transcribe)
    assert parameters(Tokenizer.__init__) == ["self", "tokenizer", "multilingual", "task", "language"]
    assert hasattr(Tokenizer, "non_speech_tokens")
    init = inspect.getsource(WhisperModel.__init__)
    assert all(f"self.{name}" in init for name in ("hf_tokenizer", "feature_extractor", "model"))


async def test_the_short_window_decode_runs_on_the_installed_faster_whisper() -> None:
    """The provider's own path through those pieces (the bundled tiny.en): ``start()`` loads the model and warms
    it up with a short-window decode, and a second of a tone decodes to a string (CTranslate2's ``generate`` took
    the arguments, and its result has the fields the provider reads)."""
    from voice_agent.providers.whisper_stt import WhisperSpeechToText

    stt = WhisperSpeechToText()
    try:
        await stt.start()
        tone = (0.1 * np.sin(2 * np.pi * 220 * np.arange(16_000) / 16_000)).astype(np.float32)
        assert isinstance(stt.transcribe(tone, "Um, well."), str)
    finally:
        await stt.aclose()
