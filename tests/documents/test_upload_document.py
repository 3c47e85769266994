"""uploadDocument: odile the official publishes the SCoT's draft plan as a file with her project.

The file's type is read from its bytes, images lose their metadata and need a text
alternative, the territory's size limit holds, and the file is served at its URL with the
headers a browser must not second-guess."""

from __future__ import annotations

from models.accounts import Role
from models.projects import Document as DocumentRow
from models.projects import DocumentVersion as VersionRow
from models.territories import Territory
from schema.relay import encode_id
from tests.documents.stories import (
    EXE,
    PDF,
    docx,
    exif_of,
    files_under,
    gps_of,
    image_with_gps,
    odt,
    path_of,
    project_with_odile,
    stored,
    upload,
)
from tests.factories import make_person
from tests.projects.stories import pk_of, top_code


async def test_odile_uploads_the_draft_plan_as_a_pdf_and_anyone_reads_it(gql, http, settings):
    _, odile, project_id = await project_with_odile(gql)

    result = await upload(http, odile.token, project_id, PDF, filename="SCoT révision (v1).pdf",
                          title="  Projet de SCoT  ", language="fr", kind="MAP")

    payload = result["data"]["uploadDocument"]
    assert payload["userErrors"] == []
    document = payload["document"]
    assert (document["title"], document["kind"], document["language"], document["draft"]) == (
        "Projet de SCoT", "MAP", "fr", False)
    current = document["currentVersion"]
    assert (current["number"], current["size"], current["contentType"]) == (1, len(PDF), "application/pdf")
    assert current["filename"] == "SCoT-revision-v1.pdf"
    assert document["versions"] == [current]
    assert document["url"] == current["url"]
    assert current["url"].startswith(settings.files_base_url + "/documents/") and "signature" not in current["url"]

    served = await http.get(path_of(document["url"]))
    assert served.status_code == 200
    assert served.content == PDF
    assert served.headers["content-type"] == "application/pdf"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-disposition"].startswith('inline; filename="SCoT-revision-v1.pdf"')
    # On disk under the files folder, and listed with the project.
    row = await VersionRow.get(document_id=pk_of(document["id"], "Document"))
    assert stored(settings.files_dir, row.key) == PDF
    listed = await gql("query($id: ID!) { node(id: $id) { ... on Project { documents { id url } } } }",
                       {"id": project_id})
    assert listed["data"]["node"]["documents"] == [{"id": document["id"], "url": document["url"]}]


async def test_office_documents_are_told_from_their_content_and_downloaded(gql, http):
    _, odile, project_id = await project_with_odile(gql)

    word = (await upload(http, odile.token, project_id, docx(), filename="notes.bin",
                         content_type="application/octet-stream"))["data"]["uploadDocument"]["document"]
    writer = (await upload(http, odile.token, project_id, odt(), filename="notes"))["data"]["uploadDocument"]["document"]

    assert word["currentVersion"]["contentType"] == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    assert word["currentVersion"]["filename"] == "notes.docx"
    assert writer["currentVersion"]["contentType"] == "application/vnd.oasis.opendocument.text"
    served = await http.get(path_of(word["url"]))
    assert served.headers["content-disposition"].startswith('attachment; filename="notes.docx"')


async def test_an_executable_named_pdf_is_refused_and_nothing_is_kept(gql, http, settings):
    _, odile, project_id = await project_with_odile(gql)
    files_before = files_under(settings.files_dir)

    result = await upload(http, odile.token, project_id, EXE, filename="plan.pdf", content_type="application/pdf")

    assert result["data"]["uploadDocument"] == {"document": None, "userErrors": [{
        "field": ["input", "file"], "code": "UNSUPPORTED_TYPE", "maxBytes": None,
        "message": "Only PDF, PNG, JPEG, WebP and office documents (docx, xlsx, pptx, odt, ods, odp).",
    }]}
    assert await DocumentRow.filter(project_id=pk_of(project_id, "Project")).count() == 0
    assert files_under(settings.files_dir) == files_before


