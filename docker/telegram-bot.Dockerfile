# syntax=docker/dockerfile:1
# telegram-bot: the python-telegram-bot service. Build from the repository root:
#   docker build -f docker/telegram-bot.Dockerfile --build-arg GIT_COMMIT=$(git rev-parse --short HEAD) -t crypto-assistant/telegram-bot .
# BASE_IMAGE: any Python 3.11 image with venv; `make test-containers` passes one built from Debian's packages.
ARG BASE_IMAGE=python:3.11-slim

# Stage 1: a virtualenv with the package and only the [bot] extra, at the versions of constraints.txt.
FROM ${BASE_IMAGE} AS build
# A CA bundle mounted into the build, for a TLS-inspecting proxy between it and PyPI (docs/deployment.md).
ARG PIP_CERT
WORKDIR /src
# Only what pip needs; .dockerignore keeps logs, .env and .venv out of the context.
COPY pyproject.toml README.md constraints.txt ./
COPY crypto_observability ./crypto_observability
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check -c constraints.txt ".[bot]" \
 && /opt/venv/bin/pip uninstall --yes --disable-pip-version-check pip setuptools

# Stage 2: the virtualenv alone (no pip, no build tree, no caches), run as a non-root user.
FROM ${BASE_IMAGE}

# The host user's ids (scripts/setup_logging.sh writes them to .env) so a bind-mounted ./logs stays writable.
ARG APP_UID=10001
ARG APP_GID=10001
ARG GIT_COMMIT=unknown
ARG DOCKER_CONTAINER=crypto-telegram-bot

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    GIT_COMMIT=${GIT_COMMIT} \
    DOCKER_CONTAINER=${DOCKER_CONTAINER} \
    LOG_DIR=/app/logs \
    LOG_FORMAT=json \
    BOT_HEARTBEAT_FILE=/tmp/telegram-bot.heartbeat

# -o: the host's gid may already name a group of the image (e.g. 100 "users"); root is refused.
RUN if [ "${APP_UID}" = 0 ] || [ "${APP_GID}" = 0 ]; then \
      echo "APP_UID/APP_GID must not be 0: the services run as a non-root user (set them in .env)" >&2; exit 1; fi \
 && groupadd -o --gid "${APP_GID}" app \
 && useradd -o --uid "${APP_UID}" --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app \
 && install -d -o app -g app -m 0750 /app/logs

WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY docker/healthcheck.py /usr/local/bin/healthcheck
# the application itself runs from /app (python -m services....): the wheel holds only the library
COPY services/__init__.py /app/services/__init__.py
COPY services/telegram_bot /app/services/telegram_bot

USER app
VOLUME ["/app/logs"]
EXPOSE 8443
# liveness: the bot touches its heartbeat (on the /tmp tmpfs) every 10 s while it serves updates
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["python", "/usr/local/bin/healthcheck", "heartbeat", "${BOT_HEARTBEAT_FILE}", "--max-age", "30"]
CMD ["python", "-m", "services.telegram_bot.main_with_logging"]
