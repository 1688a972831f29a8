# syntax=docker/dockerfile:1
# telegram-bot: the python-telegram-bot service. Build from the repository root:
#   docker build -f docker/telegram-bot.Dockerfile --build-arg GIT_COMMIT=$(git rev-parse --short HEAD) -t crypto-assistant/telegram-bot .
FROM python:3.11-slim

# The host user's ids (scripts/setup_logging.sh writes them to .env) so a bind-mounted ./logs stays writable.
ARG APP_UID=10001
ARG APP_GID=10001
ARG GIT_COMMIT=unknown
ARG DOCKER_CONTAINER=crypto-telegram-bot

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    GIT_COMMIT=${GIT_COMMIT} \
    DOCKER_CONTAINER=${DOCKER_CONTAINER} \
    LOG_DIR=/app/logs \
    LOG_FORMAT=json

RUN groupadd --gid "${APP_GID}" app \
 && useradd --uid "${APP_UID}" --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app

WORKDIR /app
# Only what pip needs to build the package; .dockerignore keeps logs, .env and .venv out of the context.
COPY pyproject.toml README.md ./
COPY services ./services
COPY tools ./tools
RUN pip install --no-compile ".[bot]" \
 && install -d -o app -g app -m 0750 /app/logs
COPY docker/healthcheck.py /usr/local/bin/healthcheck

USER app
VOLUME ["/app/logs"]
EXPOSE 8443
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["python", "/usr/local/bin/healthcheck", "file", "${LOG_DIR}/telegram-bot.log"]
CMD ["python", "-m", "services.telegram_bot.main_with_logging"]