async def test_a_photo_keeps_no_gps_position_nor_camera(gql, http, settings):
    _, odile, project_id = await project_with_odile(gql)
    for fmt, mime, name in (("PNG", "image/png", "site.png"), ("JPEG", "image/jpeg", "site.jpg"),
                            ("WEBP", "image/webp", "site.webp")):
        photo = image_with_gps(fmt)
        assert gps_of(photo) != {} and exif_of(photo) != {}, fmt  # the file as the phone wrote it

        result = await upload(http, odile.token, project_id, photo, filename=name, content_type=mime,
                              altText="The rail yard seen from the footbridge")

        document = result["data"]["uploadDocument"]["document"]
        assert document["altText"] == "The rail yard seen from the footbridge"
        assert document["currentVersion"]["contentType"] == mime
        served = (await http.get(path_of(document["url"]))).content
        assert gps_of(served) == {} and exif_of(served) == {}, fmt
        row = await VersionRow.get(document_id=pk_of(document["id"], "Document"))
        kept = stored(settings.files_dir, row.key)
        assert kept == served and row.size == len(kept)


async def test_an_image_needs_its_text_alternative(gql, http):
    _, odile, project_id = await project_with_odile(gql)

    for alt in ({}, {"altText": "   "}):
        result = await upload(http, odile.token, project_id, image_with_gps(), filename="map.png",
                              content_type="image/png", **alt)
        errors = result["data"]["uploadDocument"]["userErrors"]
        assert [(e["code"], e["field"]) for e in errors] in (
            [("ALT_TEXT_REQUIRED", ["input", "altText"])], [("INVALID", ["input", "altText"])])
    assert await DocumentRow.filter(project_id=pk_of(project_id, "Project")).count() == 0


async def test_a_file_over_the_territorys_limit_is_refused_with_the_limit(gql, http):
    place, odile, project_id = await project_with_odile(gql)
    await Territory.filter(id=place.id).update(upload_max_bytes=2048)

    too_big = PDF + b"%" * 2048
    result = await upload(http, odile.token, project_id, too_big)

    assert result["data"]["uploadDocument"]["userErrors"] == [{
        "field": ["input", "file"], "code": "FILE_TOO_LARGE", "maxBytes": 2048,
        "message": "The file is larger than 2048 bytes.",
    }]
    assert await DocumentRow.filter(project_id=pk_of(project_id, "Project")).count() == 0
    fits = (await upload(http, odile.token, project_id, PDF + b"%" * (2048 - len(PDF))))["data"]["uploadDocument"]
    assert fits["userErrors"] == [] and fits["document"]["currentVersion"]["size"] == 2048


async def test_the_deployments_ceiling_caps_every_territory(gql, http, app):
    # A body past PARVIS_UPLOAD_MAX_BYTES (and its envelope) is refused before it is read.
    _, odile, project_id = await project_with_odile(gql)
    ceiling = app.state.settings.upload_max_bytes
    huge = PDF + b"%" * (ceiling + 2 * 1024 * 1024)

    response = await http.post(
        "/graphql", headers={"Authorization": f"Bearer {odile.token}", "Apollo-Require-Preflight": "true"},
        data={"operations": "{}", "map": "{}"}, files={"0": ("big.pdf", huge, "application/pdf")},
    )

    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_title_and_language_are_checked_with_their_paths(gql, http):
    _, odile, project_id = await project_with_odile(gql)

    result = await upload(http, odile.token, project_id, PDF, title="", language="français!")

    assert [(e["code"], e["field"]) for e in result["data"]["uploadDocument"]["userErrors"]] == [
        ("INVALID", ["input", "title"]), ("INVALID", ["input", "language"])]


async def test_the_territorys_admin_sets_its_limit(gql, http, app):
    place, odile, project_id = await project_with_odile(gql)
    adam = await make_person("adam", place, role=Role.ADMIN)
    update = """mutation($input: UpdateTerritoryInput!) { updateTerritory(input: $input) {
        territory { uploadMaxBytes } userErrors { field code } } }"""
    territory_id = encode_id("Territory", place.id)
    ceiling = app.state.settings.upload_max_bytes

    refused = await gql(update, {"input": {"territoryId": territory_id, "uploadMaxBytes": ceiling + 1}},
                        token=adam.token)
    assert refused["data"]["updateTerritory"]["userErrors"] == [{"field": ["input", "uploadMaxBytes"],
                                                                 "code": "INVALID"}]
    assert top_code(await gql(update, {"input": {"territoryId": territory_id, "uploadMaxBytes": 4096}},
                              token=odile.token)) == "FORBIDDEN"
    done = await gql(update, {"input": {"territoryId": territory_id, "uploadMaxBytes": 4096}}, token=adam.token)
    assert done["data"]["updateTerritory"]["territory"] == {"uploadMaxBytes": 4096}

    result = await upload(http, odile.token, project_id, PDF + b"%" * 4096)
    assert [(e["code"], e["maxBytes"]) for e in result["data"]["uploadDocument"]["userErrors"]] == [
        ("FILE_TOO_LARGE", 4096)]
