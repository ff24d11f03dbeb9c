"""``/artifacts``: artifacts newest first, by key; ``/artifacts/{id}``: one rendered."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from cadenza.runs import Artifact
from cadenza.server.ui.artifact_html import artifact_html, summary
from cadenza.server.ui.deps import get_store
from cadenza.server.ui.run_page import not_found
from cadenza.server.ui.templating import render
from cadenza.store.base import RunStore

router = APIRouter()

PAGE_SIZE = 50


def _run_names(store: RunStore, artifacts: list[Artifact]) -> dict[str, str]:
    names: dict[str, str] = {}
    for a in artifacts:
        if a.flow_run_id and a.flow_run_id not in names:
            run = store.read_flow_run(a.flow_run_id)
            names[a.flow_run_id] = f"{run.flow_name} / {run.name}" if run else a.flow_run_id[:13]
    return names


@router.get("/artifacts", include_in_schema=False)
def artifacts_page(
    request: Request,
    key: str | None = None,
    all: str | None = None,
    before: str | None = None,
    store: RunStore = Depends(get_store),
) -> Response:
    key = (key or "").strip() or None
    latest_only = key is None and not all
    found = store.list_artifacts(
        key=key, latest_only=latest_only, limit=PAGE_SIZE + 1, before_id=before or None
    )
    more = len(found) > PAGE_SIZE
    found = found[:PAGE_SIZE]
    params = [(k, v) for k, v in (("key", key), ("all", all)) if v]
    older = None
    if more and found:
        older = "/artifacts?" + urlencode([*params, ("before", found[-1].id)])
    return render(
        request,
        "artifacts.html",
        {
            "section": "artifacts",
            "artifacts": found,
            "summaries": {a.id: summary(a) for a in found},
            "run_names": _run_names(store, found),
            "key": key or "",
            "show_all": bool(all),
            "latest_only": latest_only,
            "older_url": older,
            "first_url": "/artifacts" + (f"?{urlencode(params)}" if params else ""),
            "paged": bool(before),
        },
    )


@router.get("/artifacts/{artifact_id}", include_in_schema=False)
def artifact_page(
    request: Request, artifact_id: str, store: RunStore = Depends(get_store)
) -> Response:
    artifact = store.read_artifact(artifact_id)
    if artifact is None:
        return not_found(request, "artifact", artifact_id)
    return render(
        request,
        "artifact.html",
        {
            "section": "artifacts",
            "artifact": artifact,
            "body": artifact_html(artifact),
            "run_names": _run_names(store, [artifact]),
        },
    )
