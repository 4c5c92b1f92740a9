"""gunicorn settings shared by every service's web process (`--config python:service_kit.gunicorn_conf`).

Access lines are JSON, like every other log line, and carry the request id nginx sends.
"""

import os
import tempfile

# nginx refuses, in the API's envelope, a request line or a header line over 8,000 bytes (its
# large_client_header_buffers) and all headers over 32,000: gunicorn's limits are looser (8,190 is its
# largest line, 32,768 its largest count of header fields, more than 32,000 bytes can hold), so no
# request nginx lets through meets gunicorn's HTML error page.
limit_request_line = 8190
limit_request_field_size = 8190
limit_request_fields = 32768

accesslog = "-"
access_log_format = (
    '{"time": "%(t)s", "level": "INFO", "logger": "gunicorn.access", "service": "'
    + os.environ.get("SERVICE_NAME", "")
    + '", "request_id": "%({x-request-id}i)s", "method": "%(m)s", "path": "%(U)s", "status": %(s)s, '
    '"bytes": "%(B)s", "duration_ms": %(M)s}'
)


# Metrics (service_kit/metrics.py): the workers' folder emptied as gunicorn starts, before any worker counts.
def on_starting(server):
    from service_kit.metrics import prepare_metrics_dir

    prepare_metrics_dir()


def child_exit(server, worker):
    from service_kit.metrics import process_exited

    process_exited(worker.pid)


# gunicorn's name for its processes ("<service>-web", what --name set): given here, so the web command is the
# same for every service and is the image's CMD as it is.
proc_name = f"{os.environ.get('SERVICE_NAME', 'service')}-web"


# gunicorn's control socket (for `gunicornc`): under $XDG_RUNTIME_DIR, else ~/.gunicorn/. An image's user has a home
# it cannot write (/app), where the socket would fail at every start: there it goes to the temporary folder. Where
# the default folder can be made (the native stack), the default stands.
def _default_control_folder_writable() -> bool:
    runtime_dir = os.environ.get("XDG_RUNTIME_DIR")
    if runtime_dir and os.path.isdir(runtime_dir):
        return True
    home = os.path.expanduser("~")
    folder = os.path.join(home, ".gunicorn")
    return os.access(folder if os.path.isdir(folder) else home, os.W_OK)


if not _default_control_folder_writable():
    control_socket = os.path.join(tempfile.gettempdir(), "gunicorn.ctl")
