"""The set-up runner (`python -m service_kit.setup_commands`): manage.py commands in turn, one that cannot reach its
database run again (bounded), any other failure the end of the set-up. Real Django, the kit's test project, in
processes of their own."""

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from .messaging import closed_port

KIT = Path(__file__).resolve().parents[1]

# The kit's test project as a service's manage.py runs it.
MANAGE_PY = f"""
import os, sys
sys.path[:0] = [{str(KIT)!r}]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
from django.core.management import execute_from_command_line
execute_from_command_line(sys.argv)
"""


@pytest.fixture
def project(tmp_path) -> Path:
    (tmp_path / "manage.py").write_text(MANAGE_PY)
    return tmp_path


def runner(project: Path, database_url: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(KIT), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "service_kit.setup_commands", *args],
        cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def finish(process: subprocess.Popen) -> tuple[int, str, str]:
    stdout, stderr = process.communicate(timeout=180)
    return process.returncode, stdout, stderr


def with_address(url: str, host: str, port: int) -> str:
    parts = urlsplit(url)
    credentials = parts.netloc.rpartition("@")[0]
    return urlunsplit(parts._replace(netloc=f"{credentials}@{host}:{port}" if credentials else f"{host}:{port}"))


def forward(listener: socket.socket, target: tuple[str, int]) -> None:
    """Each connection to the listener, relayed to the target both ways, until the listener closes."""

    def pipe(source: socket.socket, sink: socket.socket) -> None:
        with source, sink:
            while data := source.recv(65536):
                sink.sendall(data)

    while True:
        try:
            client, _ = listener.accept()
        except OSError:
            return
        server = socket.create_connection(target)
        threading.Thread(target=pipe, args=(client, server.dup()), daemon=True).start()
        threading.Thread(target=pipe, args=(server, client.dup()), daemon=True).start()


def test_a_command_whose_database_host_does_not_resolve_runs_again_then_the_set_up_fails(project):
    url = "postgres://kit:secret@kit-db.invalid:5432/kit"  # .invalid never resolves (RFC 6761)

    status, stdout, stderr = finish(
        runner(project, url, "--attempts", "3", "--pause", "0", "showmigrations service_kit", "check")
    )

    assert status == 1
    assert stderr.count("django.db.utils.OperationalError: failed to resolve host 'kit-db.invalid'") == 3
    assert "(attempt 1 of 3)" in stderr and "(attempt 2 of 3)" in stderr
    assert "manage.py showmigrations service_kit: the database was out of reach 3 times; giving up" in stderr
    # The set-up stops there: the next command never runs.
    assert "System check identified no issues" not in stdout


def test_a_command_that_fails_otherwise_is_not_run_again(project):
    url = f"postgres://kit:secret@127.0.0.1:{closed_port()}/kit"

    status, stdout, stderr = finish(runner(project, url, "--pause", "0", "no_such_command", "check"))

    assert status == 1
    assert stderr.count("Unknown command: 'no_such_command'") == 1
    assert "attempt" not in stderr
    assert "manage.py no_such_command: exit status 1" in stderr
    assert "System check identified no issues" not in stdout


def test_a_database_that_comes_back_between_two_attempts_lets_the_set_up_go_on(project):
    real = urlsplit(os.environ["DATABASE_URL"])
    port = closed_port()  # refused at first: nothing listens there yet
    process = runner(
        project, with_address(real.geturl(), "127.0.0.1", port), "--pause", "1", "showmigrations service_kit", "check"
    )

    # The first attempt is refused; then the port opens onto the real database.
    line = ""
    while "(attempt 1 of 5)" not in line:
        line = process.stderr.readline()
        assert line, "the runner ended before it tried again"
    listener = socket.create_server(("127.0.0.1", port))
    threading.Thread(target=forward, args=(listener, (real.hostname, real.port or 5432)), daemon=True).start()
    try:
        status, stdout, stderr = finish(process)
    finally:
        listener.close()

    assert status == 0, stderr
    assert "(attempt 2 of 5)" not in stderr
    # The first command read the database's migrations, then the second ran.
    assert stdout.startswith("service_kit\n") and "0001_initial" in stdout
    assert stdout.rstrip().endswith("System check identified no issues (0 silenced).")


def test_the_set_up_succeeds_once_every_command_has(project):
    url = f"postgres://kit:secret@127.0.0.1:{closed_port()}/kit"

    status, stdout, stderr = finish(runner(project, url, "check --tag urls", "check --tag templates"))

    assert status == 0, stderr
    assert stdout.count("System check identified no issues") == 2
