"""Table views set up the house way (ui layer): rows selected whole, Tab leaves the table."""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractItemView, QTableView


def table_view(model, name: str) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setAccessibleName(name)
    view.setTabKeyNavigation(False)  # Tab leaves the table; the arrow keys move inside it
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.verticalHeader().setVisible(False)
    view.horizontalHeader().setStretchLastSection(True)
    view.setWordWrap(False)
    return view
