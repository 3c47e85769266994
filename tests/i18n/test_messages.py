"""Messages in the reader's language: userErrors, top-level errors and notifications in French
or English, chosen by Accept-Language, else the viewer's account locale, else the territory's
(PARVIS_LOCALE), else French; codes and parameters the same in every language."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
import pytest

from access.i18n import LOCALES, negotiate, translate
from access.ratelimit import Decision
from models.accounts import Account, Role
from resolvers.mutations import rate_limited
from schema.errors import UserErrorCode
from tests.cache.test_response_cache import TALLY, cache_of, warm
from tests.factories import gid, make_person, make_territory
from tests.questions.stories import ASK, asked, reply
from tests.reach.stories import inbox

VIEWER = "{ viewer { id } }"


async def post(http: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None, *,
               token: str | None = None, language: str | None = None) -> dict[str, Any]:
    headers = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if language is not None:
        headers["Accept-Language"] = language
    response = await http.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


ASK_WITH_PARAMS = ASK.replace("userErrors { field message code }",
                              "userErrors { field message code params { name value } }")


async def test_the_same_bad_question_in_french_and_english_has_one_code_and_params(http: httpx.AsyncClient) -> None:
    # Given alice, a member of her town
    territory = await make_territory()
    alice = await make_person("alice", territory)

    # When she asks a question without a title, once in French and once in English
    answers = {}
    for language in ("fr-FR,fr;q=0.9", "en-GB,en;q=0.8"):
        body = await post(http, ASK_WITH_PARAMS, {"input": {"territoryId": gid("Territory", territory.id), "title": "  ",
                                                  "body": "When will the bus run on Sundays?"}},
                          token=alice.token, language=language)
        answers[language[:2]] = body["data"]["askQuestion"]

    # Then both refuse with the same code, field and parameters, in their own words
    [fr], [en] = answers["fr"]["userErrors"], answers["en"]["userErrors"]
    assert answers["fr"]["question"] is None and answers["en"]["question"] is None
    assert fr["code"] == en["code"] == "INVALID"
    assert fr["field"] == en["field"] == ["input", "title"]
    assert fr["params"] == en["params"] == [{"name": "min", "value": "1"}, {"name": "max", "value": "200"}]
    assert en["message"] == "Must be 1 to 200 characters long."
    assert fr["message"] == "Doit compter de 1 à 200 caractères."


async def test_a_non_member_is_told_in_the_language_of_her_account_unless_her_browser_says_otherwise(
    http: httpx.AsyncClient,
) -> None:
    # Given bruno, whose account reads French, who has not joined the town
    territory = await make_territory()
    bruno = await make_person("bruno", None)
    await Account.filter(id=bruno.account.id).update(locale="fr")
    variables = {"input": {"territoryId": gid("Territory", territory.id), "title": "Bus", "body": "Sundays?"}}

    # When he asks a question with no Accept-Language, then with English, then German only
    plain = await post(http, ASK, variables, token=bruno.token)
    english = await post(http, ASK, variables, token=bruno.token, language="en")
    german = await post(http, ASK, variables, token=bruno.token, language="de-DE")

    # Then his account's French is the default, English wins when asked, and an unsupported
    # language falls back to the account's
    assert plain["data"]["askQuestion"]["userErrors"] == [
        {"field": ["input", "territoryId"], "code": "NOT_A_MEMBER", "message": "Rejoignez le territoire pour poser une question."}]
    assert english["data"]["askQuestion"]["userErrors"][0]["message"] == "Join the territory to ask a question."
    assert german["data"]["askQuestion"]["userErrors"][0]["message"] == "Rejoignez le territoire pour poser une question."

    # And an English account reads English without a header
    await Account.filter(id=bruno.account.id).update(locale="en")
    again = await post(http, ASK, variables, token=bruno.token)
    assert again["data"]["askQuestion"]["userErrors"][0]["message"] == "Join the territory to ask a question."


async def test_top_level_errors_keep_their_code_and_speak_the_readers_language(http: httpx.AsyncClient) -> None:
    # When an anonymous client asks for a mutation that needs an account, in each language
    query = 'mutation { markNotificationsRead(input: {ids: null}) }'
    fr = await post(http, query, language="fr")
    en = await post(http, query, language="en")
    # Then the code is the same and the message is in the client's language
    assert fr["errors"][0]["extensions"]["code"] == en["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert fr["errors"][0]["message"] == "Connexion requise."
    assert en["errors"][0]["message"] == "Authentication required."

    # And a revoked token is refused in French too
    revoked = await post(http, VIEWER, token="not-a-token", language="fr")
    assert revoked["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_the_territorys_language_is_the_default_of_anonymous_clients() -> None:
    assert negotiate(None, None, "en") == "en"
    assert negotiate(None, None, None) == "fr"
    assert negotiate("*", None, "fr") == "fr"
    assert negotiate("en;q=0, fr", "en", "en") == "fr"
    assert negotiate("xx-invalid;q=abc, en;q=0.5", None, None) == "en"


async def test_notifications_are_written_in_each_recipients_language(gql: Any) -> None:
    # Given alice (English) and bruno (French), both asking odile a question
    territory = await make_territory()
    odile = await make_person("odile", territory, Role.OFFICIAL)
    alice = await make_person("alice", territory)
    bruno = await make_person("bruno", territory)
    await Account.filter(id=bruno.account.id).update(locale="fr")
    for asker in (alice, bruno):
        question = await asked(gql, asker.token, territory)
        # When odile replies
        assert not (await reply(gql, odile.token, question["id"])).get("errors")

    # Then each reads it in their language
    [to_alice] = [n for n in await inbox(gql, alice.token) if n["kind"] == "QUESTION_ANSWERED"]
    [to_bruno] = [n for n in await inbox(gql, bruno.token) if n["kind"] == "QUESTION_ANSWERED"]
    assert to_alice["message"].startswith("Odile replied to your question: ")
    assert to_bruno["message"].startswith("Odile a répondu à votre question : ")


async def test_a_french_answer_is_never_served_to_an_english_client_from_the_cache(
    http: httpx.AsyncClient, app: Any
) -> None:
    # Given a French answer kept in the anonymous response cache (marked so we can tell it)
    territory = await make_territory()
    cache = cache_of(app)
    variables = {"slug": territory.slug}
    http.headers["Accept-Language"] = "fr"
    try:
        await warm(http, cache, TALLY, variables)
        [key] = [k for k in cache._entries if k[0] == TALLY and b'"slug"' in k[1] and territory.slug.encode() in k[1]]
        assert key[-1] == "fr"
        entry = cache._entries[key]
        cache._entries[key] = dataclasses.replace(entry, body=entry.body.replace(b'"territory"', b'"territoire"'))
        french = await post(http, TALLY, variables, language="fr")
        assert "territoire" in french["data"]  # served from the cache

        # When an English client asks the same query
        english = await post(http, TALLY, variables, language="en")
    finally:
        del http.headers["Accept-Language"]

    # Then it gets its own answer, never the French one
    assert "territory" in english["data"] and "territoire" not in english["data"]
    assert {k[-1] for k in cache._entries if k[0] == TALLY and territory.slug.encode() in k[1]} <= {"fr", "en"}


async def test_anonymous_get_answers_vary_on_accept_language(http: httpx.AsyncClient) -> None:
    response = await http.get("/graphql", params={"query": "{ __typename }"}, headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert "accept-language" in response.headers["vary"].lower()


def test_every_language_has_every_catalogued_message() -> None:
    assert translate("fr", "INVALID", "Must be {min} to {max} characters long.", {"min": 1, "max": 3}) == \
        "Doit compter de 1 à 3 caractères."
    assert set(LOCALES) == {"fr", "en"}


@pytest.mark.parametrize(("wait", "fr", "en"), [
    (60.0, "Trop de votes ; réessayez dans 60 secondes.", "Too many votes; retry in 60 seconds."),
    (0.4, "Trop de votes ; réessayez dans 1 seconde.", "Too many votes; retry in 1 second."),
])
def test_a_rate_limit_says_when_to_retry_in_words_and_in_params(wait: float, fr: str, en: str) -> None:
    [error] = rate_limited(Decision(False, wait), "votes")
    seconds = Decision(False, wait).retry_seconds
    assert error.code is UserErrorCode.RATE_LIMITED and error.retry_after_seconds == seconds
    assert [(p.name, p.value) for p in error.params()] == [("what", "votes"), ("retryAfterSeconds", str(seconds))]
    assert translate("fr", "RATE_LIMITED", error.message, error.arguments) == fr
    assert translate("en", "RATE_LIMITED", error.message, error.arguments) == en


async def test_a_query_over_a_limit_is_refused_in_each_language_with_the_same_extensions(
    http: httpx.AsyncClient,
) -> None:
    aliases = " ".join(f"a{i}: __typename" for i in range(31))
    fr, en, fr_again = [await post(http, "{ " + aliases + " }", language=language)
                        for language in ("fr", "en", "fr")]
    [fr_error], [en_error], [again] = fr["errors"], en["errors"], fr_again["errors"]
    assert fr_error["extensions"] == en_error["extensions"] == {"code": "TOO_MANY_ALIASES", "count": 31, "limit": 30}
    assert en_error["message"] == "The query has 31 aliases; the limit is 30."
    assert fr_error["message"] == again["message"] == "La requête a 31 alias ; la limite est 30."
