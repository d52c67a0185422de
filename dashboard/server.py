"""One server on one port: the FastAPI REST routers and the Panel dashboard (Panel's FastAPI integration)."""
from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from dashboard.api.access import install_token_cookie, require_access
from dashboard.api.error_responses import document_errors
from dashboard.api.errors import install_error_handlers
from dashboard.api.routes import ROUTERS
from dashboard.api.same_origin import SameOriginGuard
from dashboard.log_redaction import install_log_redaction
from dashboard.panel_routes import no_client_session_id
from engine.app import PhotoIndex
from engine.config import Settings, get_settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, engine: PhotoIndex | None = None) -> FastAPI:
    """The ASGI app. Pass `engine` to serve an already opened engine (tests, notebooks)."""
    settings = settings or (engine.settings if engine else get_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        install_log_redaction()  # after uvicorn configured its loggers
        owned = engine is None
        app.state.engine = engine or PhotoIndex.open(settings)
        if settings.index_on_start and app.state.engine.db.vector_check.ok:
            app.state.engine.start_index_job()
        app.state.warming = app.state.engine.warm_in_background()  # the first search should not wait for the model
        try:
            yield
        finally:
            if owned:
                app.state.engine.close()

    app = FastAPI(
        title="Photo search",
        version="0.1.0",
        description="Index a home photo library and search it by text, image and face.",
        lifespan=lifespan,
        dependencies=[Depends(require_access), Depends(no_client_session_id)],
    )
    install_error_handlers(app)
    document_errors(app)
    install_token_cookie(app)
    app.add_middleware(SameOriginGuard)
    for router in ROUTERS:
        app.include_router(router)
    _mount_dashboard(app)
    return app


def _serve_panel_assets_locally() -> None:
    """Keep the browser on this server, even offline.

    Panel 1.9 points a component's stylesheets at its CDN when the component is updated while
    detached from the page (a view in a hidden tab, e.g. the search message set just before its
    tab shows); the page then asks cdn.holoviz.org for them. This server serves the same files
    under /static/extensions/panel/, so that fallback is pointed there.
    """
    import panel.reactive
    from panel.io.resources import LOCAL_DIST

    panel.reactive.CDN_DIST = "/" + LOCAL_DIST.lstrip("./")


def _mount_dashboard(app: FastAPI) -> None:
    from fastapi.staticfiles import StaticFiles
    from panel.io.fastapi import add_applications

    from dashboard.app import create_dashboard
    from dashboard.theme import STATIC_DIR, STATIC_URL

    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="dashboard-static")  # favicon, shared CSS, icons
    from dashboard.panel_routes import install_panel_routes

    _serve_panel_assets_locally()
    install_panel_routes(app)

    def page():
        return create_dashboard(app.state.engine)

    add_applications({"/": page}, app=app, title="Photo search")
    for route in app.routes:  # the dashboard's page is no REST endpoint
        if getattr(route, "path", None) == "/":
            route.include_in_schema = False
