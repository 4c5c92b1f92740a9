"""The native stack: private PostgreSQL clusters, Redis, nginx and the services under supervisord, in var/."""
