"""Base table models (ui layer): a plain row list, and a lazily fetched, SQL-sorted paged list.

`RowsModel` holds a short list replaced whole by `set_rows`. `PagedModel` asks a fetch function for one
page at a time (`canFetchMore`/`fetchMore`); sorting asks core for a new first page, sorted in SQL.
The fetch function may answer at once (tests) or later on the database lane (screens).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ROW_ROLE = Qt.ItemDataRole.UserRole + 2
PAGE = 200
TEXT_ROLES = (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole)

# fetch(sort_key, descending, offset, limit, done): calls done(page) with .rows and .has_more
Fetch = Callable[[str, bool, int, int, Callable[[object], None]], None]


class RowsModel(QAbstractTableModel):
    """A short table. Subclasses set HEADERS and implement `text(row, column)` and `sort_value`."""

    HEADERS: tuple[str, ...] = ()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list = []

    def set_rows(self, rows) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def row_at(self, row: int):
        return self.rows[row]

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if (orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole
                and 0 <= section < len(self.HEADERS)):
            return self.HEADERS[section]
        return None

    def text(self, row, column: int) -> str:
        raise NotImplementedError

    def sort_value(self, row, column: int):
        return self.text(row, column)

    def decorate(self, row, column: int, role):
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not (0 <= index.row() < len(self.rows)):
            return None
        if not (0 <= index.column() < len(self.HEADERS)):
            return None
        row = self.rows[index.row()]
        if role in TEXT_ROLES:
            return self.text(row, index.column())
        if role == SORT_ROLE:
            return self.sort_value(row, index.column())
        if role == ROW_ROLE:
            return row
        return self.decorate(row, index.column(), role)


class PagedModel(RowsModel):
    """Rows come page by page from core. `SORT_KEYS` maps a column to core's sort name (None: not sortable)."""

    SORT_KEYS: dict[int, str] = {}
    DEFAULT_SORT = ("", False)
    loaded = Signal()  # a page arrived

    def __init__(self, fetch: Fetch | None = None, parent=None, page_size: int = PAGE):
        super().__init__(parent)
        self._fetch = fetch
        self.page_size = page_size
        self.sort_key, self.descending = self.DEFAULT_SORT
        self.has_more = fetch is not None
        self.fetching = False
        self._generation = 0

    def set_fetch(self, fetch: Fetch | None) -> None:
        """New filters: forget every row and start again from the first page."""
        self._fetch = fetch
        self.reload()

    def reload(self) -> None:
        self.beginResetModel()
        self.rows = []
        self._generation += 1
        self.has_more = self._fetch is not None
        self.fetching = False
        self.endResetModel()

    def canFetchMore(self, parent=QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and self.has_more and not self.fetching

    def fetchMore(self, parent=QModelIndex()) -> None:  # noqa: B008
        if not self.canFetchMore(parent):
            return
        self.fetching = True
        generation = self._generation
        self._fetch(self.sort_key, self.descending, len(self.rows), self.page_size,
                    lambda page: self._on_page(generation, page))

    def _on_page(self, generation: int, page) -> None:
        if generation != self._generation:
            return  # an answer to an older filter or sort
        self.fetching = False
        self.has_more = bool(page.has_more)
        if page.rows:
            first = len(self.rows)
            self.beginInsertRows(QModelIndex(), first, first + len(page.rows) - 1)
            self.rows.extend(page.rows)
            self.endInsertRows()
        self.loaded.emit()

    def fetch_failed(self) -> None:
        """Called by a screen when a page could not be read: stop asking until the next reload."""
        self.fetching = False
        self.has_more = False

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        key = self.SORT_KEYS.get(column)
        if not key:
            return
        self.sort_key, self.descending = key, order == Qt.SortOrder.DescendingOrder
        self.reload()
