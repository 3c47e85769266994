"""A single-page app on its own origin queries and subscribes from a real browser (CORS).

Headless Chromium loads a page from the app's origin and runs what a front end runs: a
fetch() with an Authorization header (which makes the browser send a preflight first) and a
graphql-transport-ws subscription. The browser, not the test, decides whether the answer
may be read.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import httpx

from access.ratelimit import DEFAULT_LIMITS, Limiter
from app.settings import Settings
from server import build_app
from tests.browser import app_page, chromium, needs_chromium, serving
from tests.polls.stories import created, town

FETCH = """(async () => {
  try {
    const answer = await fetch(%(api)s + "/graphql", {
      method: "POST",
      headers: {"Content-Type": "application/json", "Authorization": "Bearer " + %(token)s},
      body: JSON.stringify({query: "{ viewer { displayName } }"}),
    });
    return {status: answer.status, data: (await answer.json()).data};
  } catch (error) {
    return {error: String(error)};
  }
})()"""

SUBSCRIBE = """new Promise((resolve) => {
  const socket = new WebSocket(%(ws)s, "graphql-transport-ws");
  const seen = [];
  socket.onopen = () => socket.send(JSON.stringify(
    {type: "connection_init", payload: {authorization: "Bearer " + %(token)s}}));
  socket.onmessage = (message) => {
    const frame = JSON.parse(message.data);
    seen.push(frame.type);
    if (frame.type === "connection_ack") {
      socket.send(JSON.stringify({id: "1", type: "subscribe", payload: {
        query: "subscription($p: ID!) { pollResults(pollId: $p) { totalVotes } }", variables: {p: %(poll)s}}}));
    }
    if (frame.type === "next") { socket.close(); resolve({seen, payload: frame.payload}); }
  };
  socket.onclose = (event) => resolve({seen, closed: event.code});
  setTimeout(() => resolve({seen, timedOut: true}), 8000);
})"""


def script(template: str, **values: str) -> str:
    return template % {name: json.dumps(value) for name, value in values.items()}


def api_for(settings: Settings, **changes: Any) -> Any:
    unlimited = Limiter(overrides={name: (10**9, 60) for name in DEFAULT_LIMITS})
    return build_app(dataclasses.replace(settings, **changes), manage_database=False, limiter=unlimited)


@needs_chromium
async def test_a_listed_origin_queries_and_subscribes_from_a_browser(settings: Settings, gql: Any) -> None:
    # Given Carcassonne with a poll, and its front end served from its own origin, which the
    # production API lists in ALLOWED_ORIGINS
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    async with serving(app_page()) as front:
        api = api_for(settings, env="production", allowed_origins=(front,))
        async with serving(api) as base, chromium() as browser:
            page = await browser.open(front + "/")

            # When alice's app asks who she is, with her token in an Authorization header
            answer = await browser.evaluate(page, script(FETCH, api=base, token=t.alice.token))

            # Then the browser lets the app read the answer (its preflight was accepted)
            assert answer == {"status": 200, "data": {"viewer": {"displayName": "Alice"}}}

            # And the app's live subscription runs from the same page
            live = await browser.evaluate(page, script(SUBSCRIBE, ws=base.replace("http", "ws") + "/graphql",
                                                       token=t.alice.token, poll=poll["id"]))
            assert live["seen"] == ["connection_ack", "next"], live
            assert live["payload"]["data"] == {"pollResults": {"totalVotes": 0}}


@needs_chromium
async def test_an_origin_that_is_not_listed_cannot_read_or_subscribe(settings: Settings, gql: Any) -> None:
    # Given a production API that lists one front end, and a page from another origin
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    async with serving(app_page()) as listed, serving(app_page()) as stranger:
        api = api_for(settings, env="production", allowed_origins=(listed,))
        async with serving(api) as base, chromium() as browser:
            page = await browser.open(stranger + "/")

            # When that page tries alice's token on the API
            answer = await browser.evaluate(page, script(FETCH, api=base, token=t.alice.token))
            # Then the browser refuses to hand the answer to the page
            assert answer == {"error": "TypeError: Failed to fetch"}

            # And its websocket is refused before any operation runs
            live = await browser.evaluate(page, script(SUBSCRIBE, ws=base.replace("http", "ws") + "/graphql",
                                                       token=t.alice.token, poll=poll["id"]))
            assert live["seen"] == [] and "closed" in live, live


@needs_chromium
async def test_in_development_a_localhost_front_end_needs_no_listing(settings: Settings, gql: Any) -> None:
    # Given the API as `make run` serves it (development, nothing listed) and a front-end dev
    # server on localhost
    t = await town()
    async with serving(app_page()) as front:
        async with serving(api_for(settings, env="development", allowed_origins=())) as base, \
                chromium() as browser:
            page = await browser.open(front.replace("127.0.0.1", "localhost") + "/")
            # When the app queries the API
            answer = await browser.evaluate(page, script(FETCH, api=base, token=t.alice.token))
    # Then it reads the answer
    assert answer == {"status": 200, "data": {"viewer": {"displayName": "Alice"}}}


async def test_a_preflight_names_what_the_app_may_send(settings: Settings) -> None:
    front = "https://app.example"
    app = api_for(settings, env="production", allowed_origins=(front,))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http:
        # When a browser asks before a POST with an Authorization header
        preflight = await http.options("/graphql", headers={
            "Origin": front, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type"})
        # Then the API allows it, for a while
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == front
        assert {"authorization", "content-type"} <= {
            h.strip().lower() for h in preflight.headers["access-control-allow-headers"].split(",")}
        assert int(preflight.headers["access-control-max-age"]) > 0
        # And an answer to another origin names no origin at all
        other = await http.options("/graphql", headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
        assert other.status_code == 400
        assert "access-control-allow-origin" not in other.headers
        plain = await http.post("/graphql", json={"query": "{ __typename }"}, headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in plain.headers
