# syntax=docker/dockerfile:1
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY gateway ./gateway
COPY schema ./schema
COPY resolvers ./resolvers
COPY datasources ./datasources
COPY auth ./auth
COPY contract ./contract
COPY demo ./demo
COPY migrations ./migrations
COPY bench ./bench
RUN python -m venv /opt/manifold && /opt/manifold/bin/pip install .

FROM python:3.11-slim
ENV PATH=/opt/manifold/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    GATEWAY_DATA_DIR=/var/lib/manifold
RUN groupadd --system manifold && useradd --system --gid manifold --home-dir /var/lib/manifold manifold \
    && mkdir -p /var/lib/manifold && chown manifold:manifold /var/lib/manifold
COPY --from=build /opt/manifold /opt/manifold
USER manifold
WORKDIR /var/lib/manifold
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"
ENTRYPOINT ["gateway", "serve", "--host", "0.0.0.0", "--port", "8000"]
