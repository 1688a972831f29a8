# syntax=docker/dockerfile:1
# simulators: the offline exchange and Telegram simulators (compose profile "simulated"). Build from the repository root:
#   docker build -f docker/simulators.Dockerfile --build-arg GIT_COMMIT=$(git rev-parse --short HEAD) -t crypto-assistant/simulators .
FROM python:3.11-slim

# The host user's ids (scripts/setup_logging.sh writes them to .env) so a bind-mounted ./logs stays writable.
ARG APP_UID=10001
ARG APP_GID=10001
ARG GIT_COMMIT=unknown
ARG DOCKER_CONTAINER=crypto-simulators

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    GIT_COMMIT=${GIT_COMMIT} \
    DOCKER_CONTAINER=${DOCKER_CONTAINER} \
    LOG_DIR=/app/logs \
    LOG_FORMAT=json \
    SIM_PORT=8089

RUN groupadd --gid "${APP_GID}" app \
 && useradd --uid "${APP_UID}" --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app

WORKDIR /app
# Only what pip needs to build the package; .dockerignore keeps logs, .env and .venv out of the context.
COPY pyproject.toml README.md ./
COPY services ./services
COPY tools ./tools
RUN pip install --no-compile ".[simulators]" \
 && install -d -o app -g app -m 0750 /app/logs
COPY docker/healthcheck.py /usr/local/bin/healthcheck

USER app
VOLUME ["/app/logs"]
EXPOSE 8089 8081
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["python", "/usr/local/bin/healthcheck", "http", "http://127.0.0.1:${SIM_PORT}/_admin/health"]
CMD ["python", "-m", "services.exchange_simulator", "--host", "0.0.0.0", "--port", "8089"]
