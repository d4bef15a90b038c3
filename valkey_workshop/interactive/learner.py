"""The learner's key loops: ``workshop start`` (lesson, demo, exercise) and ``workshop watch``
(re-check on save). Both show what the guided session returns and read one key at a time."""

from __future__ import annotations

import os
import queue
import shlex
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from valkey_workshop import naming
from valkey_workshop.classroom.membership import AnnouncementWatcher, ClassPublisher
from valkey_workshop.commands.demo import run_step_demo
from valkey_workshop.content.models import Module, Step
from valkey_workshop.interactive.guided import (
    CHECK,
    DEMO,
    EDIT,
    HINT,
    LESSON,
    NEXT,
    PROMPT,
    QUIT,
    SKIP,
    SOLUTION,
    GuidedSession,
)
from valkey_workshop.interactive.keys import KeyReader
from valkey_workshop.interactive.pager import Pager
from valkey_workshop.render import out_console, views
from valkey_workshop.render.console import message
from valkey_workshop.server.base import ServerInfo
from valkey_workshop.server.resolve import BackendChoice
from valkey_workshop.session.workdir import Workdir, resolve_workdir

#: The slow database in live demos, as the course text has it.
DEMO_DB_LATENCY_SECONDS = 1.5
SAVED = "saved"
#: ``start``: the key that turns checking on save off and on again.
CHECK_ON_SAVE_KEY = "w"


def editor_command() -> list[str] | None:
    """The learner's editor as a command line ($VISUAL, else $EDITOR), or None."""
    for name in ("VISUAL", "EDITOR"):
        value = os.environ.get(name, "").strip()
        if value:
            return shlex.split(value, posix=os.name != "nt")
    return None


