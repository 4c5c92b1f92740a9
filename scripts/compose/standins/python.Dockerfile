# Stand-in for python:3.11-slim where no registry is reachable (scripts/test-compose.sh builds it only then):
# Debian 12's own python3.11 in a virtual environment first on PATH, so that `python` and `pip` are the
# interpreter and installer a Dockerfile's `FROM python:3.11-slim` expects.
ARG BASE=localhost/shop-debian-minbase:bookworm
FROM ${BASE}
LABEL org.shop-platform.standin="python:3.11-slim"
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3.11 python3.11-venv ca-certificates \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
    && python3.11 -m venv /usr/local/python \
    && rm -rf /root/.cache
ENV PATH=/usr/local/python/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8
CMD ["python3"]
