"""Which browser origins may call the API from their own pages (CORS).

A single-page app served from its own origin (https://app.example, or a dev server on
http://localhost:5173) needs the API to answer its preflights and to name it in
Access-Control-Allow-Origin. Only the origins listed in ALLOWED_ORIGINS get that, in every
mode; in development, any http://localhost or http://127.0.0.1 port too, so `make run` works
with a front-end dev server. Tokens travel in the Authorization header, never in cookies, so
no credentials mode is offered.
"""

from __future__ import annotations

from typing import Any

from app.settings import Settings

# How long a browser may reuse a preflight's answer (seconds).
PREFLIGHT_MAX_AGE = 600
DEV_ORIGINS = r"http://(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?"


def cors_options(settings: Settings) -> dict[str, Any]:
    """Starlette's CORSMiddleware arguments for these settings."""
    return {
        "allow_origins": list(settings.allowed_origins),
        "allow_origin_regex": None if settings.production else DEV_ORIGINS,
        "allow_methods": ["GET", "POST", "OPTIONS"],
        # Apollo-Require-Preflight: uploads (app/view.py).
        "allow_headers": ["Authorization", "Content-Type", "Accept", "Accept-Language", "If-None-Match",
                          "Apollo-Require-Preflight"],
        "expose_headers": ["Retry-After", "ETag"],
        "max_age": PREFLIGHT_MAX_AGE,
    }
