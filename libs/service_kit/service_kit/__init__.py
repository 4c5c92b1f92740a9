"""Shared mechanics of the platform's services: never models, payloads or business rules."""
