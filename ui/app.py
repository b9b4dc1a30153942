"""The GUI controller (ui layer): choose the store, sign in, show the main window, lock and unlock.

Locking (Ctrl+L or idle) tells every screen to save its work, waits for the database lane, writes
the lock to the audit trail, disposes the engine, wipes the key and hides every window that shows
patient data. Signing in again brings back a fresh window; drafts come back from the store.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QApplication, QMessageBox, QProgressDialog

from core import paths
from core.errors import LanternError
from ui import style
from ui.dialogs.signin import ChangePasswordDialog, SignInDialog
from ui.errors import install_excepthook, message_for, show_error
from ui.idle import IdleWatcher
from ui.session import Session, is_server_location
from ui.tasks import TaskRunner, run_and_wait

# The database layer (SQLAlchemy, Alembic, SQLCipher) and the main window's screens take most of a second to
# import. They are imported on the database lane while the sign-in window is already on screen.
HEAVY_MODULES = ("core.services.accounts", "core.services.backups", "core.services.settings", "ui.main_window")


def _start_in_background() -> str:
    """Check the taxonomy and rules, then import the heavy modules; returns check_domain_data()'s message."""
    import importlib

    problem = check_domain_data()
    if not problem:
        for name in HEAVY_MODULES:
            importlib.import_module(name)
    return problem

DOMAIN_PROBLEM = ("Lantern's incident types or safeguarding rules are not right, so it will not start (it could "
                  "give wrong safeguarding prompts). Ask IT to fix this file:\n\n")
DEMO_HINT = (f"This is the demo store, filled with made-up incidents. Sign in as <b>nurse</b>, <b>manager</b>, "
             f"<b>lead</b> or <b>admin</b>, password <b>{paths.DEMO_PASSWORD}</b>.")


