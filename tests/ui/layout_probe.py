"""Run by tests/ui/test_layout_sizes.py in its own process, on a screen of a given size and scale (the offscreen
platform's configfile, QT_SCALE_FACTOR): sign in, visit every tab, print what fits as JSON, and write screenshots
when LANTERN_SCREENSHOTS names a folder.

    python -m tests.ui.layout_probe STORE USERNAME LABEL < PASSWORD

The password comes on stdin (the test passes its `password` fixture), never as an argument.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QApplication

from ui import style
from ui.app import AppController

SHOTS = {"&Report an incident": "form", "&Actions": "queue", "Re&view": "review", "Dashboar&d": "dashboard",
         "A&dministration": "admin", "&Home": "home", "&My incidents": "my-incidents"}


def settle(app, controller, rounds: int = 30) -> None:
    for _ in range(rounds):
        controller.runner.wait()
        app.processEvents()


def inside(widget, free) -> bool:
    top_left = widget.mapToGlobal(QPoint(0, 0))
    return free.contains(top_left) and free.contains(top_left + QPoint(widget.width() - 1, widget.height() - 1))


def columns(view) -> dict[str, list[int]]:
    """Each shown column's header, width and whether it lies wholly inside the view (no sideways scroll)."""
    header, model = view.horizontalHeader(), view.model()
    shown = {}
    for column in range(model.columnCount()):
        if view.isColumnHidden(column):
            continue
        left = header.sectionViewportPosition(column)
        width = header.sectionSize(column)
        shown[str(model.headerData(column, header.orientation()))] = [width, int(0 <= left and left + width <=
                                                                             view.viewport().width())]
    return shown


def probe(folder: Path, username: str, label: str, password: str) -> dict:
    app = QApplication.instance() or QApplication([])
    style.apply(app)
    controller = AppController(folder)
    dialog = controller.show_sign_in(username)
    dialog.password.setText(password)
    dialog._submit()
    while controller.window is None:
        app.processEvents()
    window = controller.window
    settle(app, controller)
    free = window.screen().availableGeometry()
    frame = window.frameGeometry()
    out = {"free": [free.width(), free.height()], "frame": [frame.x(), frame.y(), frame.width(), frame.height()],
           "fits": free.contains(frame), "status_on_screen": inside(window.statusBar(), free),
           "overdue_on_screen": inside(window.overdue_label, free) or username == "admin", "tables": {}}
    shots = os.environ.get("LANTERN_SCREENSHOTS")
    for i in range(window.tabs.count()):
        window.tabs.setCurrentIndex(i)
        page = window.tabs.currentWidget()
        title = window.tabs.tabText(i)
        if hasattr(page, "list_model") and page.list_model.rowCount():  # review: open the first incident
            page.open_incident(page.list_model.rows[0].incident_id)
            settle(app, controller)
            page.tabs.setCurrentIndex(1)
            settle(app, controller, 5)
            out["tables"]["review actions"] = columns(page.actions)
            page.tabs.setCurrentIndex(0)
        settle(app, controller, 10)
        if hasattr(page, "list"):
            out["tables"]["review list"] = columns(page.list)
        if title == "&Actions":
            out["tables"]["queue"] = columns(page.table)
        if shots and title in SHOTS:
            window.grab().save(str(Path(shots) / f"size-{label}-{username}-{SHOTS[title]}.png"))
    controller.shutdown()
    return out


if __name__ == "__main__":
    print(json.dumps(probe(Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.stdin.readline().rstrip("\n"))))
