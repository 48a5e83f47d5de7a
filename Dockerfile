# syntax=docker/dockerfile:1
# The gateway image: `docker build -t manifold .`; runtime packages only (no tests, no bench).
ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY contract ./contract
COPY datasources ./datasources
COPY auth ./auth
COPY resolvers ./resolvers
COPY schema ./schema
COPY gateway ./gateway
COPY demo ./demo
COPY migrations ./migrations
RUN python -m venv /opt/manifold && /opt/manifold/bin/pip install . \
    && find /opt/manifold -name '__pycache__' -prune -exec rm -rf {} +

FROM ${PYTHON_IMAGE}
ENV PATH=/opt/manifold/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    GATEWAY_DATA_DIR=/var/lib/manifold
# A fixed uid/gid (10001): the Kubernetes securityContext and volume permissions name it.
RUN groupadd --system --gid 10001 manifold \
    && useradd --system --uid 10001 --gid manifold --home-dir /var/lib/manifold manifold \
    && mkdir -p /var/lib/manifold && chown manifold:manifold /var/lib/manifold
COPY --from=build /opt/manifold /opt/manifold
USER 10001:10001
WORKDIR /var/lib/manifold
EXPOSE 8000 9100
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"]
ENTRYPOINT ["gateway", "serve"]
CMD ["--host", "0.0.0.0", "--port", "8000"]
