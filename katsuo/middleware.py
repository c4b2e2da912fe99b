"""Response headers as Umami sends them (access.md §9): CORS and no-cache on the API, answered
preflights, and on pages a frame-ancestors policy plus HSTS with FORCE_SSL. Plain ASGI, so the
collect path pays almost nothing for it."""

from __future__ import annotations

from katsuo.config import Settings


class HeadersMiddleware:
    def __init__(self, app, settings: Settings):
        self.app = app
        self.base_path = settings.base_path
        self.api_prefixes = tuple({"/api/", settings.collect_api_endpoint})
        self.api_headers = [
            (b"access-control-allow-origin", b"*"),
            (b"access-control-allow-headers", b"*"),
            (b"access-control-allow-methods", b"GET, DELETE, POST, PUT"),
            (b"access-control-max-age", str(settings.cors_max_age).encode()),
            (b"cache-control", b"no-cache"),
        ]
        frame = f"frame-ancestors 'self' {settings.allowed_frame_urls}".strip()
        self.page_headers = [(b"content-security-policy", frame.encode())]
        self.security_headers = []
        if settings.force_ssl:
            self.security_headers.append(
                (b"strict-transport-security", b"max-age=63072000; includeSubDomains; preload")
            )

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        for prefix in (scope.get("root_path", ""), self.base_path):
            if prefix and path.startswith(prefix):
                path = path[len(prefix):]
        is_api = path.startswith(self.api_prefixes)
        if is_api and scope["method"] == "OPTIONS":
            await send({"type": "http.response.start", "status": 204, "headers": self.api_headers + self.security_headers})
            await send({"type": "http.response.body", "body": b""})
            return
        extra = (self.api_headers if is_api else self.page_headers) + self.security_headers

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                existing = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [h for h in extra if h[0] not in existing]
            await send(message)

        await self.app(scope, receive, send_with_headers)
