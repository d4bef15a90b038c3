"""The key loop of ``workshop demo``: lessons and live demos for a room, with a section timer.

Paused, each step walks the same way on the space bar: the lesson a screenful at a time, then
the live demo (run when the trainer decides), then the next step. The key bar lists exactly the
keys that do something on the screen shown.
"""

from __future__ import annotations

from collections.abc import Callable

from valkey_workshop.commands.demo import run_step_demo
from valkey_workshop.content.models import Module, Step
from valkey_workshop.content.notes import TrainerNotes
from valkey_workshop.interactive.guided import live_lesson_text
from valkey_workshop.interactive.keys import DOWN, LEFT, PAGE_DOWN, PAGE_UP, RIGHT, UP, wait_for_key
from valkey_workshop.interactive.live import LiveServer
from valkey_workshop.interactive.pager import Pager
from valkey_workshop.render import out_console, views
from valkey_workshop.render.console import message
from valkey_workshop.results.demo import PresenterOutcome
from valkey_workshop.server.base import ServerInfo
from valkey_workshop.server.latency_proxy import LatencyProxy
from valkey_workshop.session.presenter import Presenter
from valkey_workshop.words import plural

#: Keys that mean the same as a listed one: Enter and a clicker's forward keys walk on (space),
#: its backward keys go back (b).
_KEY_NAMES = {
    " ": "space",
    "\r": "space",
    "\n": "space",
    "c": "space",
    RIGHT: "space",
    DOWN: "space",
    PAGE_DOWN: "space",
    LEFT: "b",
    UP: "b",
    PAGE_UP: "b",
}

#: Lines kept free around a lesson page: the step header (3), the timer and the key bar.
_CHROME_LINES = 6
_MIN_PAGE_LINES = 6


