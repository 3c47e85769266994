"""GraphiQL without internet: its assets served by the API itself.

Strawberry's GraphiQL page loads React, GraphiQL and its explorer plugin from unpkg.com; on a
network with no way out it stays at "Loading...". With PARVIS_GRAPHIQL_ASSETS naming a
directory, the page loads the same files from /graphiql-assets/ instead. The page's
Subresource Integrity hashes stay in place, so the browser still checks that what is served
is exactly what unpkg serves; `server.py fetch-graphiql-assets DIR` fills the directory from
the npm registry (on a machine that has a way out) and checks every file against them.
"""

from __future__ import annotations

import base64
import hashlib
import re
import subprocess
import tarfile
import tempfile
from pathlib import Path

from strawberry.http.ides import get_graphql_ide_html

ASSETS_PATH = "/graphiql-assets"
UNPKG = "https://unpkg.com/"
# unpkg path -> (npm package, file inside the package tarball)
ASSETS: dict[str, tuple[str, str]] = {
    "react@18.2.0/umd/react.production.min.js": ("react@18.2.0", "umd/react.production.min.js"),
    "react-dom@18.2.0/umd/react-dom.production.min.js": ("react-dom@18.2.0", "umd/react-dom.production.min.js"),
    "js-cookie@3.0.5/dist/js.cookie.min.js": ("js-cookie@3.0.5", "dist/js.cookie.min.js"),
    "graphiql@3.8.3/graphiql.min.css": ("graphiql@3.8.3", "graphiql.min.css"),
    "graphiql@3.8.3/graphiql.min.js": ("graphiql@3.8.3", "graphiql.min.js"),
    "@graphiql/plugin-explorer@1.0.2/dist/style.css": ("@graphiql/plugin-explorer@1.0.2", "dist/style.css"),
    "@graphiql/plugin-explorer@1.0.2/dist/index.umd.js": ("@graphiql/plugin-explorer@1.0.2", "dist/index.umd.js"),
}


def local_name(unpkg_path: str) -> str:
    """The file name an asset has in the local directory ("react@18.2.0_umd_react...js")."""
    return unpkg_path.replace("/", "_")


def graphiql_html(local: bool) -> str:
    """Strawberry's GraphiQL page, its assets from unpkg or from ASSETS_PATH."""
    html = get_graphql_ide_html("graphiql")
    if local:
        for unpkg_path in ASSETS:
            html = html.replace(UNPKG + unpkg_path, f"{ASSETS_PATH}/{local_name(unpkg_path)}")
    return html


def expected_integrity() -> dict[str, str]:
    """unpkg path -> the sha384 SRI value the page demands for it."""
    html = get_graphql_ide_html("graphiql")
    found: dict[str, str] = {}
    for url, integrity in re.findall(r'(?:src|href)="(https://unpkg\.com/[^"]+)"\s+integrity="([^"]+)"', html):
        found[url.removeprefix(UNPKG)] = integrity
    return found


def sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def missing_assets(directory: Path) -> list[str]:
    """The asset files `directory` lacks."""
    return [local_name(path) for path in ASSETS if not (directory / local_name(path)).is_file()]


def fetch_assets(directory: Path) -> list[str]:
    """Download the assets with npm (its registry and proxy settings), check each against the
    page's integrity hash, and write them to `directory`. Returns the file names written."""
    directory.mkdir(parents=True, exist_ok=True)
    integrity = expected_integrity()
    written = []
    with tempfile.TemporaryDirectory(prefix="parvis-graphiql-") as work:
        packages = sorted({package for package, _ in ASSETS.values()})
        subprocess.run(["npm", "pack", "--silent", *packages], cwd=work, check=True, capture_output=True)
        tarballs = {path.name: path for path in Path(work).glob("*.tgz")}
        for unpkg_path, (package, inner) in ASSETS.items():
            name, _, version = package.lstrip("@").rpartition("@")
            tarball = tarballs[f"{name.replace('/', '-')}-{version}.tgz"]
            with tarfile.open(tarball) as archive:
                member = archive.extractfile(f"package/{inner}")
                assert member is not None
                data = member.read()
            if sri(data) != integrity[unpkg_path]:
                raise ValueError(f"{unpkg_path}: the file from npm does not match GraphiQL's integrity hash")
            (directory / local_name(unpkg_path)).write_bytes(data)
            written.append(local_name(unpkg_path))
    return written
