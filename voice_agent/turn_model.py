"""The acoustic end-of-turn model: does the candidate's audio sound finished?

``SmartTurnModel`` runs Smart Turn v3.2 (BSD-2-Clause, by Daily) with onnxruntime. Its ONNX file ships inside
the ``pipecat-ai==1.14.0`` wheel, which the project installs without its dependencies (``make install``): only
the file is used, found through the wheel's installed metadata. Pipecat itself is never imported (its
``__init__`` pulls in loguru and more).

The model reads Whisper log-mel features of the last 8 s of 16 kHz mono audio, as Pipecat's own
``LocalSmartTurnAnalyzerV3`` feeds it: the audio is cut to its last 8 s or left-padded with zeros to 8 s, the
padded buffer is normalised to zero mean and unit variance, and faster-whisper's
``FeatureExtractor(chunk_length=8)`` (without its trailing padding) turns it into 80 x 800 features, the same
as Pipecat's vendored extractor to 1.2e-7. The output is the probability that the utterance is complete.

Ask it early in a pause (about 200 ms, as Pipecat does): the longer the silence at the end, the more finished
anything sounds (on hibari, "I would start by profiling the" scored 0.37 after 200 ms of silence, 0.98 after
500 ms). Scores and thresholds: ``TurnOptions.turn_model_*`` and benchmarks/turn_model_scores.py.

One decision costs 40-85 ms on one idle core (130-160 ms p50 measured on a busy one), so it runs on a worker
thread the model owns, never on the event loop. The session is loaded once per model; create one model per
process and share it between calls.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

#: The wheel that carries the model file, and the file's path inside it.
SMART_TURN_DISTRIBUTION = "pipecat-ai"
SMART_TURN_FILE = "pipecat/audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx"
#: How the project installs it (the Makefile and the Dockerfile do the same).
SMART_TURN_INSTALL = "pip install --no-deps pipecat-ai==1.14.0"

SAMPLE_RATE = 16_000
WINDOW_S = 8
WINDOW_SAMPLES = SAMPLE_RATE * WINDOW_S
_NORMALISE_EPS = 1e-7  # as transformers' WhisperFeatureExtractor and Pipecat


class EndOfTurnModelMissing(RuntimeError):
    """The end-of-turn model's file is not installed."""


def locate_smart_turn_model(distribution: str = SMART_TURN_DISTRIBUTION, file: str = SMART_TURN_FILE) -> Path:
    """The path of Smart Turn's ONNX file inside the installed ``distribution``; raises
    ``EndOfTurnModelMissing`` naming the fix when the distribution or the file is not there."""
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        raise EndOfTurnModelMissing(
            f"the end-of-turn model needs the {distribution!r} wheel for its model file {Path(file).name}: "
            f"run `make install`, or `{SMART_TURN_INSTALL}` (its dependencies are not needed)"
        ) from None
    path = Path(str(dist.locate_file(file)))
    if not path.is_file():
        raise EndOfTurnModelMissing(
            f"{distribution} {dist.version} is installed but has no {file}: "
            f"reinstall the version the project uses with `{SMART_TURN_INSTALL}`"
        )
    return path


def to_float32(samples16k: np.ndarray) -> np.ndarray:
    """Mono samples as float32 in [-1, 1] (int16 input is scaled by 1/32768, as Pipecat does)."""
    samples = np.asarray(samples16k).reshape(-1)
    if samples.dtype == np.int16:
        return samples.astype(np.float32) / 32768.0
    return samples.astype(np.float32, copy=False)


class SmartTurnFeatures:
    """Smart Turn's input: Whisper log-mel features of the last 8 s, shape (1, 80, 800), float32."""

    def __init__(self) -> None:
        from faster_whisper.feature_extractor import FeatureExtractor

        self._extractor = FeatureExtractor(chunk_length=WINDOW_S)

    def __call__(self, samples16k: np.ndarray) -> np.ndarray:
        """Features of ``samples16k`` (int16 or float32, 16 kHz mono)."""
        audio = to_float32(samples16k)[-WINDOW_SAMPLES:]
        window = np.zeros(WINDOW_SAMPLES, np.float32)
        window[WINDOW_SAMPLES - len(audio) :] = audio  # left-padded: the utterance ends where the window ends
        window = (window - window.mean()) / np.sqrt(window.var() + _NORMALISE_EPS)
        features = self._extractor(window, padding=0)
        return features[np.newaxis].astype(np.float32, copy=False)


class SmartTurnModel:
    """Smart Turn v3.2 on onnxruntime, one session loaded once, inference on the model's own thread."""

    name = "smart-turn-v3.2"

    def __init__(self, model_path: str | Path | None = None, distribution: str = SMART_TURN_DISTRIBUTION) -> None:
        """``model_path`` overrides the file found in ``distribution`` (the installed ``pipecat-ai`` wheel)."""
        self._model_path = Path(model_path) if model_path is not None else None
        self._distribution = distribution
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="smart-turn")
        self._session: Any = None
        self._features: SmartTurnFeatures | None = None
        self._closed = False

    @property
    def model_path(self) -> Path:
        """The ONNX file this model runs (located on first use)."""
        if self._model_path is None:
            self._model_path = locate_smart_turn_model(self._distribution)
        return self._model_path

    def _load(self) -> tuple[Any, SmartTurnFeatures]:
        if self._session is not None and self._features is not None:
            return self._session, self._features
        try:
            import onnxruntime as ort
        except ImportError as exc:  # pragma: no cover - a dependency of the project
            raise RuntimeError("the end-of-turn model needs 'onnxruntime': pip install onnxruntime") from exc
        options = ort.SessionOptions()
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = 1  # two threads are no faster for this model
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        session = ort.InferenceSession(str(self.model_path), sess_options=options, providers=["CPUExecutionProvider"])
        self._session, self._features = session, SmartTurnFeatures()
        return self._session, self._features

    def _predict(self, samples16k: np.ndarray) -> float:
        self._check_open()
        session, features = self._load()
        (scores,) = session.run(["logits"], {"input_features": features(samples16k)})
        return float(np.asarray(scores).reshape(-1)[0])  # the graph ends in a sigmoid: already a probability

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("the end-of-turn model is closed")

    async def start(self) -> None:
        """Locate and load the model on its thread, so the first decision does not pay for it."""
        self._check_open()
        self.model_path  # noqa: B018 - a missing file fails here, on the caller's side, with the fix named
        await asyncio.get_running_loop().run_in_executor(self._executor, self._load)

    async def probability(self, samples16k: np.ndarray) -> float:
        """The probability that the utterance in ``samples16k`` (16 kHz mono, int16 or float32, the whole
        utterance or at least its last 8 s) is complete; computed off the event loop."""
        self._check_open()
        if np.asarray(samples16k).size == 0:
            raise ValueError("no audio to score")
        samples = np.asarray(samples16k).reshape(-1)[-WINDOW_SAMPLES:].copy()  # the caller may go on filling it
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._predict, samples)

    async def aclose(self) -> None:
        """Stop the worker thread and release the session."""
        self._closed = True
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._session = None
        self._features = None
