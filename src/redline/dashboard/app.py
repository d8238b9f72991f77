"""The dashboard's FastAPI app: routes from the runs list down to one transcript.

Sections (the top bar, :data:`redline.dashboard.pages.NAV`): runs (red-team runs and
other store runs, audits, eval results, eval series) and guarded traffic. Each route reads
through :class:`~redline.dashboard.queries.Reader` or
:class:`~redline.dashboard.artefacts.Artefacts` and renders one template; bad input is a
400 page, an unknown id a 404 page, and nothing a user sends can produce a 500 with a
traceback.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Query
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from redline.dashboard.artefacts import (
    ARTEFACT_KINDS,
    DOWNLOADS,
    Artefact,
    ArtefactKind,
    Artefacts,
)
from redline.dashboard.pages import HERE, error_page, render
from redline.dashboard.queries import OUTCOMES, AttemptFilter, Reader
from redline.dashboard.security import access_guard, is_loopback
from redline.store import Store

MAX_PAGE = 200
"""The most rows one page may ask for (more is a 400)."""
MAX_KEY_BYTES = 16_384
"""The most a pasted public key may weigh (the verify form)."""

Text = Annotated[str | None, Query(max_length=200)]
Size = Annotated[int, Query(ge=1, le=MAX_PAGE)]


@dataclass(frozen=True)
class DashboardSettings:
    """How the app was started (read by the pages and the access guard)."""

    store_url: str
    folders: tuple[Path, ...] = ()
    token: str | None = None
    host: str = "127.0.0.1"


def create_app(settings: DashboardSettings, store: Store | None = None) -> FastAPI:
    """The dashboard app over the store at ``settings.store_url`` and the given folders."""
    reader = Reader(store or Store(settings.store_url))
    artefacts = Artefacts(list(settings.folders))
    app = FastAPI(title="redline dashboard", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.reader = reader
    app.state.artefacts = artefacts
    app.middleware("http")(access_guard(settings.token, is_loopback(settings.host)
                                        and settings.token is None))
    _errors(app)

    @app.get("/common.css", include_in_schema=False)
    def common_css() -> Response:
        """The rules the dashboard shares with redline's reports (one file for both)."""
        from redline.report.templating import stylesheet

        return Response(stylesheet("common.css"), media_type="text/css")

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.get("/", include_in_schema=False)
    def home() -> Response:
        return RedirectResponse("/runs", status_code=303)

    @app.get("/runs")
    def runs(request: Request, kind: Text = None, q: Text = None, status: Text = None,
             page: Annotated[int, Query(ge=1, le=10_000)] = 1, size: Size = 50) -> Response:
        store_kinds = reader.run_kinds()
        if kind and kind not in store_kinds and kind not in ARTEFACT_KINDS:
            raise HTTPException(400, f"Unknown kind '{kind}'. Kinds here: "
                                f"{', '.join([*store_kinds, *ARTEFACT_KINDS])}.")
        wanted = page * size + 1
        rows: list[tuple[Any, Any]] = []
        if not kind or kind in store_kinds:
            rows += [(r.created_at, r) for r in reader.runs(kind=kind, query=q, status=status,
                                                              limit=wanted)]
        if not kind or kind in ARTEFACT_KINDS:
            rows += [(a.created_at, a) for a in artefacts.scan()
                     if (not kind or a.kind == kind) and _matches(a, q, status)]
        rows.sort(key=lambda pair: _aware_key(pair[0]), reverse=True)
        shown = [item for _, item in rows[(page - 1) * size: page * size]]
        return render(request, "runs.html", items=shown, page=page, size=size,
                      more=len(rows) > page * size, kinds=[*store_kinds, *ARTEFACT_KINDS],
                      kind=kind, q=q or "", status=status or "")

    @app.get("/runs/{run_id}")
    def run_detail(request: Request, run_id: str, outcome: Text = None, category: Text = None,
                   attack: Text = None, transform: Text = None, scorer: Text = None,
                   min_score: Text = None, max_score: Text = None,
                   after: Annotated[int, Query(ge=0, le=2**62)] = 0,
                   size: Size = 50) -> Response:
        run = _run_or_404(reader, run_id)
        if outcome and outcome not in OUTCOMES:
            raise HTTPException(400, f"outcome must be one of {', '.join(OUTCOMES)}.")
        chosen = AttemptFilter(outcome or None, category or None, attack or None,
                               transform or None, scorer or None,
                               _number("min_score", min_score), _number("max_score", max_score))
        summary = reader.summary(run)
        attempts, next_after = reader.attempts(run, chosen, after=after, limit=size)
        return render(request, "run.html", run=run, summary=summary, attempts=attempts,
                      next_after=next_after, chosen=chosen, outcomes=OUTCOMES,
                      findings=reader.findings(run.id), after=after)

    @app.get("/runs/{run_id}/attempts/{key}")
    def attempt_detail(request: Request, run_id: str, key: str) -> Response:
        run = _run_or_404(reader, run_id)
        record = reader.attempt(run.id, key) if len(key) <= 64 else None
        if record is None:
            raise HTTPException(404, f"Run {run_id} has no attempt {key[:64]}.")
        return render(request, "attempt.html", run=run, attempt=record)

    @app.get("/cases/{case_id}")
    def case_detail(request: Request, case_id: str) -> Response:
        from redline.audit.pipeline import InternalsCheck
        from redline.redteam.report import RedteamReport
        from redline.redteam.whitebox.results import TriggerSearchResult

        folder = _artefact_or_404(artefacts, case_id, "audit")
        case = artefacts.case(folder)
        redteam = artefacts.side_file(folder, "redteam/report.json", RedteamReport)
        run_id = redteam.run_id if redteam and reader.run(redteam.run_id) else None
        return render(
            request, "case.html", artefact=folder, case=case,
            result_index={r.suite: i for i, r in reversed(list(enumerate(case.results)))},
            trigger=artefacts.side_file(folder, "trigger-search.json", TriggerSearchResult),
            internals=artefacts.side_file(folder, "internals.json", InternalsCheck),
            redteam_run=run_id, downloads=[n for n in DOWNLOADS if (folder.path / n).is_file()],
        )

    @app.post("/cases/{case_id}/verify")
    async def case_verify(request: Request, case_id: str) -> Response:
        from redline.attest import verify_case
        from redline.attest.dsse import public_key_from_pem
        from redline.errors import ConfigError

        folder = _artefact_or_404(artefacts, case_id, "audit")
        body = await request.body()
        if len(body) > MAX_KEY_BYTES:
            raise HTTPException(400, "The public key is too large; paste the signer's .pub file.")
        form = parse_qs(body.decode("utf-8", errors="replace"))
        pem = (form.get("public_key") or [""])[0].strip()
        if not pem:
            raise HTTPException(400, "Paste the signer's public key (the .pub file) to verify.")
        try:
            key = public_key_from_pem(pem.encode("utf-8"), "the pasted key")
        except ConfigError as exc:
            raise HTTPException(400, str(exc)) from exc
        report = verify_case(artefacts.envelope(folder), key)
        return render(request, "verify.html", artefact=folder, report=report)

    @app.get("/cases/{case_id}/files/{name}")
    def case_file(case_id: str, name: str) -> Response:
        folder = _artefact_or_404(artefacts, case_id, "audit")
        if name not in DOWNLOADS or not (folder.path / name).is_file():
            raise HTTPException(404, f"No file '{name[:64]}' to download here; the case "
                                f"offers {', '.join(DOWNLOADS)}.")
        return FileResponse(folder.path / name, filename=name,
                            content_disposition_type="attachment")

    @app.get("/cases/{case_id}/results/{index}")
    def case_result(request: Request, case_id: str, index: int,
                    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
                    size: Size = 50) -> Response:
        folder = _artefact_or_404(artefacts, case_id, "audit")
        result = _item_or_404(artefacts.case(folder).results, index, "result")
        return render(request, "eval.html", result=result, base=f"/cases/{case_id}/results/"
                      f"{index}", parent=(f"/cases/{case_id}", "safety case"), page=page,
                      size=size)

    @app.get("/cases/{case_id}/results/{index}/samples/{sample}")
    def case_sample(request: Request, case_id: str, index: int, sample: int) -> Response:
        folder = _artefact_or_404(artefacts, case_id, "audit")
        result = _item_or_404(artefacts.case(folder).results, index, "result")
        return render(request, "sample.html", result=result,
                      sample=_item_or_404(result.samples, sample, "sample"),
                      back=f"/cases/{case_id}/results/{index}")

    @app.get("/evals/{eval_id}")
    def eval_detail(request: Request, eval_id: str,
                    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
                    size: Size = 50) -> Response:
        result = artefacts.eval_result(_artefact_or_404(artefacts, eval_id, "eval"))
        return render(request, "eval.html", result=result, base=f"/evals/{eval_id}",
                      parent=("/runs?kind=eval", "eval results"), page=page, size=size)

    @app.get("/evals/{eval_id}/samples/{sample}")
    def eval_sample(request: Request, eval_id: str, sample: int) -> Response:
        result = artefacts.eval_result(_artefact_or_404(artefacts, eval_id, "eval"))
        return render(request, "sample.html", result=result,
                      sample=_item_or_404(result.samples, sample, "sample"),
                      back=f"/evals/{eval_id}")

    @app.get("/series/{series_id}")
    def series_detail(request: Request, series_id: str) -> Response:
        from redline.report.svg import trend_plot

        series = artefacts.series(_artefact_or_404(artefacts, series_id, "series"))
        plots = [(t, trend_plot(t)) for t in series.trends]
        return render(request, "series.html", series=series, plots=plots)

    @app.get("/traffic")
    def traffic(request: Request,
                minutes: Annotated[int, Query(ge=1, le=10_080)] = 60) -> Response:
        return render(request, "traffic.html", traffic=reader.traffic(minutes=minutes),
                      minutes=minutes)

    @app.get("/traffic/panel")
    def traffic_panel(request: Request,
                      minutes: Annotated[int, Query(ge=1, le=10_080)] = 60) -> Response:
        return render(request, "traffic_panel.html", traffic=reader.traffic(minutes=minutes),
                      minutes=minutes)

    @app.get("/traffic/events/{event_id}")
    def event_detail(request: Request, event_id: int) -> Response:
        from redline.guard.events import parse_event

        row = reader.event(event_id) if 0 < event_id < 2**62 else None
        if row is None:
            raise HTTPException(404, f"No guard event {event_id}.")
        try:
            event = parse_event(row.payload)
        except ValueError:
            event = None
        return render(request, "event.html", row=row, event=event)

    return app


