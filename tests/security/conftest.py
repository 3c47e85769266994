"""Fixtures the attacks borrow from the stories they attack."""

from tests.reach.harness import deliver, pgql, push_app, push_service, push_settings  # noqa: F401
