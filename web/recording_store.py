"""Where call recordings are kept, behind a small interface: a new call's recorder, an interview's recordings,
one of them to serve.

``FolderRecordingStore`` is the one implementation: each call of an interview is one Ogg/Opus file,
``<folder>/<interview id>/<started>-<call id>.ogg`` (a reconnect makes a second file). Nothing is created until a
call records, so with recordings switched off the folder never appears.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from signaling.recording import CallRecorder

SUFFIX = ".ogg"


@dataclass(frozen=True, slots=True)
class Recording:
    """One call's recording: the call it is of, the file to serve, and its size in bytes."""

    call_id: str
    path: Path
    size: int


class RecordingStore(Protocol):
    """What the application needs of wherever recordings are kept."""

    def recorder(self, interview_id: str, call_id: str) -> CallRecorder:
        """A recorder (not started) that writes a new recording of this call of the interview."""
        ...

    def recordings(self, interview_id: str) -> list[Recording]:
        """The interview's recordings, oldest first (none when it has none)."""
        ...

    def find(self, interview_id: str, call_id: str | None = None) -> Recording | None:
        """The interview's latest recording, or its latest of this call; None when there is none."""
        ...


class FolderRecordingStore:
    """Recordings as files in a folder, one subfolder per interview."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def recorder(self, interview_id: str, call_id: str) -> CallRecorder:
        """A recorder writing ``<interview id>/<started, UTC>-<call id>.ogg``; it makes the folders as it starts."""
        name = f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{call_id}{SUFFIX}"
        return CallRecorder(self.folder / interview_id / name)

    def recordings(self, interview_id: str) -> list[Recording]:
        """The interview's files, oldest first (their names start with the time the call started)."""
        directory = self.folder / interview_id
        if not directory.is_dir():
            return []
        return [
            Recording(call_id=path.stem.rsplit("-", 1)[-1], path=path, size=path.stat().st_size)
            for path in sorted(directory.glob(f"*{SUFFIX}"))
        ]

    def find(self, interview_id: str, call_id: str | None = None) -> Recording | None:
        """The latest file of the interview, or of its call ``call_id``."""
        found = self.recordings(interview_id)
        if call_id is not None:
            found = [r for r in found if r.path.stem.endswith(f"-{call_id}")]
        return found[-1] if found else None