def _errors(app: FastAPI) -> None:
    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        return error_page(request, exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def bad_params(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: {e.get('msg', '')}"
            for e in exc.errors()[:3]
        )
        return error_page(request, 400, f"Bad parameters: {problems}.")

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> Response:
        import logging

        logging.getLogger(__name__).exception("dashboard page failed: %s", request.url.path)
        return error_page(request, 500, "This page failed; the server log says why.")


def _run_or_404(reader: Reader, run_id: str) -> Any:
    run = reader.run(run_id) if len(run_id) <= 64 else None
    if run is None:
        raise HTTPException(404, f"No run '{run_id[:64]}' in the store.")
    return run


def _artefact_or_404(artefacts: Artefacts, artefact_id: str, kind: ArtefactKind) -> Artefact:
    found = artefacts.get(artefact_id, kind) if len(artefact_id) <= 64 else None
    if found is None:
        raise HTTPException(404, f"No {kind} '{artefact_id[:64]}' in the dashboard's folders.")
    return found


def _item_or_404(items: list[Any], index: int, what: str) -> Any:
    if not 0 <= index < len(items):
        raise HTTPException(404, f"No {what} {index} here (there are {len(items)}).")
    return items[index]


def _number(name: str, text: str | None) -> float | None:
    """A finite number from a form field; empty means unset (forms send empty fields)."""
    if text is None or not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise HTTPException(400, f"{name} must be a number, e.g. 0.5.")
    return value


def _matches(artefact: Artefact, query: str | None, status: str | None) -> bool:
    if status and artefact.status != status:
        return False
    if not query:
        return True
    text = f"{artefact.id} {artefact.title} {artefact.target}".lower()
    return query.lower() in text


def _aware_key(moment: Any) -> float:
    from datetime import UTC

    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return float(moment.timestamp())
