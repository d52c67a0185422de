"""A fake Hugging Face Hub (the calls `snapshot_download` makes) and a fake InsightFace model zoo,
serving local folders/files on 127.0.0.1 with HTTP Range support."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _ranged(path: Path, request: Request, headers: dict[str, str]) -> Response:
    data = path.read_bytes()
    status = 200
    if (spec := request.headers.get("range", "")).startswith("bytes="):
        start = int(spec[6:].split("-")[0] or 0)
        if start >= len(data):
            return Response(status_code=416, headers={"Content-Range": f"bytes */{len(data)}"})
        headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        data, status = data[start:], 206
    headers["Content-Length"] = str(len(data))
    body = b"" if request.method == "HEAD" else data
    return Response(body, status_code=status, headers=headers, media_type="application/octet-stream")


@dataclass
class FakeHub:
    repos: dict[str, Path] = field(default_factory=dict)
    """repo id ("org/name") -> a folder whose files are the repo's files."""
    requests: list[str] = field(default_factory=list)

    def files(self, repo: str) -> list[Path]:
        root = self.repos[repo]
        return sorted(p for p in root.rglob("*") if p.is_file())

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.middleware("http")
        async def record(request: Request, call_next):
            self.requests.append(f"{request.method} {request.url.path} {request.headers.get('range', '')}".strip())
            return await call_next(request)

        @app.get("/api/models/{org}/{name}/revision/{revision}")
        def repo_info(org: str, name: str, revision: str) -> JSONResponse:
            repo = f"{org}/{name}"
            if repo not in self.repos:
                return JSONResponse({"error": "Repository not found"}, status_code=404,
                                    headers={"X-Error-Code": "RepoNotFound"})
            root = self.repos[repo]
            return JSONResponse({"id": repo, "sha": COMMIT, "private": False,
                                 "siblings": [{"rfilename": p.relative_to(root).as_posix()} for p in self.files(repo)]})

        @app.get("/api/models/{org}/{name}/tree/{revision}")
        def tree(org: str, name: str, revision: str) -> JSONResponse:
            repo = f"{org}/{name}"
            root = self.repos[repo]
            return JSONResponse([{"type": "file", "path": p.relative_to(root).as_posix(), "size": p.stat().st_size,
                                  "oid": hashlib.sha1(p.read_bytes()).hexdigest()} for p in self.files(repo)])

        @app.api_route("/{org}/{name}/resolve/{revision}/{filename:path}", methods=["GET", "HEAD"])
        def resolve(org: str, name: str, revision: str, filename: str, request: Request) -> Response:
            path = self.repos[f"{org}/{name}"] / filename
            if not path.is_file():
                return Response(status_code=404, headers={"X-Error-Code": "EntryNotFound"})
            etag = hashlib.sha1(path.read_bytes()).hexdigest()
            return _ranged(path, request, {"X-Repo-Commit": COMMIT, "ETag": f'"{etag}"', "Accept-Ranges": "bytes"})

        return app


@dataclass
class FakeFaceZoo:
    packs: dict[str, Path] = field(default_factory=dict)
    """pack name -> a zip file"""
    requests: list[str] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/model-zoo/{filename}")
        def get(filename: str, request: Request) -> Response:
            self.requests.append(f"{filename} {request.headers.get('range', '')}".strip())
            path = self.packs.get(filename.removesuffix(".zip"))
            if path is None:
                return Response(status_code=404)
            return _ranged(path, request, {"Accept-Ranges": "bytes"})

        return app
