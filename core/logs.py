"""Logging set-up (core layer): a rotating file in the per-user log folder, never patient text or keys.

Log records carry event names, error class names and ids only. Unexpected errors
are logged by class and the code location (file and line) where they were raised,
never by their message, because a message can quote stored values.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import traceback
from pathlib import Path

import platformdirs

from core.fs import make_private, open_private, private_folders

LOGGER_NAME = "lantern"


def log_dir() -> Path:
    override = os.environ.get("LANTERN_LOG_DIR")
    return Path(override) if override else Path(platformdirs.user_log_dir("Lantern", appauthor=False))


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Each log file, the first and every one rotated in, is created owner-only (0600 on POSIX)."""

    def _open(self):
        stream = open_private(Path(self.baseFilename), "a", encoding=self.encoding, errors=self.errors)
        make_private(Path(self.baseFilename))  # a file left by an older version, too
        return stream


def setup_logging(level: int = logging.INFO) -> Path:
    folder = log_dir()
    private_folders(folder)
    path = folder / "lantern.log"
    logger = logging.getLogger(LOGGER_NAME)
    if not any(isinstance(h, logging.handlers.RotatingFileHandler) for h in logger.handlers):
        handler = _PrivateRotatingFileHandler(path, maxBytes=1_000_000, backupCount=5, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(level)
    # SQLAlchemy and SQLCipher must never log statements or parameters.
    for noisy in ("sqlalchemy", "sqlalchemy.engine", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return path


def safe_trace(err: BaseException) -> str:
    """Where an error came from: class name plus file:line frames, with no message text."""
    frames = traceback.extract_tb(err.__traceback__)[-6:]
    where = " <- ".join(f"{Path(f.filename).name}:{f.lineno}" for f in reversed(frames))
    return f"{type(err).__module__}.{type(err).__name__} at {where or 'unknown'}"


def log_unexpected(err: BaseException) -> None:
    logging.getLogger(LOGGER_NAME).error("unexpected error: %s", safe_trace(err))
