"""The same stories on an S3-compatible store: moto's S3 API served in the test process on a
free port (server mode), reached over HTTP by boto3 as a real deployment's store would be."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

from access.ratelimit import DEFAULT_LIMITS, Limiter
from app.settings import Settings
from server import build_app
from storage.files import S3Store
from tests.documents.stories import PDF, gps_of, image_with_gps, path_of, project_with_odile, upload
from tests.documents.stories import replace as replace_doc

BUCKET = "parvis-documents"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    client.create_bucket(Bucket=BUCKET)
    client.close()
    yield endpoint
    server.stop()


@pytest.fixture(scope="module")
async def s3_http(settings: Settings, s3_endpoint: str) -> AsyncIterator[httpx.AsyncClient]:
    s3_settings = replace(settings, s3_url=s3_endpoint, s3_bucket=BUCKET, s3_access_key_id="testing",
                          s3_secret_access_key="testing")
    built = build_app(s3_settings, manage_database=False,
                      limiter=Limiter(overrides={name: (10**9, 60) for name in DEFAULT_LIMITS}))
    assert isinstance(built.state.files.store, S3Store)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=built), base_url="http://testserver") as client:
        yield client
    built.state.files.store.close()
    await built.state.broker.close()
    await built.state.limiter.close()


def bucket_keys(endpoint: str) -> dict[str, bytes]:
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    try:
        listed = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
        return {o["Key"]: client.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read() for o in listed}
    finally:
        client.close()


async def fetch(s3_http: httpx.AsyncClient, url: str) -> tuple[httpx.Response, Any]:
    """The app's answer for a file URL, and what its redirect serves (None if it did not redirect)."""
    answer = await s3_http.get(path_of(url))
    if answer.status_code != 307:
        return answer, None
    async with httpx.AsyncClient(timeout=10) as outside:
        return answer, await outside.get(answer.headers["location"])


async def test_odile_uploads_to_s3_and_anyone_reads_it_through_a_presigned_redirect(gql, s3_http, s3_endpoint):
    _, odile, project_id = await project_with_odile(gql)

    result = await upload(s3_http, odile.token, project_id, PDF)

    document = result["data"]["uploadDocument"]["document"]
    key = urlsplit(document["url"]).path.removeprefix("/files/")
    assert bucket_keys(s3_endpoint)[key] == PDF
    answer, served = await fetch(s3_http, document["url"])
    assert answer.status_code == 307 and answer.headers["location"].startswith(s3_endpoint)
    assert "X-Amz-Signature" in answer.headers["location"]
    assert served.status_code == 200 and served.content == PDF
    assert served.headers["content-type"] == "application/pdf"
    assert served.headers["content-disposition"].startswith('inline; filename="plan.pdf"')


async def test_versions_drafts_and_clean_images_on_s3(gql, s3_http, s3_endpoint):
    _, odile, project_id = await project_with_odile(gql)
    photo = (await upload(s3_http, odile.token, project_id, image_with_gps("JPEG"), filename="p.jpg",
                          content_type="image/jpeg", altText="The square", draft=True))
    document = photo["data"]["uploadDocument"]["document"]

    bare = await s3_http.get(urlsplit(document["url"]).path)
    assert bare.status_code == 403 and "location" not in bare.headers
    answer, served = await fetch(s3_http, document["url"])
    assert served.status_code == 200 and gps_of(served.content) == {}

    replaced = (await replace_doc(s3_http, odile.token, document["id"], PDF))["data"]["replaceDocument"]["document"]
    assert [v["contentType"] for v in replaced["versions"]] == ["image/jpeg", "application/pdf"]
    _, served = await fetch(s3_http, replaced["url"])
    assert served.content == PDF
