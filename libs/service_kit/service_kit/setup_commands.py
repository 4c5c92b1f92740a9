"""A service's set-up commands in order, each one run again while its database cannot be reached (bounded).

    python -m service_kit.setup_commands jwt_keys "migrate --noinput" ensure_staff

Each argument is one `python manage.py ...` command line, run in its own process as the native stack runs it. A
container's set-up starts beside many others: its database may be restarting, or its name not yet resolvable on the
container network, and each command makes a connection (and a lookup) of its own. A command that fails that way
(Django's OperationalError or InterfaceError: the server could not be resolved, reached or kept) runs again after a
pause, up to ATTEMPTS times; the set-up commands are idempotent, so a second run is safe. Any other failure, or the
last attempt's, ends the set-up with the command's exit status.
"""

import argparse
import re
import shlex
import subprocess
import sys
import time

ATTEMPTS = 5
PAUSE = 5.0  # seconds between two attempts of a command

# A line of the traceback of a command that could not reach its database: Django's wrappers of the driver's errors.
UNREACHABLE = re.compile(r"^django\.db\.utils\.(OperationalError|InterfaceError)\b")


def say(message: str) -> None:
    print(f"setup_commands: {message}", file=sys.stderr, flush=True)


def run_once(argv: list[str]) -> tuple[int, bool]:
    """The command's exit status, and whether it failed for want of its database; its output passed through."""
    unreachable = False
    # The command lines are the container's own command (docker-compose.yml), never a user's input.
    with subprocess.Popen(argv, stderr=subprocess.PIPE, text=True, errors="replace") as process:  # noqa: S603
        for line in process.stderr:
            sys.stderr.write(line)
            sys.stderr.flush()
            unreachable = unreachable or bool(UNREACHABLE.match(line))
    return process.returncode, unreachable


def run(commands: list[str], *, attempts: int = ATTEMPTS, pause: float = PAUSE, python: str = sys.executable) -> int:
    """Runs each `manage.py` command line in turn; 0 once all have succeeded, else the failing one's exit status."""
    for command in commands:
        argv = [python, "manage.py", *shlex.split(command)]
        for attempt in range(1, attempts + 1):
            status, unreachable = run_once(argv)
            if status == 0:
                break
            if not unreachable:
                say(f"manage.py {command}: exit status {status}")
                return status
            if attempt == attempts:
                say(f"manage.py {command}: the database was out of reach {attempts} times; giving up")
                return status
            say(f"manage.py {command}: database out of reach (attempt {attempt} of {attempts}); again in {pause:g} s")
            time.sleep(pause)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service_kit.setup_commands", description=__doc__.split("\n")[0])
    parser.add_argument(
        "commands", nargs="+", metavar="COMMAND", help='one manage.py command line: "migrate --noinput"'
    )
    parser.add_argument("--attempts", type=int, default=ATTEMPTS, help=f"runs of a command at most ({ATTEMPTS})")
    parser.add_argument("--pause", type=float, default=PAUSE, help=f"seconds between two runs ({PAUSE:g})")
    args = parser.parse_args(argv)
    if args.attempts < 1:
        parser.error("--attempts must be at least 1")
    return run(args.commands, attempts=args.attempts, pause=args.pause)


if __name__ == "__main__":
    sys.exit(main())
