"""The reach stories' fixtures (tests/reach/harness.py)."""

from tests.reach.harness import deliver, pgql, push_app, push_service, push_settings  # noqa: F401
