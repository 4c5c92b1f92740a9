"""`make bench`: an open-loop benchmark of the running platform, with its ceilings (see run.py)."""
