"""Which screens each role sees, in tab order (ui layer). Each entry: (tab title, permission, factory)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QWidget

from core.security.permissions import allowed
from ui.context import AppContext

PageFactory = Callable[[AppContext], QWidget]


def page_registry() -> list[tuple[str, str, PageFactory]]:
    from ui.pages.action_queue import ActionQueuePage
    from ui.pages.admin import AdminPage
    from ui.pages.dashboard import DashboardPage
    from ui.pages.exports import ExportsPage
    from ui.pages.home import HomePage
    from ui.pages.incident_form import IncidentFormPage
    from ui.pages.my_incidents import MyIncidentsPage
    from ui.pages.review import ReviewPage

    pages: list[tuple[str, str, PageFactory]] = [
        ("&Home", "store.check", HomePage),
        # PAGES: screens add themselves below this line, one line each
        ("&Actions", "action.manage", ActionQueuePage),
        ("Re&view", "incident.review", ReviewPage),
        ("Dashboar&d", "report.view", DashboardPage),
        ("&Report an incident", "incident.create", IncidentFormPage),
        ("&My incidents", "incident.create", MyIncidentsPage),
        ("&Exports", "export.run", ExportsPage),
        ("A&dministration", "users.manage", AdminPage),
    ]
    return pages


def pages_for(ctx: AppContext) -> list[tuple[str, QWidget]]:
    return [(title, factory(ctx)) for title, permission, factory in page_registry()
            if allowed(ctx.actor, permission)]
