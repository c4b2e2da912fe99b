"""Page routes, one module per area of the dashboard."""

from katsuo.web.pages import account, admin, websites

ROUTERS = [account.router, websites.router, admin.router]
