"""replaceDocument keeps the history (a master plan goes through drafts), and drafts are read
only by the territory's editors and moderators, by signed URLs that expire."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import parse_qs, urlsplit

from models.accounts import Role
from models.projects import Document as DocumentRow
from models.projects import DocumentVersion as VersionRow
from models.projects import Project as ProjectRow
from storage.links import FileLinks
from tests.documents.stories import PDF, image_with_gps, path_of, project_with_odile, replace, upload
from tests.factories import make_person
from tests.projects.stories import pk_of

PDF_V2 = PDF.replace(b"%%EOF", b"% second draft\n%%EOF")


async def test_replacing_the_plan_keeps_every_version(gql, http):
    _, odile, project_id = await project_with_odile(gql)
    first = (await upload(http, odile.token, project_id, PDF))["data"]["uploadDocument"]["document"]

    result = await replace(http, odile.token, first["id"], PDF_V2, title="Projet de SCoT (arrêté)")

    payload = result["data"]["replaceDocument"]
    assert payload["userErrors"] == []
    document = payload["document"]
    assert document["title"] == "Projet de SCoT (arrêté)"
    assert [(v["number"], v["size"], v["filename"]) for v in document["versions"]] == [
        (1, len(PDF), "plan.pdf"), (2, len(PDF_V2), "plan-v2.pdf")]
    assert document["currentVersion"] == document["versions"][-1]
    assert document["url"] == document["currentVersion"]["url"] != first["url"]
    # Both files are still served, each at its own URL.
    assert (await http.get(path_of(document["versions"][0]["url"]))).content == PDF
    assert (await http.get(path_of(document["versions"][1]["url"]))).content == PDF_V2


async def test_a_replacement_is_checked_like_an_upload(gql, http):
    _, odile, project_id = await project_with_odile(gql)
    first = (await upload(http, odile.token, project_id, PDF))["data"]["uploadDocument"]["document"]

    image = await replace(http, odile.token, first["id"], image_with_gps(), filename="x.png", content_type="image/png")
    junk = await replace(http, odile.token, first["id"], b"<html><script>alert(1)</script>", filename="x.pdf")

    assert [e["code"] for e in image["data"]["replaceDocument"]["userErrors"]] == ["ALT_TEXT_REQUIRED"]
    assert [e["code"] for e in junk["data"]["replaceDocument"]["userErrors"]] == ["UNSUPPORTED_TYPE"]
    node = await gql("query($id: ID!) { node(id: $id) { ... on Document { versions { number } } } }",
                     {"id": first["id"]})
    assert node["data"]["node"]["versions"] == [{"number": 1}]


async def test_a_link_document_can_become_a_file(gql, http):
    _, odile, project_id = await project_with_odile(gql)
    added = await gql(
        "mutation($input: AddDocumentInput!) { addDocument(input: $input) { project { documents { id url } } } }",
        {"input": {"projectId": project_id, "document": {"title": "Plan", "url": "https://example.org/p.pdf",
                                                         "kind": "MAP"}}},
        token=odile.token,
    )
    link = added["data"]["addDocument"]["project"]["documents"][0]
    node = await gql("query($id: ID!) { node(id: $id) { ... on Document { url currentVersion { number } versions "
                     "{ number } } } }", {"id": link["id"]})
    assert node["data"]["node"] == {"url": "https://example.org/p.pdf", "currentVersion": None, "versions": []}

    document = (await replace(http, odile.token, link["id"], PDF))["data"]["replaceDocument"]["document"]

    assert [v["number"] for v in document["versions"]] == [1]
    assert document["url"] == document["currentVersion"]["url"]


async def test_a_draft_is_read_by_signed_url_by_editors_and_moderators_only(gql, http, app):
    place, odile, project_id = await project_with_odile(gql)
    alice = await make_person("alice", place)
    mona = await make_person("mona", place, role=Role.MODERATOR)
    draft = (await upload(http, odile.token, project_id, PDF, draft=True))["data"]["uploadDocument"]["document"]
    assert draft["draft"] is True
    signed = urlsplit(draft["url"])
    assert set(parse_qs(signed.query)) == {"expires", "signature"}

    # The signed URL serves it, privately; the bare URL does not.
    served = await http.get(path_of(draft["url"]))
    assert served.status_code == 200 and served.content == PDF
    assert served.headers["cache-control"] == "private, no-store"
    bare = await http.get(signed.path)
    assert bare.status_code == 403
    assert bare.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    # Alice and anonymous readers do not see it at all; odile and mona do.
    documents = "query($id: ID!) { node(id: $id) { ... on Project { documents { id draft } } } }"
    for token in (None, alice.token):
        assert (await gql(documents, {"id": project_id}, token=token))["data"]["node"]["documents"] == []
        node = await gql("query($id: ID!) { node(id: $id) { id } }", {"id": draft["id"]}, token=token)
        assert node["data"]["node"] is None
    for token in (odile.token, mona.token):
        listed = (await gql(documents, {"id": project_id}, token=token))["data"]["node"]["documents"]
        assert listed == [{"id": draft["id"], "draft": True}]

    # Publishing it makes its URL plain and public.
    published = (await replace(http, odile.token, draft["id"], PDF_V2, draft=False))["data"]["replaceDocument"]
    assert published["document"]["draft"] is False
    assert "signature" not in published["document"]["url"]
    assert (await http.get(path_of(published["document"]["versions"][0]["url"]))).content == PDF


async def test_a_signed_url_is_refused_once_expired_or_tampered_with(gql, http, app):
    _, odile, project_id = await project_with_odile(gql)
    draft = (await upload(http, odile.token, project_id, PDF, draft=True))["data"]["uploadDocument"]["document"]
    links: FileLinks = app.state.files
    key = urlsplit(draft["url"]).path.removeprefix("/files/")

    expired = links.signed_url(key, time.time() - links.signed_seconds - 1)
    query = parse_qs(urlsplit(draft["url"]).query)
    later = f"/files/{key}?expires={int(query['expires'][0]) + 3600}&signature={query['signature'][0]}"
    flipped = query["signature"][0][:-1] + ("A" if query["signature"][0][-1] != "A" else "B")
    forged = f"/files/{key}?expires={query['expires'][0]}&signature={flipped}"
    other_key = f"/files/{key[:-5]}x.pdf?expires={query['expires'][0]}&signature={query['signature'][0]}"

    for url in (path_of(expired), later, forged, other_key):
        response = await http.get(url)
        assert response.status_code in (403, 404), url
        assert PDF not in response.content
    assert (await http.get(path_of(draft["url"]))).status_code == 200


async def test_a_hidden_projects_files_need_a_signature_too(gql, http):
    _, odile, project_id = await project_with_odile(gql)
    document = (await upload(http, odile.token, project_id, PDF))["data"]["uploadDocument"]["document"]
    assert (await http.get(path_of(document["url"]))).status_code == 200

    await ProjectRow.filter(id=pk_of(project_id, "Project")).update(hidden=True)

    assert (await http.get(path_of(document["url"]))).status_code == 403
    assert await DocumentRow.filter(id=pk_of(document["id"], "Document")).count() == 1


async def test_two_replacements_at_once_each_keep_their_version(gql, http):
    _, odile, project_id = await project_with_odile(gql)
    first = (await upload(http, odile.token, project_id, PDF))["data"]["uploadDocument"]["document"]

    answers = await asyncio.gather(*(replace(http, odile.token, first["id"], PDF_V2) for _ in range(3)))

    assert all(a["data"]["replaceDocument"]["userErrors"] == [] for a in answers)
    numbers = await VersionRow.filter(document_id=pk_of(first["id"], "Document")).order_by("number").values_list(
        "number", flat=True)
    assert numbers == [1, 2, 3, 4]
