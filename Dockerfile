# soilapi as a container: `docker build -t soilapi .`, then see README "Running in production".
# Configured by environment variables only (DATABASE_URL, PORT, ...: the README's settings table).

ARG PYTHON_IMAGE=python:3.11-slim

# ---- builder: the locked dependencies and the project, in /app/.venv
FROM ${PYTHON_IMAGE} AS builder
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
# Dependencies first: this layer is rebuilt only when the lock file changes. Runtime ones
# only: no dev tools, and no embedded PostgreSQL (the image connects to a real server).
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-default-groups --no-install-project --python /usr/local/bin/python3
COPY src ./src
# The project is installed in place (editable), so /app stays the project root: that is where
# `soilapi migrate` and /readyz find alembic.ini and migrations/.
RUN uv sync --frozen --no-default-groups --python /usr/local/bin/python3 \
    && python -m compileall -q src

# ---- runtime: the venv, the code, the migrations; no compiler, no uv, no pip cache
FROM ${PYTHON_IMAGE}
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=8000
# A numeric user, so orchestrators can verify "not root" (Kubernetes runAsNonRoot).
RUN groupadd --system --gid 10001 soilapi \
    && useradd --system --no-log-init --no-create-home --uid 10001 --gid 10001 \
       --home-dir /app soilapi
WORKDIR /app
COPY --from=builder /app/.venv ./.venv
COPY --from=builder /app/src ./src
COPY alembic.ini ./
COPY migrations ./migrations
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; u.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4)"]
# Exec form: uvicorn is PID 1 and gets SIGTERM itself, then drains in-flight requests for up
# to SHUTDOWN_GRACE_SECONDS (keep the orchestrator's stop timeout longer than that).
CMD ["soilapi", "serve"]
