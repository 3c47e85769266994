"""A process killed mid-vote or mid-fold, for tests/security/test_ballot_adversary.py.

Run as `python -m tests.security.killed_ballot vote|fold DATABASE_URL POLL_ID [MEMBER_ID POSITION]`
with PARVIS_SECRET set: it does the very work castVote (or a fold) does, inside one
transaction, prints READY once every statement ran, then waits to be killed (SIGKILL)
before it can commit.
"""

from __future__ import annotations

import asyncio
import os
import sys

from tortoise import Tortoise
from tortoise.transactions import in_transaction

from access.context import Context
from access.sealing import keys_for, seal_ballot
from app.database import tortoise_config
from app.settings import Settings
from events.brokers import InProcessBroker
from models.accounts import Member
from models.polls import Poll
from resolvers.ballot_writer import do_write_ballots
from resolvers.tally import do_fold, fold_at_close


async def main(mode: str, database_url: str, poll_id: int, rest: list[str]) -> None:
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)
    settings = Settings(database_url=database_url, secret=os.environ["PARVIS_SECRET"])
    ctx = Context(request=None, response=None, broker=InProcessBroker(), settings=settings)
    async with in_transaction():
        poll = await Poll.get(id=poll_id)
        if mode == "vote":
            member = await Member.get(id=int(rest[0]))
            # The statements of castVote's writer (group commit), for a batch of one.
            sealed = seal_ballot(keys_for(settings.secret), poll.id, [int(rest[1])])
            new, _ = await do_write_ballots(poll.id, [(member.id, sealed)])
            assert new == {member.id}
        else:
            assert await do_fold(ctx, fold_at_close(poll_id)) is not None, "nothing to fold"
        print("READY", flush=True)
        await asyncio.sleep(600)  # killed here, before the commit


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]))
