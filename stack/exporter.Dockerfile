# Debian's Prometheus exporters for the Compose stack: the packages and commands of the native stack
# (stack/processes.py: redis-exporter, postgres-exporter, nginx-exporter). Build context: the repository root.
FROM debian:bookworm-slim

RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        prometheus-redis-exporter=1.45.0-2+b4 \
        prometheus-postgres-exporter=0.11.1-3+b5 \
        prometheus-nginx-exporter=0.11.0-1+b4 \
    && rm -rf /var/lib/apt/lists/*

USER 65534
# nobody; each exporter process of docker-compose.yml names its command.
CMD ["prometheus-redis-exporter"]