class LearnerLoop:
    """One step at a time; keys: check, hint, demo (start only), solution, next, skip, quit."""

    def __init__(self, session: GuidedSession, watch: bool, check_on_save: bool = True) -> None:
        self.session = session
        self.watch = watch
        #: Whether a save of the exercise checks it (``watch`` always does; ``w`` toggles it
        #: in ``start``), as rustlings does.
        self.check_on_save = check_on_save or watch
        self._keys: KeyReader | None = None
        self.console = out_console()
        self.changed: queue.Queue[str] = queue.Queue()
        # The exercise file as it was when last checked: a save the watcher misses (one made
        # before its first scan, say) still shows as a difference here.
        self._checked_version: tuple[int, int] | None = None
        self._publish_noted = False
        self._say: AnnouncementWatcher | None = None  # what the trainer says, while running
        self.lesson_pages = Pager()
        self.actions: dict[str, Callable[[], bool]] = {
            CHECK.key: self.check,
            "\n": self.check,
            "\r": self.check,
            HINT.key: self.hint,
            EDIT.key: self.edit,
            PROMPT.key: self.valkey_prompt,
            CHECK_ON_SAVE_KEY: self.toggle_check_on_save,
            DEMO.key: self.demo,
            LESSON.key: self.lesson,
            " ": self.next_page,
            SOLUTION.key: self.solution,
            NEXT.key: self.next_step,
            SKIP.key: self.skip,
            SAVED: self.check,
            "!": self.help_me,
        }

    # -- what each key does (False ends the loop) ------------------------------------------
    def check(self) -> bool:
        self._checked_version = _version(self.session.exercise)
        self.console.print(views.subheading(f"Checking {self.session.step.label}…"))
        result = self.session.check()
        outcome = self.session.last_outcome
        if outcome is not None and outcome.server_stopped is not None:
            # Said once, plainly; the guard has restarted our server (or could not).
            for notice in outcome.notices:
                message(notice)
            message("Nothing was recorded for this check; press c to check again.")
            return True
        self.console.print(views.step_result_view(result, self.session.module.id))
        for notice in outcome.notices if outcome is not None else ():
            message(notice)
        if self.session.progress_error:
            message(f"Warning: {self.session.progress_error}")
        if self.session.publish_note and not self._publish_noted:
            message(self.session.publish_note)  # once a session: it says the outbox waits
            self._publish_noted = True
        elif self.session.publish_note is None:
            self._publish_noted = False
        if outcome is not None and outcome.published and outcome.published.announcement:
            message(f"Trainer: {outcome.published.announcement}")
        if result.passed:
            message(self.session.passed_line(with_demo=not self.watch))
        return True

    def edit(self) -> bool:
        """``e``: the exercise in $VISUAL or $EDITOR; back here when the editor ends (a save
        is then checked, as any save is)."""
        exercise = self.session.exercise
        command = editor_command()
        if command is None:
            message(
                f"Set $VISUAL or $EDITOR to open the exercise from here (export EDITOR=nano, "
                f"say); or open {exercise} in your editor."
            )
            return True
        try:
            with self._keys.suspended() if self._keys else _nothing():
                ended = subprocess.run([*command, str(exercise)], check=False)
        except OSError as error:
            message(f"Could not start the editor {command[0]!r}: {error.strerror or error}.")
            return True
        if ended.returncode != 0:
            message(f"The editor {command[0]!r} ended with exit status {ended.returncode}.")
        if not self.check_on_save:
            message("Back from the editor; press c to check.")
        return True

    def valkey_prompt(self) -> bool:
        """``p``: the ``workshop cli`` prompt on this session's server; Ctrl-D comes back."""
        from valkey_workshop.interactive.lab_prompt import (  # noqa: PLC0415 - on use
            run_lab_prompt,
        )

        with self._keys.suspended() if self._keys else _nothing():
            run_lab_prompt(self.session.server, self.session.workdir.root)
        return True

    def toggle_check_on_save(self) -> bool:
        """``w`` (``start``): turn checking on save off, or on again."""
        if self.watch:
            return self.unknown(CHECK_ON_SAVE_KEY)
        self.check_on_save = not self.check_on_save
        self._checked_version = _version(self.session.exercise)  # only later saves count
        message(
            "Checking on save is on: each save of the exercise checks it."
            if self.check_on_save
            else "Checking on save is off: press c to check."
        )
        return True

    def help_me(self) -> bool:
        """!: raise a hand on the class board (as `workshop help-me` does)."""
        sent = ClassPublisher(self.session.workdir.root).publish([{"kind": "help"}])
        message("Hand raised on the class board." if sent else "This workdir is in no class.")
        return True

    def hint(self) -> bool:
        self.console.print(views.hint_view(self.session.hint()))
        return True

    def lesson(self) -> bool:
        """``l``: the lesson again, from its first page."""
        if self.watch:
            return self.unknown(LESSON.key)
        self.lesson_pages.first()
        self._show_page()
        return True

    def demo(self) -> bool:
        if self.watch:
            return self.unknown(DEMO.key)
        self.console.print()
        self.console.print(views.subheading("Live demo"))
        run = run_step_demo(
            self.session.step,
            self.session.server,
            views.demo_sink(self.console),
            db_latency=DEMO_DB_LATENCY_SECONDS,
        )
        if run.failure is not None:
            message(f"The demo could not run: {run.failure_text}")
            return True
        if run.refusal is not None:
            message(f"The demo did not run. {run.refusal}")
        for notice in run.notices:
            message(notice)
        return True

    def solution(self) -> bool:
        if SOLUTION not in self.session.actions():
            message(
                "The solution unlocks once this step passes "
                f"(or: {naming.program()} solution --force)."
            )
            return True
        self.console.print(views.solution_view(self.session.solution(), self.console.width))
        return True

    def next_step(self) -> bool:
        if self.session.advance_to_unfinished():
            self.present()
            return True
        message("Every step is passed or skipped.")
        return False

    def skip(self) -> bool:
        if self.session.passed:
            return self.unknown(SKIP.key)
        self.session.skip()
        message(f"Step {self.session.step.label} marked skipped (not passed).")
        return self.next_step()

    def unknown(self, key: str) -> bool:
        message(f"Unknown key {key!r}.")
        return True

    # -- the loop --------------------------------------------------------------------------
    def present(self) -> None:
        session = self.session
        self.console.print(views.step_header(session.module, session.step))
        if self.watch:
            self.console.print(
                views.wrapped(f"Watching {session.exercise}: save it to check again.")
            )
            self.check()
            return
        # The lesson a screenful at a time, and the demo when the learner asks: at 80x24 a
        # lesson followed at once by its demo would scroll away before it is read.
        self._checked_version = _version(session.exercise)  # a save from now on is checked
        height = max(6, self.console.size.height - 6)
        self.lesson_pages.open(views.lesson_pages(self.console, session.lesson(), height))
        self._show_page()

    def _show_page(self) -> None:
        pages = self.lesson_pages
        self.console.print(pages.current)
        if pages.has_next:
            message(f"(lesson page {pages.position}: space for more)")
        else:
            then = (
                "each save checks it (w turns that off)"
                if self.check_on_save
                else "then press c to check it"
            )
            self.console.print(
                views.wrapped(
                    f"Your exercise: {self.session.exercise}. Press d for the live demo; edit "
                    f"the file (e opens your editor): {then}."
                )
            )

    def next_page(self) -> bool:
        """Space: the lesson's next page (nothing once it is all shown)."""
        if self.watch or not self.lesson_pages.forward():
            return True
        self._show_page()
        return True

    def run(self) -> None:
        session = self.session
        if session.warning:
            message(f"Warning: {session.warning}")
        if session.resumed:
            message(f"Welcome back: resuming at step {session.step.label}.")
        try:
            self.present()
            with KeyReader() as keys, AnnouncementWatcher(session.workdir.root) as self._say:
                self._keys = keys
                while True:
                    shown = [(a.key, a.label) for a in session.actions(with_demo=not self.watch)]
                    if not self.watch:
                        saving = "on" if self.check_on_save else "off"
                        shown.insert(-1, (CHECK_ON_SAVE_KEY, f"check on save: {saving}"))
                    if not self.watch and self.lesson_pages.has_next:
                        shown.insert(0, ("space", f"page {self.lesson_pages.next_position}"))
                    bar = views.actions_bar(shown, self.console.width)
                    self.console.print(bar)
                    key = self._next_key(keys)
                    if key in (QUIT.key, "\x03", "\x04"):  # q, or Ctrl-C / Ctrl-D in cbreak mode
                        break
                    if not self.actions.get(key, lambda key=key: self.unknown(key))():
                        break
        finally:
            session.record_time()
        summary = session.summary()
        root = session.workdir.root
        # The command must find the same workdir: name it unless it is the one found anyway.
        where = "" if root == resolve_workdir(None) else f" --workdir {root}"
        again = (
            f"every step is done; `{naming.program()} start {session.module.id}{where} --step 02` "
            "revisits one"
            if summary.complete
            else f"`{naming.program()} start {session.module.id}{where}` resumes where you are"
        )
        self.console.print(views.wrapped(f"Bye. Your files are in {root}; {again}."))
        self.console.print(views.summary_view(summary))

    def _next_key(self, keys: KeyReader) -> str:
        target = str(self.session.exercise.resolve())
        while True:
            key = keys.read(0.2)
            if key is not None:
                return key.lower()
            for text in self._say.said() if self._say else ():
                message(f"Trainer: {text}")
            saved = False
            while not self.changed.empty():
                saved = self.changed.get_nowait() == target or saved
            if _version(self.session.exercise) != self._checked_version:
                saved = True
            if saved and self.check_on_save:
                return SAVED


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def _version(path: Path) -> tuple[int, int] | None:
    """(modification time, size) of a file, or None when it is missing."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size)


def _watch_files(
    folder: Path, changed: queue.Queue[str], stop: threading.Event, poll: bool
) -> None:
    import watchfiles  # noqa: PLC0415 - only a session that checks on save needs it

    for changes in watchfiles.watch(
        folder,
        stop_event=stop,
        force_polling=True if poll else None,  # None: watchfiles decides (or its environment)
        debounce=300,
        raise_interrupt=False,
        recursive=False,
    ):
        for _, path in changes:
            changed.put(str(Path(path).resolve()))


@contextmanager
def _watching(loop: LearnerLoop, folder: Path, poll: bool) -> Iterator[None]:
    """The exercise folder watched while the loop runs; its saves go to ``loop.changed``."""
    stop = threading.Event()
    watcher = threading.Thread(
        target=_watch_files, args=(folder, loop.changed, stop, poll), daemon=True
    )
    watcher.start()
    try:
        yield
    finally:
        stop.set()


def run_start(
    module: Module,
    workdir: Workdir,
    choice: BackendChoice,
    info: ServerInfo,
    first: Step | None,
    check_on_save: bool = True,
) -> None:
    """``workshop start``: banner, then lesson, demo and exercise, step by step."""
    session = GuidedSession(module, workdir, info, first)
    out_console().print(views.banner(module, info, choice))
    loop = LearnerLoop(session, watch=False, check_on_save=check_on_save)
    with _watching(loop, session.exercise.parent, poll=False):
        loop.run()


def run_watch(
    module: Module, workdir: Workdir, info: ServerInfo, first: Step | None, poll: bool
) -> None:
    """``workshop watch``: re-check the current step on every save; move on only when asked."""
    session = GuidedSession(module, workdir, info, first)
    loop = LearnerLoop(session, watch=True)
    with _watching(loop, session.exercise.parent, poll):
        loop.run()
