"""Local fakes of the cloud providers (Deepgram, Anthropic, OpenAI) speaking their documented wire protocols.

Each is a real aiohttp server on 127.0.0.1 that the official SDK is pointed at through its base URL; it records
what the SDK sent and answers with scripted replies and injected faults. See each class's docstring.
"""

from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.base import Failure, FaultPlan, RecordedFile, RecordedRequest
from tests.fakes.deepgram import FakeDeepgram, ListenConnection, ListenParams
from tests.fakes.openai import FakeOpenAI

__all__ = [
    "Failure",
    "FakeAnthropic",
    "FakeDeepgram",
    "FakeOpenAI",
    "FaultPlan",
    "ListenConnection",
    "ListenParams",
    "RecordedFile",
    "RecordedRequest",
]
