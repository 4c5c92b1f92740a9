# Flower for the Compose stack, the release pinned in constraints.txt. Build context: the repository root.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

WORKDIR /app
COPY constraints.txt ./
# redis and packaging: what kombu's Redis transport imports; PyYAML reads the contract's queues. The pins match constraints.txt (tests/test_compose.py).
# The build machine's CAs, when given, as in the root Dockerfile: the build secret ca_bundle, in no layer.
RUN --mount=type=secret,id=ca_bundle \
    if [ -s /run/secrets/ca_bundle ]; then export PIP_CERT=/run/secrets/ca_bundle; fi \
    && pip install --no-cache-dir -c constraints.txt flower==2.2.0 redis==8.1.0 packaging==26.4 PyYAML==6.0.4 \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin flower

COPY contracts/asyncapi.yaml contracts/
COPY monitoring/__init__.py monitoring/flower_app.py monitoring/

USER 10001
EXPOSE 5555
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=5 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5555/flower/healthcheck', timeout=4)"]
# The flower process of stack/processes.py, with its broker and credentials, is docker-compose.yml's command.
CMD ["celery", "--app", "monitoring.flower_app", "flower", "--url_prefix=flower"]
