"""Insights: a website's saved reports, and one page per report (new or saved) whose form edits
the parameters and whose results come from POST /api/reports/<type>; saving, editing and
deleting go through the /api/reports endpoints like every other client."""

from __future__ import annotations

from uuid import UUID

from fastapi.responses import Response

from katsuo.auth.permissions import can
from katsuo.store.repositories import reports
from katsuo.web import currencies
from katsuo.web.pages.websites import DASHBOARD_SCRIPTS, in_context
from katsuo.web.templating import PageError, UserPage, page_router

router = page_router()

# The report types of the Insights section, in the order the docs list them, with what each
# answers (shown on the list and above the form).
REPORT_TYPES = {
    "breakdown": (
        "Breakdown",
        "Dive into your data by segmenting it on several properties at once.",
    ),
    "funnel": (
        "Funnel",
        "How many visitors go through a sequence of pages or events, and where they drop off.",
    ),
    "goal": ("Goals", "How many visitors reach a page or trigger an event."),
    "journey": ("Journey", "The paths visitors take through your website, step by step."),
    "retention": ("Retention", "How many visitors come back, day by day after their first visit."),
    "revenue": (
        "Revenue",
        "Revenue from events carrying revenue and currency, over time and by source.",
    ),
    "utm": ("UTM", "Visits by campaign parameters (utm_source, utm_medium, …)."),
    "attribution": (
        "Attribution",
        "Which referrers and campaigns lead to a conversion, first or last click.",
    ),
}
REPORT_SCRIPTS = [*DASHBOARD_SCRIPTS, "reports.js"]


@router.get("/websites/{website_id}/reports")
def report_list(page: UserPage, website_id: UUID) -> Response:
    website = in_context(page, website_id)
    listed = reports.list_for_website(
        page.conn, website.id, report_type=None, page=1, page_size=200
    )
    return page.render(
        "reports/list.html",
        website=website,
        listed=listed,
        types=REPORT_TYPES,
        may_update=can(page.actor, "update", ("website", website)),
    )


@router.get("/websites/{website_id}/reports/new/{report_type}")
def new_report(page: UserPage, website_id: UUID, report_type: str) -> Response:
    website = in_context(page, website_id)
    if report_type not in REPORT_TYPES:
        raise PageError(404, "No such report")
    return _editor(page, website, report_type, None)


@router.get("/websites/{website_id}/reports/{report_id}")
def saved_report(page: UserPage, website_id: UUID, report_id: UUID) -> Response:
    website = in_context(page, website_id)
    report = reports.get(page.conn, report_id)
    if report is None or report.website_id != website.id or report.type not in REPORT_TYPES:
        raise PageError(404, "Report not found")
    return _editor(page, website, report.type, report)


def _editor(page, website, report_type: str, report) -> Response:
    target = ("report", (report, website)) if report else ("website", website)
    return page.render(
        "reports/report.html",
        website=website,
        report=report,
        report_type=report_type,
        type_name=REPORT_TYPES[report_type][0],
        type_help=REPORT_TYPES[report_type][1],
        may_update=can(page.actor, "update", target),
        may_delete=report is not None and can(page.actor, "delete", target),
        currencies=currencies.choices() if report_type == "revenue" else [],
        scripts=REPORT_SCRIPTS,
    )
