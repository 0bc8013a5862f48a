# syntax=docker/dockerfile:1
# The booking service image: `booking-service serve` on 0.0.0.0:50051, in mode mtls by default.
#
# Production-safe by default: BOOKING_AUTH_MODE=mtls, so the image serves nothing until it is
# given its certificate, key, client CA and roles file (it exits 2 naming what is missing):
# mount them and set BOOKING_TLS_CERT_FILE, BOOKING_TLS_KEY_FILE, BOOKING_TLS_CLIENT_CA_FILE and
# BOOKING_AUTH_ROLES_FILE, or choose BOOKING_AUTH_MODE=jwt with its JWKS, issuer and audience.
# A demo without credentials must say so: -e BOOKING_AUTH_MODE=none.
#
# With no BOOKING_DATABASE_URL it runs the embedded PostgreSQL (from the pgserver wheel) under
# /data, which suits a demo; production sets BOOKING_DATABASE_URL and runs
# `booking-service migrate` once per release (serve refuses an unmigrated external database).

# --- builder: resolve and install every dependency into a self-contained venv --------------------
FROM python:3.11-slim AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
# Dependencies first, from the metadata alone, so that a code change reuses this layer.
COPY pyproject.toml ./
# The build tools pinned like everything else (hadolint DL3013).
RUN pip install pip==26.3 setuptools==84.2.1 wheel==0.48.0 \
 && python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
    > /tmp/requirements.txt
RUN pip wheel --wheel-dir /wheels -r /tmp/requirements.txt \
 && pip install --no-index --find-links /wheels -r /tmp/requirements.txt

# Then the service itself (the generated stubs in clients/ are committed, no protoc needed).
COPY clients ./clients
COPY server ./server
RUN pip wheel --no-deps --wheel-dir /wheels . \
 && pip install --no-deps --no-index /wheels/booking_service-*.whl

# --- runtime: the venv, a non-root user, nothing else ----------------------------------------
FROM python:3.11-slim AS runtime

# XDG_RUNTIME_DIR: pgserver keeps its inter-process lock file there.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    BOOKING_LISTEN_ADDR=0.0.0.0:50051 \
    BOOKING_AUTH_MODE=mtls \
    BOOKING_HEALTH_LISTEN_ADDR=127.0.0.1:50052 \
    BOOKING_DATA_DIR=/data \
    BOOKING_LOG_FORMAT=json \
    XDG_RUNTIME_DIR=/run/booking

# As a non-root user pgserver runs PostgreSQL as that same user (as root it would create one).
RUN groupadd --system --gid 10001 booking \
 && useradd --system --uid 10001 --gid booking --home-dir /nonexistent --shell /usr/sbin/nologin booking \
 && mkdir -p /data /run/booking \
 && chown booking:booking /data /run/booking \
 && chmod 0700 /data /run/booking

COPY --from=builder /opt/venv /opt/venv

# Numeric ids: a host or orchestrator can check them without the image's /etc/passwd (DL3066).
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 50051

# Ready when the database-backed service answers SERVING on the standard gRPC health service,
# asked on the plaintext health-only port (the public one needs TLS and a client certificate).
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, sys, grpc; from grpc_health.v1 import health_pb2 as h, health_pb2_grpc as g; addr = os.environ.get('BOOKING_HEALTH_LISTEN_ADDR') or os.environ['BOOKING_LISTEN_ADDR']; port = addr.rsplit(':', 1)[1]; stub = g.HealthStub(grpc.insecure_channel(f'127.0.0.1:{port}')); reply = stub.Check(h.HealthCheckRequest(service='booking.v1.BookingService'), timeout=3); sys.exit(0 if reply.status == h.HealthCheckResponse.SERVING else 1)"]

# exec form: the service is PID 1 and receives SIGTERM itself (it drains, then exits 0).
ENTRYPOINT ["booking-service"]
CMD ["serve"]
