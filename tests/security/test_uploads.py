"""Uploads, as an attacker would try them: the wrong role, a foreign page posting a form
(CSRF), names that climb out of the folder, a type that lies, a string or a form field where
a file belongs, and a draft's URL without its signature. Each is refused with its code and
leaves nothing behind: no row, no file."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path
from urllib.parse import quote, urlsplit

from models.accounts import Role
from models.projects import Document as DocumentRow
from models.projects import DocumentVersion as VersionRow
from storage.files import LocalStore, clean_filename, is_key
from storage.kinds import sniff
from tests.documents.stories import (
    PDF,
    UPLOAD,
    files_under,
    image_with_gps,
    path_of,
    post_multipart,
    project_with_odile,
    stored_path,
    upload,
)
from tests.factories import make_person, make_territory
from tests.projects.stories import pk_of, top_code


async def nothing_kept(project_id: str, files_dir: str, before: list[Path]) -> bool:
    rows = await DocumentRow.filter(project_id=pk_of(project_id, "Project")).count()
    return rows == 0 and files_under(files_dir) == before


async def test_only_officials_and_admins_of_the_territory_upload(gql, http, settings):
    place, odile, project_id = await project_with_odile(gql)
    alice = await make_person("alice", place)
    mona = await make_person("mona", place, role=Role.MODERATOR)
    otto = await make_person("otto", await make_territory(), role=Role.OFFICIAL)
    before = files_under(settings.files_dir)

    assert top_code(await upload(http, None, project_id, PDF)) == "UNAUTHENTICATED"
    for who in (alice, mona, otto):
        result = await upload(http, who.token, project_id, PDF)
        assert top_code(result) == "FORBIDDEN", who
        assert result["data"] is None
    assert await nothing_kept(project_id, settings.files_dir, before)


async def test_a_citizen_cannot_replace_a_document(gql, http):
    place, odile, project_id = await project_with_odile(gql)
    alice = await make_person("alice", place)
    document = (await upload(http, odile.token, project_id, PDF))["data"]["uploadDocument"]["document"]
    response = await post_multipart(
        http, "mutation($input: ReplaceDocumentInput!) { replaceDocument(input: $input) { document { id } } }",
        {"input": {"documentId": document["id"], "file": None}}, {"input.file": ("x.pdf", PDF, "application/pdf")},
        alice.token,
    )
    assert top_code(response.json()) == "FORBIDDEN"
    assert await VersionRow.filter(document_id=pk_of(document["id"], "Document")).count() == 1


async def test_a_multipart_post_without_the_preflight_header_is_refused(gql, http, settings):
    # What a foreign page's <form enctype="multipart/form-data"> can send without a preflight.
    _, odile, project_id = await project_with_odile(gql)
    before = files_under(settings.files_dir)
    variables = {"input": {"projectId": project_id, "title": "CSRF", "file": None}}

    response = await post_multipart(http, UPLOAD, variables, {"input.file": ("a.pdf", PDF, "application/pdf")},
                                    odile.token, preflight=False)

    assert response.status_code == 415
    assert response.json()["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert "apollo-require-preflight" in response.json()["errors"][0]["message"]
    assert await nothing_kept(project_id, settings.files_dir, before)


async def test_names_that_climb_out_of_the_folder_stay_in_it(gql, http, settings):
    _, odile, project_id = await project_with_odile(gql)
    for name in ("../../../../etc/passwd.pdf", "..\\..\\boot.ini", "/etc/shadow", "....//x.pdf", "\x00.pdf",
                 "a/../../b.pdf", ".htaccess"):
        document = (await upload(http, odile.token, project_id, PDF, filename=name))["data"]["uploadDocument"][
            "document"]
        key = urlsplit(document["url"]).path.removeprefix("/files/")
        assert is_key(key), key
        assert ".." not in key and "/" not in document["currentVersion"]["filename"]
        path = stored_path(settings.files_dir, key)
        assert path.is_relative_to(stored_path(settings.files_dir, ""))
        assert path.read_bytes() == PDF
    assert clean_filename("../../etc/passwd.exe", "pdf") == "passwd.pdf"
    assert clean_filename("..", "pdf") == "document.pdf"


async def test_the_files_route_serves_nothing_outside_its_keys(gql, http, settings):
    secret = Path(settings.files_dir).parent / "outside-secret.txt"
    secret.write_text("SECRET")
    try:
        for path in ("/files/../outside-secret.txt", "/files/%2e%2e/outside-secret.txt",
                     "/files/documents/" + "0" * 32 + "/..%2F..%2F..%2Foutside-secret.txt",
                     "/files/" + quote("documents/../../outside-secret.txt", safe=""),
                     "/files/.parvis-secret", "/files/documents/" + "0" * 32 + "/nothing.pdf"):
            response = await http.get(path)
            assert response.status_code == 404, path
            assert b"SECRET" not in response.content
        assert LocalStore(settings.files_dir).local_path("documents/../../outside-secret.txt") is None
    finally:
        secret.unlink()


async def test_the_type_is_the_contents_whatever_the_client_claims(gql, http):
    _, odile, project_id = await project_with_odile(gql)
    html = b"<!doctype html><script>fetch('/graphql')</script>"
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'

    for content, name, mime in ((html, "plan.pdf", "application/pdf"), (svg, "map.png", "image/png"),
                                (html, "x.html", "text/html"), (b"", "empty.pdf", "application/pdf")):
        result = await upload(http, odile.token, project_id, content, filename=name, content_type=mime)
        assert [e["code"] for e in result["data"]["uploadDocument"]["userErrors"]] == ["UNSUPPORTED_TYPE"], name

    # A PNG sent as a PDF is a PNG: it needs its text alternative, and is served as image/png.
    png = image_with_gps()
    refused = await upload(http, odile.token, project_id, png, filename="plan.pdf")
    assert [e["code"] for e in refused["data"]["uploadDocument"]["userErrors"]] == ["ALT_TEXT_REQUIRED"]
    document = (await upload(http, odile.token, project_id, png, filename="plan.pdf", altText="A map"))[
        "data"]["uploadDocument"]["document"]
    assert document["currentVersion"]["filename"] == "plan.png"
    served = await http.get(path_of(document["url"]))
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in served.headers["content-security-policy"]
    # A zip that is no office document, and a PDF header on a truncated file, decide alone.
    assert sniff(b"PK\x03\x04garbage") is None
    assert sniff(b"%PDF-") is not None


async def test_a_string_or_a_form_field_is_no_file(gql, http, settings):
    _, odile, project_id = await project_with_odile(gql)
    before = files_under(settings.files_dir)

    # In JSON: the Upload scalar refuses a string.
    as_json = await gql(UPLOAD, {"input": {"projectId": project_id, "title": "x", "file": "%PDF-1.7"}},
                        token=odile.token)
    assert as_json["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    # A map that points the variable at the operations field, or at a part that is missing.
    variables = {"input": {"projectId": project_id, "title": "x", "file": None}}
    for files_map in ({"operations": ["variables.input.file"]}, {"9": ["variables.input.file"]},
                      {"0": ["query"]}, {"0": "variables.input.file"}, {"0": ["variables.input.nope.deeper"]}):
        response = await post_multipart(http, UPLOAD, variables, {"input.file": ("a.pdf", PDF, "application/pdf")},
                                        odile.token, files_map=files_map)
        assert response.status_code == 400, files_map
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert await nothing_kept(project_id, settings.files_dir, before)


async def test_multipart_carries_one_mutation_and_few_files(gql, http, settings):
    _, odile, project_id = await project_with_odile(gql)
    auth = {"Authorization": f"Bearer {odile.token}", "Apollo-Require-Preflight": "true"}
    query = {"query": "{ __typename }", "variables": {}}
    as_query = await http.post("/graphql", headers=auth, data={"operations": json.dumps(query), "map": "{}"},
                               files={"0": ("a.pdf", PDF, "application/pdf")})
    assert as_query.status_code == 400

    variables = {"input": {"projectId": project_id, "title": "x", "file": None}}
    many = {str(i): (f"{i}.pdf", PDF, "application/pdf") for i in range(5)}
    response = await http.post(
        "/graphql", headers=auth, files=many,
        data={"operations": json.dumps({"query": UPLOAD, "variables": variables}),
              "map": json.dumps({str(i): ["variables.input.file"] for i in range(5)})},
    )
    assert response.status_code == 400
    assert await DocumentRow.filter(project_id=pk_of(project_id, "Project")).count() == 0


async def test_a_draft_url_without_its_signature_serves_nothing(gql, http):
    place, odile, project_id = await project_with_odile(gql)
    alice = await make_person("alice", place)
    draft = (await upload(http, odile.token, project_id, PDF, draft=True))["data"]["uploadDocument"]["document"]
    path = urlsplit(draft["url"]).path

    for url in (path, path + "?expires=9999999999", path + "?signature=x", path + "?expires=-1&signature=",
                path + "?expires=1e99&signature=abc"):
        response = await http.get(url, headers={"Authorization": f"Bearer {alice.token}"})
        assert response.status_code == 403, url
        assert PDF not in response.content
    # Nor does alice learn its URL: the draft is not hers to see.
    node = await gql("query($id: ID!) { node(id: $id) { ... on Document { url } } }", {"id": draft["id"]},
                     token=alice.token)
    assert node["data"]["node"] is None
    replaced = await post_multipart(
        http, "mutation($input: ReplaceDocumentInput!) { replaceDocument(input: $input) { userErrors { code } } }",
        {"input": {"documentId": draft["id"], "file": None}}, {"input.file": ("x.pdf", PDF, "application/pdf")},
        alice.token,
    )
    assert replaced.json()["data"]["replaceDocument"]["userErrors"] == [{"code": "NOT_FOUND"}]


def png_claiming(width: int, height: int) -> bytes:
    """A real small PNG whose header claims other dimensions (a decompression bomb's trick)."""
    data = bytearray(image_with_gps())
    # IHDR: 8-byte signature, 4-byte length, "IHDR", then width and height; its CRC follows the 13 bytes.
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


async def test_an_image_claiming_huge_dimensions_is_refused_before_decoding(gql, http, settings):
    _, odile, project_id = await project_with_odile(gql)
    before = files_under(settings.files_dir)

    # Past Parvis's limit, then past Pillow's own (which it raises while opening).
    for width, height in ((10_000, 5_000), (100_000, 100_000)):
        result = await upload(http, odile.token, project_id, png_claiming(width, height), filename="bomb.png",
                              content_type="image/png", altText="Nothing")
        assert [(e["code"], e["message"]) for e in result["data"]["uploadDocument"]["userErrors"]] == [
            ("UNSUPPORTED_TYPE", "The image is larger than 40000000 pixels.")]
    assert await nothing_kept(project_id, settings.files_dir, before)
    # A truncated image is refused the same way, not with a 500.
    broken = await upload(http, odile.token, project_id, image_with_gps()[:40], filename="cut.png",
                          content_type="image/png", altText="Nothing")
    assert [e["code"] for e in broken["data"]["uploadDocument"]["userErrors"]] == ["UNSUPPORTED_TYPE"]
