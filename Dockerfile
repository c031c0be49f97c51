# Mock Interviewer: the server as a container image (see README, "Deploying").
#
#   docker build -t mock-interviewer .
#   docker run -p 8080:8080 -p 40000-40099:40000-40099/udp -v interviewer-data:/data mock-interviewer
#
# The start command and environment below are what tests/web/test_scale_out.py runs (with HOST, PORT and
# DATA_DIR pointed at the test's own), so the image starts the way the tests check.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY voice_agent ./voice_agent
COPY signaling ./signaling
COPY web ./web
COPY db ./db
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
# eSpeak NG: the fallback voice of the embedded text-to-speech.
RUN apt-get update \
    && apt-get install -y --no-install-recommends espeak-ng \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --create-home --uid 10001 interviewer \
    && mkdir /data && chown interviewer:interviewer /data
COPY --from=build /wheels /wheels
# pipecat-ai only for the end-of-turn model's ONNX file (Smart Turn v3.2), without its dependencies, as `make install`.
RUN pip install --no-cache-dir /wheels/*.whl \
    && pip install --no-cache-dir --no-deps pipecat-ai==1.14.0 \
    && rm -rf /wheels

ENV HOST=0.0.0.0 \
    PORT=8080 \
    DATA_DIR=/data \
    RTC_PORT_MIN=40000 \
    RTC_PORT_MAX=40099 \
    DRAIN_GRACE_S=5 \
    LOG_FORMAT=json \
    PYTHONUNBUFFERED=1
VOLUME ["/data"]
USER interviewer
WORKDIR /home/interviewer
EXPOSE 8080/tcp 40000-40099/udp
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8080'), timeout=4)"]
STOPSIGNAL SIGTERM
CMD ["mock-interviewer", "serve"]
