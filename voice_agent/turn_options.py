"""``TurnOptions``: every knob that decides when a candidate's turn ends and how soon the agent is heard.

They used to be spread over ten places (the VAD's options, the session's, the STT provider's endpointing,
the sentence splitter, the silence trimmer, the jitter buffer, the two transports' encoders and framing).
Here each has one default; ``Settings.turn_options()`` builds the server's once, and every part that uses
one of them is handed it from there. The transport knobs live here too (the core does not use them): a
turn's latency is their sum, and they are tuned together.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from voice_agent.vad import VadOptions


class TurnOptions(BaseModel):
    """The knobs of a turn's latency, each with its one default."""

    vad: VadOptions = Field(default_factory=VadOptions, description="VAD endpointing (hangover, pauses, barge-in)")
    turn_ending: Literal["adaptive", "silence"] = Field(
        "adaptive",
        description="adaptive: silence, the end-of-turn model and the transcript decide (turn_ending.py); "
        "silence: the turn ends after vad.hangover_ms of silence, whatever was said",
    )
    think_grace_s: float = Field(
        3.0, gt=0, description="longest pause an unfinished-sounding answer may take before the turn ends anyway"
    )
    think_grace_hard_s: float = Field(
        5.0, gt=0, description="the same, after a technical or design question (a technical interview's)"
    )
    resume_window_s: float = Field(
        1.5,
        ge=0,
        description="a candidate who goes on within this long after the agent began replying keeps the turn: "
        "the reply is dropped and the answer stays one line",
    )
    interrupt_after_ms: int = Field(
        700,
        ge=0,
        description="speech over the agent this long interrupts it whatever it says; shorter speech only pauses "
        "it until the words are known (a backchannel, a cough or an echo lets it go on where it stopped)",
    )
    echo_gate: bool = Field(True, description="drop a transcript that is the agent's own recent words (speakerphone)")
    ask_time_grace_s: float = Field(
        12.0, gt=0, description='pause allowed after the candidate asks for time ("let me think")'
    )
    idle_prompt_s: float = Field(12.0, gt=0, description="silence after a question before a gentle prompt")
    idle_move_on_s: float = Field(15.0, gt=0, description="further silence before offering to move on")
    min_speech_ms: int = Field(250, ge=0, description="voiced speech shorter than this is noise, not an answer")
    interim_fresh_s: float = Field(
        0.3, ge=0, description="an interim this close to the end of the speech covers it (starts an early reply)"
    )
    early_reply: bool = Field(True, description="start the reply on a stable interim transcript, behind a gate")
    stt_final_timeout_s: float = Field(8.0, gt=0, description="longest wait for the final transcript")
    stt_endpointing_ms: int = Field(
        300, ge=10, description="silence after which a streaming STT (Deepgram) marks the end of speech"
    )
    sentence_max_chars: int = Field(
        240, ge=40, description="a sentence longer than this is cut at a clause break, so the voice starts sooner"
    )
    tts_keep_lead_s: float = Field(0.03, ge=0, description="leading silence kept of each synthesized sentence")
    jitter_reorder_packets: int = Field(
        1, ge=0, description="later packets the inbound jitter buffer holds while waiting for a missing one"
    )
    opus_complexity: int = Field(5, ge=0, le=10, description="Opus encoder complexity of the agent's voice (WebRTC)")
    ws_frames_per_message: int = Field(
        2, ge=1, description="20 ms frames of the agent's voice per WebSocket audio message"
    )
    # The acoustic end-of-turn model (voice_agent/turn_model.py), asked about 200 ms into a pause. Measured with
    # benchmarks/turn_model_scores.py (hibari; 7 answers, 10 mid-sentence audio cuts, 3 takes each; two runs):
    # complete answers 0.92-0.99, but "I chose Postgres because the data was relational." 0.21-0.84; cuts after
    # "by", "because", "so um", "...was" 0.01-0.03; after "the", "have", "time" 0.21-0.70; after "and", "to",
    # "of" 0.80-0.98 (only the transcript can tell those). complete_at is the 10th percentile of the complete
    # answers, unfinished_below their 5th capped at 0.5 (Pipecat's own line). eSpeak NG's complete sentences
    # scored 0.03-0.97 (en-us median 0.17): on that voice the model is not to be trusted alone.
    turn_model_complete_at: float = Field(
        0.8, ge=0, le=1, description="an end-of-turn model score at or above this: the audio sounds finished"
    )
    turn_model_unfinished_below: float = Field(
        0.5, ge=0, le=1, description="a score below this: the audio sounds unfinished (between the two: unsure)"
    )
