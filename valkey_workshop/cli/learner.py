"""The learner's key loops: ``workshop start`` (lesson, demo, exercise) and ``workshop watch``
(re-check on save). Both show what the guided session returns and read one key at a time."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from pathlib import Path

from valkey_workshop.cli.keys import KeyReader
from valkey_workshop.content.models import Module, Step
from valkey_workshop.demo import run_demo
from valkey_workshop.operations import guarded_demo
from valkey_workshop.render import out_console, views
from valkey_workshop.render.console import message
from valkey_workshop.server.base import ServerInfo
from valkey_workshop.server.resolve import BackendChoice
from valkey_workshop.session.guided import (
    CHECK,
    DEMO,
    HINT,
    LESSON,
    NEXT,
    QUIT,
    SKIP,
    SOLUTION,
    GuidedSession,
)
from valkey_workshop.session.workdir import Workdir

#: The slow database in live demos, as the course text has it.
DEMO_DB_LATENCY_SECONDS = 1.5
SAVED = "saved"


class LearnerLoop:
    """One step at a time; keys: check, hint, demo (start only), solution, next, skip, quit."""

    def __init__(self, session: GuidedSession, watch: bool) -> None:
        self.session = session
        self.watch = watch
        self.console = out_console()
        self.changed: queue.Queue[str] = queue.Queue()
        # The exercise file as it was when last checked: a save the watcher misses (one made
        # before its first scan, say) still shows as a difference here.
        self._checked_version: tuple[int, int] | None = None
        self.actions: dict[str, Callable[[], bool]] = {
            CHECK.key: self.check,
            "\n": self.check,
            "\r": self.check,
            HINT.key: self.hint,
            DEMO.key: self.demo,
            LESSON.key: self.lesson,
            SOLUTION.key: self.solution,
            NEXT.key: self.next_step,
            SKIP.key: self.skip,
            SAVED: self.check,
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
        if self.session.publish_note:
            message(self.session.publish_note)
        if result.passed:
            message("Step passed. Press n for the next step, or s to compare with the solution.")
        return True

    def hint(self) -> bool:
        self.console.print(views.hint_view(self.session.hint()))
        return True

    def lesson(self) -> bool:
        if self.watch:
            return self.unknown(LESSON.key)
        self.console.print(views.lesson_view(self.session.lesson()))
        message(f"Your exercise: {self.session.exercise}")
        return True

    def demo(self) -> bool:
        if self.watch:
            return self.unknown(DEMO.key)
        self.console.print()
        self.console.print(views.subheading("Live demo"))
        step, sink = self.session.step, views.demo_sink(self.console)
        try:
            run = guarded_demo(
                step,
                self.session.server,
                lambda url: run_demo(step, url, sink, DEMO_DB_LATENCY_SECONDS),
            )
        except Exception as error:  # noqa: BLE001 - a demo that cannot run must not end the session
            message(f"The demo could not run: {type(error).__name__}: {error}")
            return True
        if run.aftermath.restarted is not None:
            self.session.server = run.aftermath.restarted
        if run.refusal is not None:
            message(f"The demo did not run. {run.refusal.message}")
        for notice in run.aftermath.messages():
            message(notice)
        return True

    def solution(self) -> bool:
        if SOLUTION not in self.session.actions():
            message("The solution unlocks once this step passes (or: workshop solution --force).")
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
            message(f"Watching {session.exercise}: save it to check again.")
            self.check()
            return
        self.console.print(views.lesson_view(session.lesson()))
        self.demo()
        message(f"\nYour exercise: {session.exercise}")
        message("Edit it in your editor, then press c to check it.")

    def run(self) -> None:
        session = self.session
        if session.warning:
            message(f"Warning: {session.warning}")
        if session.resumed:
            message(f"Welcome back: resuming at step {session.step.label}.")
        try:
            self.present()
            with KeyReader() as keys:
                while True:
                    shown = session.actions(with_demo=not self.watch)
                    self.console.print(views.actions_bar([(a.key, a.label) for a in shown]))
                    key = self._next_key(keys)
                    if key in (QUIT.key, "\x03", "\x04"):  # q, or Ctrl-C / Ctrl-D in cbreak mode
                        break
                    if not self.actions.get(key, lambda key=key: self.unknown(key))():
                        break
        finally:
            session.record_time()
        message(
            f"Bye. Your files are in {session.workdir.root}; "
            f"`workshop start {session.module.id}` resumes where you are."
        )
        self.console.print(views.summary_view(session.summary()))

    def _next_key(self, keys: KeyReader) -> str:
        target = str(self.session.exercise.resolve())
        while True:
            key = keys.read(0.2)
            if key is not None:
                return key.lower()
            saved = False
            while not self.changed.empty():
                saved = self.changed.get_nowait() == target or saved
            if self.watch and _version(self.session.exercise) != self._checked_version:
                saved = True
            if saved:
                return SAVED


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
    import watchfiles  # noqa: PLC0415 - only watch mode needs it

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


def run_start(
    module: Module, workdir: Workdir, choice: BackendChoice, info: ServerInfo, first: Step | None
) -> None:
    """``workshop start``: banner, then lesson, demo and exercise, step by step."""
    session = GuidedSession(module, workdir, info, first)
    out_console().print(views.banner(module, info, choice))
    LearnerLoop(session, watch=False).run()


def run_watch(
    module: Module, workdir: Workdir, info: ServerInfo, first: Step | None, poll: bool
) -> None:
    """``workshop watch``: re-check the current step on every save; move on only when asked."""
    session = GuidedSession(module, workdir, info, first)
    loop = LearnerLoop(session, watch=True)
    stop = threading.Event()
    folder = session.exercise.parent
    watcher = threading.Thread(
        target=_watch_files, args=(folder, loop.changed, stop, poll), daemon=True
    )
    watcher.start()
    try:
        loop.run()
    finally:
        stop.set()
