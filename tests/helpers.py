"""Test helpers: an API client that logs in and carries its token."""

from __future__ import annotations

import itertools
from typing import Any

from tests.analytics.model import iso

_names = itertools.count(1)


class Api:
    """A client of the running app, optionally acting as a logged-in user or with a share token
    (sent with the share-context header, as Umami's UI does)."""

    def __init__(
        self,
        client,
        token: str | None = None,
        user: dict | None = None,
        share_token: str | None = None,
    ):
        self.client = client
        self.token = token
        self.user = user or {}
        self.share_token = share_token

    @property
    def headers(self) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if self.share_token:
            headers.update({"x-umami-share-token": self.share_token, "x-umami-share-context": "1"})
        return headers

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict | None = None,
        headers: dict | None = None,
    ):
        return self.client.request(
            method, path, json=json, params=params, headers={**self.headers, **(headers or {})}
        )

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs):
        return self.request("POST", path, json=json if json is not None else {}, **kwargs)

    def delete(self, path: str, **kwargs):
        return self.request("DELETE", path, **kwargs)

    def ok(self, method: str, path: str, json: Any = None, **kwargs) -> Any:
        """Send and insist on a 200, returning the JSON body."""
        response = self.request(method, path, json=json, **kwargs)
        assert response.status_code == 200, (
            f"{method} {path} -> {response.status_code} {response.text}"
        )
        return response.json()

    def login(self, username: str = "admin", password: str = "umami") -> Api:
        body = Api(self.client).ok(
            "POST", "/api/auth/login", {"username": username, "password": password}
        )
        return Api(self.client, body["token"], body["user"])

    def admin(self) -> Api:
        """The default administrator, logged in once per client."""
        cached = getattr(self.client, "katsuo_admin", None)
        if cached is None:
            cached = self.client.katsuo_admin = self.login()
        return cached

    def new_user(self, role: str = "user", password: str = "password123") -> Api:
        """Create a user through the admin API and return a client logged in as them."""
        username = f"{role}-{next(_names)}"
        self.admin().ok(
            "POST", "/api/users", {"username": username, "password": password, "role": role}
        )
        return self.login(username, password)

    def new_website(self, name: str = "Site", domain: str = "example.com", **extra) -> dict:
        return self.ok("POST", "/api/websites", {"name": name, "domain": domain, **extra})

    def new_team(self, name: str = "Team", **extra) -> dict:
        """Create a team as this client; returns the team (the first element of Umami's pair)."""
        return self.ok("POST", "/api/teams", {"name": name, **extra})[0]

    def add_member(self, team_id: str, user: Api, role: str) -> dict:
        return self.ok(
            "POST", f"/api/teams/{team_id}/users", {"userId": user.user["id"], "role": role}
        )


def admin_with_website(client, name: str, domain: str = "example.com") -> tuple[str, str]:
    """Log in as the default administrator and create a website: (token, website id)."""
    admin = Api(client).admin()
    return admin.token, admin.ok("POST", "/api/websites", {"name": name, "domain": domain})["id"]


def report_body(website: str, report_type: str, start, end, filters=None, **parameters) -> dict:
    """A report request's body: the documented envelope, dates as ISO strings."""
    return {
        "websiteId": website,
        "type": report_type,
        "filters": filters or {},
        "parameters": {"startDate": iso(start), "endDate": iso(end), **parameters},
    }


def post_report(
    client, token: str, website: str, report_type: str, start, end, filters=None, **parameters
) -> Any:
    """POST /api/reports/<type> for the range as `token`'s user; the answer must be a 200."""
    response = client.post(
        f"/api/reports/{report_type}",
        json=report_body(website, report_type, start, end, filters, **parameters),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    return response.json()