class PresenterLoop:
    """Shows steps one by one; between them, waits for a key unless running unattended."""

    def __init__(
        self,
        module: Module,
        steps: tuple[Step, ...],
        server: ServerInfo,
        notes: TrainerNotes | None,
        network: LatencyProxy | None,
        db_latency: float,
    ) -> None:
        self.presenter = Presenter(module, steps)
        #: The server as it runs now (the guard may restart it: see ``LiveServer``).
        self.live = LiveServer(server)
        self.notes = notes
        self.network = network
        self.db_latency = db_latency
        self.failures: list[str] = []
        #: Demos the server guard refused on this server (the command exits 2).
        self.refused: list[str] = []
        self.console = out_console()
        self._with_notes = False
        self._unattended = False
        self.lesson_pages = Pager()  # Rich renderables, one per page
        self._demo_ran = False
        #: Trainer notes longer than a screen, a page at a time, while they are being read.
        self.notes_pages = Pager()
        self._reading_notes = False
        #: ``step 02: 18/25 passed`` when a class is served (``workshop class serve``).
        self.class_line: Callable[[int], str | None] | None = None

    @property
    def server(self) -> ServerInfo:
        return self.live.info

    @property
    def url(self) -> str:
        return self.network.url_for(self.server.url) if self.network else self.server.url

    def outcome(self) -> PresenterOutcome:
        """The demos that did not run so far."""
        return PresenterOutcome(tuple(self.failures), tuple(self.refused))

    # -- what is on screen ---------------------------------------------------------------
    def _header(self) -> None:
        console = self.console
        console.print(views.step_header(self.presenter.module, self.presenter.step))
        console.print(views.section_timer_line(self.presenter.section_time()))
        if self.network is not None:
            state = "on" if self.network.enabled else "off"
            rtt_ms = self.network.rtt_seconds * 1000
            message(f"Simulated network: {rtt_ms:g} ms round trip, {state}")
        self._show_class_line()

    def _show_class_line(self) -> None:
        """``Class: step 02: 18/25 passed`` when a class is served (at the step's start and
        again after its demo, when learners have had time to try)."""
        if self.class_line is not None:
            line = self.class_line(self.presenter.step.number)
            if line:
                self.console.print(views.quiet(f"Class: {line}"))

    def show_step(self, with_notes: bool) -> None:
        """Unattended: the whole lesson, the notes if asked, then the demo."""
        self._header()
        step = self.presenter.step
        self.console.print(views.lesson_view(live_lesson_text(step, self.server.url)))
        if with_notes:
            self.show_notes()
        self.run_demo()

    def open_step(self) -> None:
        """Paused: the step's header and the lesson's first page; the demo waits for a key."""
        self._header()
        text = live_lesson_text(self.presenter.step, self.server.url)
        self.lesson_pages.open(views.lesson_pages(self.console, text, self._page_height()))
        self._reading_notes = False
        self._demo_ran = False
        self._show_page()
        if self._with_notes and self.lesson_pages.count == 1:
            self.show_notes()

    def _show_page(self) -> None:
        pages = self.lesson_pages
        self.console.print(pages.current)
        if pages.count > 1:
            message(f"(lesson page {pages.position})")

    def show_lesson(self) -> None:
        """``l``: the lesson again, from its first page."""
        self.lesson_pages.first()
        self._show_page()

    def run_demo(self) -> None:
        step = self.presenter.step
        console = self.console
        self._demo_ran = True
        console.print()
        console.print(views.subheading(f"Live demo · {step.label}"))
        run = run_step_demo(
            step,
            self.server,
            views.demo_sink(console),
            db_latency=self.db_latency,
            network=self.network,
        )
        if run.failure is not None:
            self.failures.append(f"{step.label}: {run.failure_text}")
            message(f"✗ The demo of {step.label} failed: {run.failure_text}")
            return
        for notice in run.notices:
            message(notice)
        if run.refusal is not None:
            self.failures.append(f"{step.label}: not run on this server")
            self.refused.append(step.label)
            message(f"✗ The demo of {step.label} did not run. {run.refusal}")
            return
        outcome = run.outcome
        if outcome is None:
            self.failures.append(f"{step.label}: the server stopped")
            return
        if outcome.records:
            console.print(
                views.latency_histogram(outcome.records, f"Latency of the calls of {step.label}")
            )
        message(
            f"✓ demo {step.label} ran: {plural(outcome.round_trips, 'round trip')} "
            f"in {outcome.seconds:.2f} s"
        )
        self._show_class_line()

    def _notes_text(self) -> str | None:
        return self.notes.for_step(self.presenter.step.number) if self.notes else None

    def show_notes(self) -> None:
        step = self.presenter.step
        text = self._notes_text()
        if not text:
            message(f"(no trainer notes for {step.label})")
            return
        title = f"Trainer notes · {step.label}"
        if self._unattended:
            self.console.print(views.notes_view(text, title))
            return
        self.notes_pages.open(views.notes_pages(self.console, text, title, self._page_height()))
        self._reading_notes = True
        self._show_notes_page()

    def _show_notes_page(self) -> None:
        self.console.print(self.notes_pages.current)
        if self.notes_pages.at_last:
            self._reading_notes = False  # read to the end: space walks on as before

    def _page_height(self) -> int:
        return max(_MIN_PAGE_LINES, self.console.size.height - _CHROME_LINES)

    # -- unattended ------------------------------------------------------------------------
    def unattended(self, with_notes: bool) -> None:
        self._unattended = True
        while True:
            self.show_step(with_notes)
            upcoming = self.presenter.next_starts_section()
            if not self.presenter.forward():
                return
            if upcoming is not None:
                self.console.print(views.section_break(upcoming))

    # -- paused ----------------------------------------------------------------------------
    def actions(self) -> list[tuple[str, str]]:
        """The keys that do something now, in the order the key bar shows them."""
        actions: list[tuple[str, str]] = []
        if self._reading_notes:
            actions.append(("space", f"notes {self.notes_pages.next_position}"))
        elif self.lesson_pages.has_next:
            actions.append(("space", f"page {self.lesson_pages.next_position}"))
        elif not self._demo_ran:
            actions.append(("space", "demo"))
        elif not self.presenter.at_end:
            actions.append(("space", "next step"))
        actions.append(("l", "lesson"))
        actions.append(("r", "demo again" if self._demo_ran else "demo"))
        if self.lesson_pages.has_previous and not self._demo_ran:
            actions.append(("b", "page back"))
        elif self.presenter.index > 0:
            actions.append(("b", "step back"))
        if self._notes_text():
            actions.append(("n", "notes"))
        if self.network is not None:
            actions.append(("t", "network"))
        actions.append(("q", "quit"))
        return actions

    def paused(self, with_notes: bool) -> None:
        self._with_notes = with_notes
        self.open_step()
        handlers = {
            "space": self._continue,
            "l": self.show_lesson,
            "r": self.run_demo,
            "b": self._back,
            "n": self.show_notes,
            "t": self._toggle_network,
        }
        while True:
            actions = self.actions()
            self.console.print(views.section_timer_line(self.presenter.section_time()))
            self.console.print(views.actions_bar(actions, self.console.width))
            key = wait_for_key()
            key = key if len(key) > 1 else key.lower()
            if key in ("q", "\x03", "\x04"):  # q, Ctrl-C or Ctrl-D
                message("End of the demo.")
                return
            name = _KEY_NAMES.get(key, key)
            offered = {action for action, _ in actions}
            if name not in offered:
                shown = "space" if key == " " else key if len(key) > 1 else repr(key)
                message(f"Key {shown} does nothing here.")
                continue
            if name != "space":
                self._reading_notes = False  # another key leaves the notes where they were
            handlers[name]()

    def _continue(self) -> None:
        if self._reading_notes:
            self.notes_pages.forward()
            self._show_notes_page()
            return
        if self.lesson_pages.forward():
            self._show_page()
            if self._with_notes and self.lesson_pages.at_last:
                self.show_notes()
            return
        if not self._demo_ran:
            self.run_demo()
            return
        upcoming = self.presenter.next_starts_section()
        if not self.presenter.forward():
            return
        if upcoming is not None:
            self.console.print(views.section_break(upcoming))
        self.open_step()

    def _back(self) -> None:
        """Back one lesson page while the lesson is being read, else back one step."""
        if self.lesson_pages.has_previous and not self._demo_ran:
            self.lesson_pages.back()
            self._show_page()
            return
        if self.presenter.back():
            self.open_step()

    def _toggle_network(self) -> None:
        assert self.network is not None
        self.network.enabled = not self.network.enabled
        message(f"Simulated network {'on' if self.network.enabled else 'off'}.")
