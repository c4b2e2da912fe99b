"""Page routes, one module per area of the dashboard."""

from katsuo.web.pages import (
    account,
    admin,
    api_docs,
    console,
    icons,
    links,
    reports,
    teams,
    websites,
)

ROUTERS = [
    account.router,
    websites.router,
    reports.router,
    teams.router,
    links.router,
    admin.router,
    console.router,
    api_docs.router,
    icons.router,
]