class AppController(QObject):
    signed_in = Signal()

    def __init__(self, folder: Path | str, *, hint: str = "", banner: str = ""):
        super().__init__()
        # A store folder, or the trust's server URL from this PC's machine-wide settings (issue 16).
        self.folder = folder if is_server_location(folder) else Path(folder)
        self.hint, self.banner = hint, banner
        self.live = None  # on a server: the listener for other PCs' changes while someone is signed in
        self.locked_dialog = None  # on a server: asks for the previous password of reports a reset has locked
        self.runner = TaskRunner(self)
        self.checker = TaskRunner(self)  # the start-up integrity check runs beside the database lane
        self.session: Session | None = None
        self.domain_problem: str | None = None  # None: not checked yet; "": sound
        self.ctx = None  # the AppContext while signed in
        self.window = None  # the MainWindow while signed in
        self.dialog: SignInDialog | None = None
        self.resume_page = None  # the screen to go back to after an unlock
        self.quitting = False
        self.idle = IdleWatcher(5, self)
        self.idle.idle.connect(self.lock)

    # ----- sign-in ---------------------------------------------------------
    def show_sign_in(self, username: str = "", note: str = "") -> SignInDialog:
        self.dialog = SignInDialog(str(self.folder), self.hint, username)
        if note:
            self.dialog.message.setText(note)
        self.dialog.submitted.connect(self._try_sign_in)
        self.dialog.rejected.connect(QApplication.instance().quit)
        self.dialog.show()
        if self.domain_problem is None:  # once per run, while the user types
            self.domain_problem = ""
            self.runner.run(_start_in_background, self._domain_checked, message_for)
        return self.dialog

    def _domain_checked(self, problem: str) -> None:
        """A broken taxonomy or rules file stops Lantern before anyone is signed in (hazard H09)."""
        if not problem or self.quitting:
            return
        self.domain_problem = problem
        if self.dialog:
            self.dialog.rejected.disconnect()
            self.dialog.reject()
            self.dialog = None
        QMessageBox.critical(None, "Lantern cannot start", DOMAIN_PROBLEM + problem)
        QApplication.instance().exit(2)

    def _try_sign_in(self, username: str, password: str) -> None:
        folder = self.folder
        reason = "unlock" if self.window is None and self.session is None and self.dialog and \
            self.dialog.property("unlock") else "sign_in"
        def sign_in():
            from core.services import accounts

            store, actor = accounts.sign_in(folder, username, password, reason=reason)
            kept, locked = _open_outbox(store, actor, password) if is_server_location(folder) else (None, None)
            return store, actor, kept, locked

        self.runner.run(sign_in, lambda result: self._signed_in(result, password), self._sign_in_failed)

    def _sign_in_failed(self, err: BaseException) -> None:
        if self.dialog:
            self.dialog.set_busy(False)
            self.dialog.show_problem(message_for(err))

    def _signed_in(self, result, password: str = "") -> None:
        store, actor, kept, locked = result
        if self.domain_problem or self.quitting:  # the data check failed, or Lantern quit, meanwhile
            store.close()
            if kept is not None:
                kept.close()
            return
        self.session = Session(self.folder, store, actor, kept)
        if actor.must_change_password and not (password := self._change_temporary_password()):
            self.session.sign_out()
            self.session = None
            self.dialog.set_busy(False)
            self.dialog.show_problem("You need to choose a new password before you can use Lantern.")
            return
        self.dialog.rejected.disconnect()
        self.dialog.accept()
        self.dialog = None
        self._open_main_window()
        if locked is not None:  # her password was reset since reports were kept here: ask for the previous one
            from ui.dialogs.kept_locked import offer_locked_outbox

            self.locked_dialog = offer_locked_outbox(self.ctx, locked, password, self.window)

    def _change_temporary_password(self) -> str:
        """The new password chosen ("" if none was)."""
        dialog = ChangePasswordDialog("You signed in with a temporary password. Choose your own now.",
                                      username=self.session.actor.username)
        while dialog.exec():
            old, new = dialog.values()
            try:
                store, actor, kept = self.session.store, self.session.actor, self.session.outbox
                dialog.setEnabled(False)  # Argon2id takes a second: off the GUI thread, and no second press
                try:
                    self.session.actor = run_and_wait(
                        lambda s=store, a=actor, o=old, n=new, k=kept: _change_password(s, a, o, n, k))
                finally:
                    dialog.setEnabled(True)
                return new
            except LanternError as err:
                dialog.show_problem(err.message)
        return ""

    def _open_main_window(self) -> None:
        from core.services import settings as store_settings
        from ui.context import AppContext
        from ui.main_window import MainWindow

        self.ctx = AppContext(self.session, self.runner, self)
        if self.session.on_server:  # other PCs' reports and actions show here within seconds (issue 16 item 4)
            from ui.live import LiveRefresh

            self.live = LiveRefresh(self.ctx, self)

        self.window = MainWindow(self.ctx, str(self.folder), self.banner)
        self.window.lock_requested.connect(self.lock)
        self.window.sign_out_requested.connect(self.sign_out)
        try:
            self.idle.set_minutes(store_settings.lock_minutes(self.session.store))
        except LanternError:
            self.idle.set_minutes(5)
        self.idle.start()
        resume, self.resume_page = self.resume_page, None
        page = self.window.page(resume) if resume else None
        if page is not None:  # unlocking goes back to the screen that was open (the unfinished report), not Home
            self.window.tabs.setCurrentWidget(page)
        self.window.quit_requested.connect(self.quit)
        self.window.show()
        self._start_up_check()
        self.signed_in.emit()

    def _start_up_check(self) -> None:
        """`quick_check` in the background, off the database lane so screens load meanwhile (REL-05). A trust's
        server is IT's to check, not this PC's."""
        if self.session.on_server:
            return
        store, actor, ctx = self.session.store, self.session.actor, self.ctx

        def checked(ok: bool) -> None:
            if not ok and self.ctx is ctx:
                ctx.damaged.emit()

        def check() -> bool:
            from core.services import maintenance

            return maintenance.quick_check(store, actor)

        self.checker.run(check, checked, message_for)

    # ----- lock and sign-out ------------------------------------------------
    def _close_session(self, how: str) -> str:
        username = self.session.actor.username if self.session else ""
        self.idle.stop()
        if self.live is not None:
            self.live.stop()
            self.live = None
        if self.ctx:
            self.ctx.locked.emit()  # screens save their drafts now
        if self.session and how == "sign_out" and not self.session.on_server:  # a server's backups are IT's
            self._automatic_backup()
        self.runner.wait()
        self.checker.wait(120_000)
        if self.window:
            self.window.hide()
            self.window.deleteLater()  # with it any dialog of the session (the locked reports' one)
            self.window = None
            self.locked_dialog = None
        if self.session:
            try:
                self.session.lock() if how == "lock" else self.session.sign_out()
            except Exception as err:  # noqa: BLE001 - the key must be dropped whatever happens
                message_for(err)
                if self.session.store is not None:
                    self.session.store.close()
            self.session = None
        self.ctx = None
        return username

    def _automatic_backup(self) -> None:
        """The administrator's automatic backup, on the database lane after the drafts, before the store closes."""
        store, actor = self.session.store, self.session.actor
        from core.services import backups

        self.runner.run(lambda: backups.run_automatic(store, actor), lambda _outcome: None, message_for)
        self.runner.wait(600_000)  # a large store takes a while; closing it mid-backup would lose the backup

    def lock(self) -> None:
        if self.session is None:
            return
        self.resume_page = type(self.window.tabs.currentWidget()) if self.window else None
        username = self._close_session("lock")
        dialog = self.show_sign_in(username if paths.prefill_username() else "",
                                   "Lantern locked itself to protect patient information. "
                                   "Sign in to carry on; your draft is safe.")
        dialog.setProperty("unlock", True)

    def sign_out(self, show_sign_in: bool = True) -> None:
        if self.session is None:
            return
        self._close_session("sign_out")
        if show_sign_in:
            self.show_sign_in()

    def quit(self) -> None:
        """Lantern menu, Quit: sign out (saving drafts, the automatic backup) and close Lantern."""
        self.sign_out(show_sign_in=False)
        QApplication.instance().quit()

    def shutdown(self) -> None:
        """Quitting: sign out, then wait for both lanes and deliver their last results, so no worker thread
        reports to an object Python has already freed (a sign-in that finishes now closes its store)."""
        self.quitting = True
        if self.session is not None:
            self._close_session("sign_out")
        self.runner.wait(120_000)
        self.checker.wait(120_000)
        QApplication.sendPostedEvents()


