"""Slack's signed HTTP requests (events, slash commands, interactivity) served on /slack/events by aiohttp."""

from __future__ import annotations

import logging

from aiohttp import web
from slack_bolt.async_app import AsyncApp

from adapters.slack.request import FormSafeRequest

log = logging.getLogger(__name__)


async def serve_http(app: AsyncApp, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Start serving `app`; the runner (to clean up) and the port it listens on."""

    async def handle(request: web.Request) -> web.Response:
        body = (await request.read()).decode("utf-8")
        bolt_request = FormSafeRequest(body=body, query=request.query_string, headers=dict(request.headers))
        response = await app.async_dispatch(bolt_request)
        if response.status == 401:
            log.warning("refused a Slack request with an invalid signature from %s", request.remote)
        return web.Response(status=response.status, body=response.body,
                            headers={k: v[0] for k, v in response.headers.items() if k.lower() != "content-length"})

    web_app = web.Application()
    web_app.router.add_post("/slack/events", handle)
    runner = web.AppRunner(web_app)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]
