"""GraphiQL with no way out to the internet: its assets served by the API itself.

This machine has no internet, like an air-gapped deployment: GraphiQL renders here only if
every file it needs comes from the API.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from access.ratelimit import DEFAULT_LIMITS, Limiter
from app.graphiql import ASSETS, UNPKG
from app.settings import Settings
from server import build_app
from tests.browser import chromium, needs_chromium, serving
from tests.e2e.server import ROOT

RENDERED = """new Promise((resolve) => {
  const started = Date.now();
  const look = () => {
    const editor = document.querySelector(".graphiql-container .graphiql-editor");
    if (editor) return resolve({rendered: true, text: document.body.innerText.slice(0, 200)});
    if (Date.now() - started > 15000) return resolve({rendered: false, text: document.body.innerText.slice(0, 200)});
    setTimeout(look, 100);
  };
  look();
})"""


@pytest.fixture(scope="module")
def assets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """GraphiQL's files, fetched as an operator would (npm registry, checked by hash)."""
    if shutil.which("npm") is None and not os.environ.get("PARVIS_REQUIRE_BROWSER"):
        pytest.skip("npm is not installed: it fetches GraphiQL's files")
    directory = tmp_path_factory.mktemp("graphiql-assets")
    done = subprocess.run([sys.executable, "server.py", "fetch-graphiql-assets", str(directory)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, env={**os.environ, "DATABASE_URL": "sqlite://unused"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{len(ASSETS)} files in {directory}: set PARVIS_GRAPHIQL_ASSETS={directory}"
    return directory


def api(settings: Settings, assets: Path) -> Any:
    unlimited = Limiter(overrides={name: (10**9, 60) for name in DEFAULT_LIMITS})
    return build_app(dataclasses.replace(settings, env="development", graphiql_assets=str(assets)),
                     manage_database=False, limiter=unlimited)


@needs_chromium
async def test_graphiql_renders_with_no_internet(settings: Settings, assets: Path) -> None:
    async with serving(api(settings, assets)) as base, chromium() as browser:
        # When a developer opens the API in a browser on a network with no way out
        page = await browser.open(base + "/graphql")
        # Then GraphiQL renders (not "Loading...")
        shown = await browser.evaluate(page, RENDERED)
    assert shown["rendered"], shown


async def test_the_page_names_only_the_local_copies_and_keeps_their_integrity(settings: Settings, assets: Path,
                                                                               http: Any) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api(settings, assets)), base_url="http://api") as c:
        page = (await c.get("/graphql", headers={"Accept": "text/html"})).text
        assert UNPKG not in page and page.count("integrity=") == len(ASSETS)
        script = await c.get("/graphiql-assets/graphiql@3.8.3_graphiql.min.js")
        assert script.status_code == 200 and len(script.content) > 1_000_000
    # (the default, for connected machines, stays the CDN)
    default = (await http.get("/graphql", headers={"Accept": "text/html"})).text
    assert UNPKG + "graphiql@3.8.3/graphiql.min.js" in default
