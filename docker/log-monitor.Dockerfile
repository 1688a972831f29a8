# syntax=docker/dockerfile:1
# log-monitor: follows the service logs and alerts (log-monitor). Build from the repository root:
#   docker build -f docker/log-monitor.Dockerfile --build-arg GIT_COMMIT=$(git rev-parse --short HEAD) -t crypto-assistant/log-monitor .
FROM python:3.11-slim

# The host user's ids (scripts/setup_logging.sh writes them to .env) so a bind-mounted ./logs stays writable.
ARG APP_UID=10001
ARG APP_GID=10001
ARG GIT_COMMIT=unknown
ARG DOCKER_CONTAINER=crypto-log-monitor

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    GIT_COMMIT=${GIT_COMMIT} \
    DOCKER_CONTAINER=${DOCKER_CONTAINER} \
    LOG_DIR=/app/logs \
    LOG_FORMAT=json \
    MONITOR_STATE_DB=/app/state/log-monitor.db

RUN groupadd --gid "${APP_GID}" app \
 && useradd --uid "${APP_UID}" --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app

WORKDIR /app
# Only what pip needs to build the package; .dockerignore keeps logs, .env and .venv out of the context.
COPY pyproject.toml README.md ./
COPY services ./services
COPY tools ./tools
RUN pip install --no-compile ".[monitor]" \
 && install -d -o app -g app -m 0750 /app/logs /app/state
COPY docker/healthcheck.py /usr/local/bin/healthcheck
COPY config/monitor.yml /app/config/monitor.yml

USER app
VOLUME ["/app/logs", "/app/state"]
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["python", "/usr/local/bin/healthcheck", "file", "${MONITOR_STATE_DB}", "${MONITOR_STATE_DB}-wal", "--max-age", "120"]
CMD ["log-monitor", "run", "--config", "/app/config/monitor.yml"]
