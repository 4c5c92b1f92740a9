# The image of each of the four services, the service a build argument. Build context: the repository root
# (`docker compose build`, or `docker build --build-arg SERVICE=orders -t shop-platform/orders-svc .`).
# A service's web, worker, relay and migrate containers all run its image (docker-compose.yml).
FROM python:3.11-slim

# users, inventory, orders or payments: the folder <SERVICE>_svc is the service.
ARG SERVICE
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONPATH=/app/libs/service_kit \
    DJANGO_SETTINGS_MODULE=config.settings \
    SERVICE_NAME=${SERVICE} \
    STATIC_ROOT=/app/static

# Dependencies first, from the pyprojects alone and pinned by constraints.txt: a source change reuses this layer.
WORKDIR /app
COPY constraints.txt stack/requirements.py ./
COPY libs/service_kit/pyproject.toml libs/service_kit/
COPY ${SERVICE}_svc/pyproject.toml ${SERVICE}_svc/
# Behind a TLS-intercepting proxy, pip trusts the build machine's CAs when given them as the build secret
# ca_bundle (`--secret id=ca_bundle,src=/etc/ssl/certs/ca-certificates.crt`): mounted for this step only, in
# no layer. Proxy variables (http_proxy, https_proxy) reach pip as the builder passes them.
RUN --mount=type=secret,id=ca_bundle \
    python requirements.py "${SERVICE}_svc" > requirements.txt \
    && if [ -s /run/secrets/ca_bundle ]; then export PIP_CERT=/run/secrets/ca_bundle; fi \
    && pip install --no-cache-dir -c constraints.txt -r requirements.txt

# users_svc's signing key pair lives in /keys, a volume only this user can read (`manage.py jwt_keys` makes it
# when the users-migrate container starts; no key is ever in a layer).
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin app \
    && install -d -o app -g app -m 0700 /keys

COPY libs/service_kit libs/service_kit
COPY contracts/asyncapi.yaml contracts/asyncapi.yaml
COPY ${SERVICE}_svc ${SERVICE}_svc
WORKDIR /app/${SERVICE}_svc
RUN python manage.py collectstatic --noinput

USER 10001
EXPOSE 8000
# The web container's check and command of stack/processes.py (WEB_HEALTHCHECK, WEB_COMMAND); Compose gives the
# worker, relay and migrate containers their own command.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=5 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/%s/health/' % os.environ['SERVICE_NAME'], timeout=4)"]
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "2", "--timeout", "30", "--graceful-timeout", "20", "--config", "python:service_kit.gunicorn_conf"]
