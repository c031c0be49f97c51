"""The bundled loopback client: a developer tool that calls the server like a candidate would.

It speaks answers over real WebRTC (``webrtc``) or the WebSocket stream (``websocket``), records the agent, and
reports the response latency a candidate hears. Used by ``mock-interviewer call`` (``cli``), the tests and the
benchmarks. It uses ``signaling``'s and ``voice_agent``'s public pieces only, never ``web`` or ``db``, and no
server module imports it. It patches nothing by itself: the program that runs it calls
``media_setup.prepare_client_process`` once.
"""
