"""A territory living while people read: votes, supports and comments at a fixed rate.

    python bench/writer.py SPEC.json   ->  runs until SIGTERM, then prints one JSON report

The spec (written by bench/home.py):
    {"port": 8000, "rate": 10, "voters": [[account id, token], ...],
     "polls": ["<poll global id>", ...], "options": {"<poll global id>": ["<option global id>", ...]},
     "ideas": ["<idea global id>", ...]}

Writes go through Parvis's GraphQL API, one at a time on one keep-alive connection, a third
each castVote (each voter once per poll), supportIdea and addComment, cycling through the
voters; they are spaced evenly to hold `rate` per second whatever their latency, so the
readers measured meanwhile see a steady stream of committed writes.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from itertools import cycle
from typing import Any

from loadgen import HOST, encode, read_response

CAST_VOTE = "mutation($i: CastVoteInput!) { castVote(input: $i) { userErrors { code } } }"
SUPPORT = "mutation($i: IdeaInput!) { supportIdea(input: $i) { userErrors { code } } }"
COMMENT = "mutation($i: AddCommentInput!) { addComment(input: $i) { userErrors { code } } }"


def writes(spec: dict[str, Any]) -> Any:
    """The endless sequence of (kind, request) the writer sends."""
    voters = [token for _, token in spec["voters"]]
    ballots = ((poll, token) for token in voters for poll in spec["polls"])  # each voter once per poll
    supports = ((idea, token) for token in voters for idea in spec["ideas"])
    commenters = cycle(voters)
    ideas = cycle(spec["ideas"])
    n = 0
    while True:
        n += 1
        kind = ("vote", "support", "comment")[n % 3]
        ballot = next(ballots, None) if kind == "vote" else None
        if kind == "vote" and ballot is None:
            kind = "support"  # every voter voted in every poll: keep the rate with supports
        if kind == "vote" and ballot is not None:
            poll, token = ballot
            options = spec["options"][poll]
            variables = {"i": {"pollId": poll, "optionIds": [options[n % len(options)]]}}
            query = CAST_VOTE
        elif kind == "support":
            idea, token = next(supports)  # a voter supports each idea once, then the next voter
            variables = {"i": {"ideaId": idea}}
            query = SUPPORT
        else:
            token = next(commenters)
            variables = {"i": {"subjectId": next(ideas), "body": f"Bench comment {n}"}}
            query = COMMENT
        body = json.dumps({"query": query, "variables": variables}, separators=(",", ":"))
        yield kind, {"path": "/graphql", "body": body,
                     "headers": {"content-type": "application/json", "authorization": f"Bearer {token}"}}


async def run(spec: dict[str, Any], stop: asyncio.Event) -> dict[str, Any]:
    port, interval = spec["port"], 1.0 / spec["rate"]
    reader, writer = await asyncio.open_connection(HOST, port)
    done: dict[str, int] = {"vote": 0, "support": 0, "comment": 0}
    refused: dict[str, int] = {}
    errors = 0
    started = time.monotonic()
    due = started
    try:
        for kind, request in writes(spec):
            if stop.is_set():
                break
            writer.write(encode(port, request))
            await writer.drain()
            status, body = await read_response(reader)
            answer = json.loads(body) if status == 200 else {}
            codes = [e["code"] for payload in (answer.get("data") or {}).values() if payload
                     for e in payload.get("userErrors") or ()]
            if status != 200 or answer.get("errors"):
                errors += 1
            elif codes:
                refused[codes[0]] = refused.get(codes[0], 0) + 1
            else:
                done[kind] += 1
            due += interval
            pause = due - time.monotonic()
            if pause > 0:
                try:
                    await asyncio.wait_for(stop.wait(), pause)
                except TimeoutError:
                    pass
    finally:
        writer.close()
    seconds = time.monotonic() - started
    return {"seconds": round(seconds, 2), "done": done, "rate": round(sum(done.values()) / seconds, 2),
            "refused": refused, "errors": errors}


def main() -> None:
    with open(sys.argv[1]) as file:
        spec = json.load(file)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    report = loop.run_until_complete(run(spec, stop))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
