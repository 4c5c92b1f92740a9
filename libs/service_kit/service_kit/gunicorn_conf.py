"""gunicorn settings shared by every service's web process (`--config python:service_kit.gunicorn_conf`).

Access lines are JSON, like every other log line, and carry the request id nginx sends.
"""

import os

accesslog = "-"
access_log_format = (
    '{"time": "%(t)s", "level": "INFO", "logger": "gunicorn.access", "service": "'
    + os.environ.get("SERVICE_NAME", "")
    + '", "request_id": "%({x-request-id}i)s", "method": "%(m)s", "path": "%(U)s", "status": %(s)s, '
    '"bytes": "%(B)s", "duration_ms": %(M)s}'
)

# gunicorn's name for its processes ("<service>-web", what --name set): given here, so the web command is the
# same for every service and is the image's CMD as it is.
proc_name = f"{os.environ.get('SERVICE_NAME', 'service')}-web"
