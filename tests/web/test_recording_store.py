"""The recording store: what a call's recorder wrote is what the interview lists and what is served."""

from __future__ import annotations

import av
import numpy as np

from web.recording_store import FolderRecordingStore

INTERVIEW = "0b6f4c1e-5c7d-4a51-9d55-2f0e1b7c9a10"


async def record(store: FolderRecordingStore, call_id: str, seconds: float) -> None:
    """A call of ``seconds`` of agent audio (a tone), recorded through the store."""
    recorder = store.recorder(INTERVIEW, call_id)
    await recorder.start()
    tone = (8000 * np.sin(2 * np.pi * 440 * np.arange(960) / 48000)).astype(np.int16)
    for _ in range(int(seconds / 0.02)):
        recorder.add_agent_frame(tone)
    await recorder.close()


async def test_an_interview_lists_its_calls_oldest_first_and_finds_the_latest_or_one_call(tmp_path):
    store = FolderRecordingStore(tmp_path / "recordings")
    await record(store, "aaaaaa01", 1.0)
    await record(store, "bbbbbb02", 0.5)

    first, second = store.recordings(INTERVIEW)
    assert (first.call_id, second.call_id) == ("aaaaaa01", "bbbbbb02")
    assert first.size == first.path.stat().st_size > 0
    with av.open(str(first.path)) as container:
        stream = container.streams.audio[0]
        assert stream.codec_context.name == "opus" and stream.channels == 2
        seconds = sum(frame.samples for frame in container.decode(audio=0)) / 48000
    assert abs(seconds - 1.0) < 0.1

    assert store.find(INTERVIEW) == second
    assert store.find(INTERVIEW, "aaaaaa01") == first
    assert store.find(INTERVIEW, "cccccc03") is None


def test_an_interview_without_recordings_has_none_and_nothing_is_created(tmp_path):
    store = FolderRecordingStore(tmp_path / "recordings")
    store.recorder(INTERVIEW, "aaaaaa01")  # not started: it writes nothing
    assert store.recordings(INTERVIEW) == [] and store.find(INTERVIEW) is None
    assert not (tmp_path / "recordings").exists()
