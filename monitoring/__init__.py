"""What watches the platform: Flower's Celery app (and its alerting, metrics and tracing config as they come)."""
