"""The messages of editing, deleting, reads, timeouts and HTTP refusals, written as msgids with parameters: the
same codes and params in French and English, each reader's words, the kind of content
translated inside the sentence."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from access.errors import error_in
from schema.authorship import COMMENT_EDIT_WINDOW
from tests.comments.test_edit_delete import written_ago
from tests.i18n.test_messages import post
from tests.news.stories import comment
from tests.polls.stories import town
from tests.questions.stories import asked

EDIT = """
mutation Edit($input: EditCommentInput!) {
  editComment(input: $input) { comment { body } userErrors { field message code params { name value } } }
}
"""
DELETE = """
mutation Delete($input: DeleteCommentInput!) {
  deleteComment(input: $input) { comment { id } userErrors { field message code params { name value } } }
}
"""
LANGUAGES = {"fr": "fr-FR,fr;q=0.9", "en": "en-GB,en;q=0.8"}


async def each_language(http: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
    return {lang: await post(http, query, variables, token=token, language=header) for lang, header in LANGUAGES.items()}


async def test_a_closed_edit_window_says_its_minutes_in_both_languages(gql: Any, http: httpx.AsyncClient) -> None:
    # Given alice's comment, written past the edit window
    t = await town()
    question = await asked(gql, t.bob.token, t.territory)
    said = await comment(gql, t.alice.token, question["id"], "First thought.")
    await written_ago(said["id"], COMMENT_EDIT_WINDOW + dt.timedelta(minutes=1))

    # When she edits it, in French and in English
    answers = await each_language(http, EDIT, {"input": {"commentId": said["id"], "body": "Second."}}, t.alice.token)

    # Then both refuse with the same code and params, in their own words
    [fr], [en] = (answers[lang]["data"]["editComment"]["userErrors"] for lang in ("fr", "en"))
    assert fr["code"] == en["code"] == "EDIT_WINDOW_CLOSED"
    assert fr["params"] == en["params"] == [{"name": "minutes", "value": "15"}]
    assert en["message"] == "A comment can be edited for 15 minutes after it was written."
    assert fr["message"] == "Un commentaire peut être modifié pendant 15 minutes après sa publication."


async def test_the_kind_of_content_is_translated_inside_the_sentence(gql: Any, http: httpx.AsyncClient) -> None:
    # Given alice's comment, which she deleted
    t = await town()
    question = await asked(gql, t.bob.token, t.territory)
    said = await comment(gql, t.alice.token, question["id"], "Oops.")
    variables = {"input": {"commentId": said["id"]}}
    first = await post(http, DELETE, variables, token=t.alice.token)
    assert first["data"]["deleteComment"]["userErrors"] == []

    # When bob tries to edit it, and alice deletes it again, in French and in English
    edits = await each_language(http, EDIT, {"input": {"commentId": said["id"], "body": "Mine."}}, t.bob.token)
    deletes = await each_language(http, DELETE, variables, t.alice.token)

    # Then bob hears a FORBIDDEN naming a comment in his language
    assert {lang: [e["message"] for e in edits[lang]["errors"]] for lang in LANGUAGES} == {
        "fr": ["Seul son auteur peut modifier ce contenu (commentaire)."],
        "en": ["Only its author may edit this comment."],
    }
    assert all(edits[lang]["errors"][0]["extensions"]["reason"] == "NOT_THE_AUTHOR" for lang in LANGUAGES)
    # And alice hears ALREADY_DELETED, its kind a param that stays English for programs
    [fr], [en] = (deletes[lang]["data"]["deleteComment"]["userErrors"] for lang in ("fr", "en"))
    assert fr["code"] == en["code"] == "ALREADY_DELETED"
    assert fr["params"] == en["params"] == [{"name": "kind", "value": "comment"}]
    assert en["message"] == "You already deleted this comment."
    assert fr["message"] == "Vous avez déjà supprimé ce contenu (commentaire)."


async def test_a_refused_read_argument_is_said_in_the_readers_language(http: httpx.AsyncClient) -> None:
    # When a client asks for a page too large, in French and in English
    answers = {lang: await post(http, "{ territories(first: 101) { totalCount } }", language=header)
               for lang, header in LANGUAGES.items()}

    # Then both answer BAD_USER_INPUT, each in its language (reads/ passes the msgid and its
    # params up; the error extension translates them)
    assert {lang: [(e["extensions"]["code"], e["message"]) for e in answers[lang]["errors"]] for lang in LANGUAGES} == {
        "fr": [("BAD_USER_INPUT", "`first` doit être compris entre 0 et 100.")],
        "en": [("BAD_USER_INPUT", "`first` must be between 0 and 100.")],
    }


async def test_refusals_made_before_graphql_follow_accept_language(http: httpx.AsyncClient) -> None:
    # When a client GETs a mutation and an unknown file, in French and in English (the test
    # deployment speaks English: PARVIS_LOCALE=en)
    answers = {}
    for lang, header in (*LANGUAGES.items(), ("default", None)):
        headers = {"Accept-Language": header} if header else {}
        mutation = await http.get("/graphql", params={"query": "mutation { logOut }"}, headers=headers)
        missing = await http.get("/files/nothing-here.pdf", headers=headers)
        answers[lang] = [(r.status_code, r.json()["errors"][0]["extensions"]["code"], r.json()["errors"][0]["message"])
                         for r in (mutation, missing)]

    # Then each answer keeps its status and code, said in the client's language, else the territory's
    assert answers == {
        "fr": [(405, "METHOD_NOT_ALLOWED", "Les mutations doivent être envoyées avec POST."),
               (404, "NOT_FOUND", "Ce fichier n'existe pas.")],
        "en": [(405, "METHOD_NOT_ALLOWED", "Mutations must be sent with POST."), (404, "NOT_FOUND", "No such file.")],
        "default": [(405, "METHOD_NOT_ALLOWED", "Mutations must be sent with POST."),
                    (404, "NOT_FOUND", "No such file.")],
    }


def test_errors_made_outside_the_error_extension_are_said_in_the_requests_language() -> None:
    # A timeout and a websocket's rate limit are answered past the extension that translates
    # errors: error_in says them in the request's language, keeping code and extensions
    timeout = error_in("fr", "The operation took longer than {seconds} s and was stopped.", "TIMEOUT", seconds="1.5")
    assert (timeout.message, timeout.extensions) == (
        "L'opération a duré plus de 1.5 s et a été interrompue.", {"code": "TIMEOUT"})
    limited = error_in("en", "Too many requests; retry in {retryAfterSeconds} seconds.", "RATE_LIMITED",
                       {"retryAfter": 7}, retryAfterSeconds=7)
    assert (limited.message, limited.extensions) == (
        "Too many requests; retry in 7 seconds.", {"code": "RATE_LIMITED", "retryAfter": 7})


async def test_persisted_query_refusals_are_translated_but_the_apollo_protocol_word(http: httpx.AsyncClient) -> None:
    french = {"Accept-Language": "fr"}
    unknown = {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}
    invalid = {"persistedQuery": {"version": 2, "sha256Hash": "0" * 64}}

    # When a French client sends an unknown hash, then a malformed persistedQuery
    asked = await http.post("/graphql", json={"extensions": unknown}, headers=french)
    malformed = await http.post("/graphql", json={"extensions": invalid}, headers=french)

    # Then Apollo's link still reads its protocol word, and the refusal speaks French
    assert asked.json() == {"errors": [{"message": "PersistedQueryNotFound",
                                        "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}]}
    assert malformed.status_code == 400
    assert malformed.json() == {"errors": [{"message": "persistedQuery demande la version 1 et un sha256Hash.",
                                            "extensions": {"code": "PERSISTED_QUERY_INVALID"}}]}
