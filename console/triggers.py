"""The console's HTTP triggers: the page and its assets, anonymous and static.

Anonymous because they hold no data: the page's calls to the API carry the
user's own credentials.
"""

from __future__ import annotations

import azure.functions as func

from console.assets import PAGE, Asset, asset

bp = func.Blueprint()


@bp.route(route="console", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def get_console(req: func.HttpRequest) -> func.HttpResponse:
    return _serve(asset(PAGE), req)


@bp.route(route="console/assets/{name}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def get_console_asset(req: func.HttpRequest) -> func.HttpResponse:
    name = req.route_params.get("name", "")
    return _serve(asset(name) if name != PAGE else None, req)


def _serve(found: Asset | None, req: func.HttpRequest) -> func.HttpResponse:
    if found is None:
        from kernel.http.problems import Problem
        from kernel.triggers import problem_response

        return problem_response(Problem(404, "not_found", "no console asset has that name"), req)
    if found.matches(req.headers.get("if-none-match")):
        return func.HttpResponse(status_code=304, headers=found.headers())
    return func.HttpResponse(
        found.body,
        status_code=200,
        mimetype=found.media_type,
        charset="utf-8",
        headers=found.headers(),
    )
