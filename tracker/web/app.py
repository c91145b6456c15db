"""The web app: pages and a JSON API over the database, read only (every route answers
GET and HEAD alone; resolving stays a command-line act). Handlers are plain functions:
Starlette runs them in its thread pool, so a slow query holds one thread, not the
server."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from tracker.web import feed, pages
from tracker.web.templates import ENV, HERE, status_css

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from tracker.web.data import Source

# No script may run, no style or image may come from anywhere but here, no form may post,
# and no other site may frame the pages. Charts are inline SVG (not subject to img-src).
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
       "form-action 'none'; frame-ancestors 'none'")
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]


class SecurityHeaders:
    """Adds HEADERS to every response, errors included."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _static(name: str, media_type: str, extra: str = "") -> Route:
    body = (HERE / "static" / name).read_text(encoding="utf-8") + extra

    def serve(_request: Request) -> Response:
        return Response(body, media_type=media_type,
                        headers={"cache-control": "public, max-age=3600"})

    return Route(f"/static/{name}", serve)


def _not_found(request: Request, exc: HTTPException) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code,
                            headers=exc.headers)
    title = "Not found" if exc.status_code == 404 else f"Error {exc.status_code}"
    html = ENV.get_template("error.html").render(title=title, detail=exc.detail)
    return HTMLResponse(html, status_code=exc.status_code, headers=exc.headers)


def create_app(source: Source) -> ASGIApp:
    """The app over ``source``: the database, registry and settings it reads."""
    routes = [
        Route("/", pages.scoreboard),
        Route("/who/{name:str}", pages.person),
        Route("/p/{prediction_id:str}", pages.prediction),
        Route("/series", pages.series),
        Route("/calibration", pages.calibration),
        Route("/api/status", pages.api_status),
        Route("/api/scoreboard", pages.api_scoreboard),
        Route("/api/p/{prediction_id:str}", pages.api_prediction),
        Route("/api/series", pages.api_series),
        Route("/api/health", pages.api_health),
        Route("/api/calibration", pages.api_calibration),
        Route("/feed.atom", feed.feed),
        _static("style.css", "text/css", status_css()),
        _static("icon.svg", "image/svg+xml"),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _not_found})
    app.state.source = source
    return SecurityHeaders(app)
