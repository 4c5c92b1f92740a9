"""The kit's own tests, run against a minimal Django project named "kit"."""
