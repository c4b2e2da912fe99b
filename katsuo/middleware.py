"""Response headers: as Umami sends them (CORS and no-cache on the API, answered preflights,
frame-ancestors on pages, HSTS with FORCE_SSL), plus Katsuo's hardening: nosniff on everything, a
script policy and a referrer policy on every page. Plain ASGI, so the collect path pays almost
nothing for it."""

from __future__ import annotations

from katsuo.config import Settings

# Scripts only from Katsuo's own files: an injected <script> or inline handler does not run.
# 'unsafe-eval' is for Alpine.js, which compiles its x-* attribute expressions with Function()
# (docs/http-hardening.md says why its CSP build is not used yet). No plugins, no <base> moving
# relative URLs elsewhere, no form posting off the site.
PAGE_POLICY = (
    "script-src 'self' 'unsafe-eval'; object-src 'none'; base-uri 'self'; form-action 'self'"
)


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
        self.page_policy = (b"content-security-policy", f"{PAGE_POLICY}; {frame}".encode())
        # A page's URL (a share link's slug, a website's id) never leaves in a Referer header.
        # Only on HTML: on the redirect of a short link (/q/) it would hide the visitor's referrer
        # from the link's target.
        self.html_headers = [(b"referrer-policy", b"same-origin")]
        self.common_headers = [(b"x-content-type-options", b"nosniff")]
        if settings.force_ssl:
            self.common_headers.append(
                (b"strict-transport-security", b"max-age=63072000; includeSubDomains; preload")
            )

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        for prefix in (scope.get("root_path", ""), self.base_path):
            if prefix and path.startswith(prefix):
                path = path[len(prefix) :]
        is_api = path.startswith(self.api_prefixes)
        if is_api and scope["method"] == "OPTIONS":
            await send(
                {
                    "type": "http.response.start",
                    "status": 204,
                    "headers": self.api_headers + self.common_headers,
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        extra = (self.api_headers if is_api else []) + self.common_headers

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                existing = {name.lower() for name, _ in headers}
                added = [h for h in extra if h[0] not in existing]
                html = _is_html(headers)
                # Every page, also the API's HTML ones (/api/docs), gets the page policy.
                if (not is_api or html) and b"content-security-policy" not in existing:
                    added.append(self.page_policy)
                if html:
                    added += self.html_headers
                message["headers"] = headers + added
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _is_html(headers: list) -> bool:
    return any(
        name.lower() == b"content-type" and value.startswith(b"text/html")
        for name, value in headers
    )