def _open_outbox(store, actor, password: str):
    """The person's reports kept on this PC while the server cannot be reached (core.services.outbox), opened
    with the password she signed in with: (outbox, None). (None, what it holds) when her password was reset since
    reports were kept: she is asked for the previous one once signed in. (None, None) if it cannot be opened at
    all: she can still work."""
    from core.services import outbox

    try:
        return outbox.open_at_sign_in(store.location, actor.username, password)
    except (LanternError, OSError) as err:
        message_for(err)
        return None, None


def _change_password(store, actor, old: str, new: str, kept):
    """Change the password, and re-wrap the outbox on this PC so it opens with the new one."""
    from core.services import accounts, outbox

    changed = accounts.change_password(store, actor, old, new)
    if kept is not None:
        outbox.rewrap(kept, changed.username, new)
    return changed


def _prepare_demo(parent=None) -> Path | None:
    from core.demo.seed import create_or_fill_demo

    folder = paths.demo_store_dir()
    if (folder / "keyslots.json").exists():
        return folder
    progress = QProgressDialog("Setting up the demo store with made-up incidents…", None, 0, 0, parent)
    progress.setWindowTitle("Lantern")
    progress.setWindowModality(Qt.WindowModality.ApplicationModal)
    progress.show()
    QApplication.processEvents()
    try:  # off the GUI thread: the progress dialog keeps painting and a screen reader keeps working
        run_and_wait(lambda: create_or_fill_demo(folder, paths.DEMO_PASSWORD, incidents=paths.DEMO_INCIDENTS))
    except Exception as err:  # noqa: BLE001
        progress.close()
        show_error(None, err, "Lantern could not set up the demo store")
        return None
    progress.close()
    return folder


def parse_gui_args(argv: list[str]) -> dict:
    options = {"store": None, "demo": False, "setup": False}
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg == "--demo":
            options["demo"] = True
        elif arg == "--setup":
            options["setup"] = True
        elif arg == "--store" and args:
            options["store"] = Path(args.pop(0))
        elif arg.startswith("--store="):
            options["store"] = Path(arg.split("=", 1)[1])
    return options


def check_domain_data() -> str:
    """Load the taxonomy and the safeguarding rules (with any trust override) before anything else.

    Returns "" when both are sound, else the plain message naming the file, the entry and the problem.
    """
    from core.errors import ConfigError
    from core.rules import active_rules
    from core.taxonomy import load_taxonomy

    try:
        load_taxonomy()
        active_rules()
    except ConfigError as err:
        return err.message
    return ""


def run_gui(argv: list[str]) -> int:
    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName("Lantern")
    style.apply(app)
    install_excepthook()
    options = parse_gui_args(argv)
    server = None if options["store"] or options["demo"] or options["setup"] else paths.configured_server()
    if server is not None:  # IT set this PC to use the trust's server (machine-wide settings): no store folder
        return _run(app, AppController(server[0]))
    chosen = _choose_folder(options)
    if isinstance(chosen, int):
        return chosen
    folder, hint, banner = chosen
    if not (Path(folder) / "keyslots.json").exists():
        QMessageBox.warning(None, "Lantern", f"There is no Lantern store in {folder}. Check the folder, or ask "
                                             "your administrator where the ward's store is.")
        return 1
    return _run(app, AppController(Path(folder), hint=hint, banner=banner), "nurse" if hint else "")


def _choose_folder(options: dict) -> tuple[Path, str, str] | int:
    """The store folder (with the demo's hint and banner), or the exit code when there is none to open."""
    folder = options["store"] or (None if options["demo"] or options["setup"] else paths.configured_store())
    if folder is not None:
        return folder, "", ""
    problem = check_domain_data()  # the demo and first-run paths use the rules at once, so check them first
    if problem:
        QMessageBox.critical(None, "Lantern cannot start", DOMAIN_PROBLEM + problem)
        return 2
    if options["demo"]:
        folder = _prepare_demo()
        return (folder, DEMO_HINT, "DEMO STORE: made-up data only") if folder is not None else 1
    from ui.dialogs.setup_wizard import FirstRun  # first run on this computer (or --setup): set up or find a store

    first_run = FirstRun(TaskRunner())
    if not first_run.wizard.exec():
        return 0
    return first_run.folder(), "", ""


def _run(app: QApplication, controller: AppController, username: str = "") -> int:
    controller.show_sign_in(username)
    app.aboutToQuit.connect(controller.shutdown)
    return app.exec()
