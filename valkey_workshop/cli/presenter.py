"""The key loop of ``workshop demo``: lessons and live demos for a room, with a section timer."""

from __future__ import annotations

from valkey_workshop.cli.keys import wait_for_key
from valkey_workshop.content.models import Module, Step
from valkey_workshop.content.notes import TrainerNotes
from valkey_workshop.demo import run_demo
from valkey_workshop.render import out_console, views
from valkey_workshop.render.console import message
from valkey_workshop.server.base import ServerInfo
from valkey_workshop.server.latency_proxy import LatencyProxy
from valkey_workshop.session.guided import live_lesson_text
from valkey_workshop.session.presenter import Presenter


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
        self.server = server
        self.notes = notes
        self.network = network
        self.db_latency = db_latency
        self.failures: list[str] = []
        self.console = out_console()
        self._with_notes = False

    @property
    def url(self) -> str:
        return self.network.url_for(self.server.url) if self.network else self.server.url

    def show_step(self, with_notes: bool) -> None:
        step = self.presenter.step
        console = self.console
        console.print(views.step_header(self.presenter.module, step))
        console.print(views.section_timer_line(self.presenter.section_time()))
        if self.network is not None:
            state = "on" if self.network.enabled else "off"
            rtt_ms = self.network.rtt_seconds * 1000
            message(f"Simulated network: {rtt_ms:g} ms round trip, {state}")
        console.print(views.lesson_view(live_lesson_text(step, self.server.url)))
        if with_notes:
            self.show_notes()
        self.run_demo()

    def run_demo(self) -> None:
        step = self.presenter.step
        console = self.console
        console.print()
        console.print(views.subheading(f"Live demo · {step.label}"))
        try:
            outcome = run_demo(
                step,
                self.url,
                views.demo_sink(console),
                db_latency=self.db_latency,
                direct_url=self.server.url,
                network=self.network,
            )
        except Exception as error:  # noqa: BLE001 - a broken demo must not end the session
            self.failures.append(f"{step.label}: {type(error).__name__}: {error}")
            message(f"✗ The demo of {step.label} failed: {type(error).__name__}: {error}")
            return
        if outcome.records:
            console.print(
                views.latency_histogram(outcome.records, f"Latency of {step.label}'s calls")
            )
        message(
            f"✓ demo {step.label} ran: {outcome.round_trips} round trips in {outcome.seconds:.2f} s"
        )

    def show_notes(self) -> None:
        step = self.presenter.step
        text = self.notes.for_step(step.number) if self.notes else None
        if text:
            self.console.print(views.notes_view(text, f"Trainer notes · {step.label}"))
        else:
            message(f"(no trainer notes for {step.label})")

    def unattended(self, with_notes: bool) -> None:
        while True:
            self.show_step(with_notes)
            upcoming = self.presenter.next_starts_section()
            if not self.presenter.forward():
                return
            if upcoming is not None:
                self.console.print(views.section_break(upcoming))

    def paused(self, with_notes: bool) -> None:
        self.show_step(with_notes)
        keys = {
            " ": self._continue,
            "\r": self._continue,
            "\n": self._continue,
            "c": self._continue,
            "b": self._back,
            "r": self.run_demo,
            "n": self.show_notes,
        }
        if self.network is not None:
            keys["t"] = self._toggle_network
        self._with_notes = with_notes
        while True:
            actions = [("space", "continue"), ("b", "back"), ("r", "run again"), ("n", "notes")]
            if self.network is not None:
                actions.append(("t", "network on/off"))
            actions.append(("q", "quit"))
            self.console.print(views.section_timer_line(self.presenter.section_time()))
            self.console.print(views.actions_bar(actions))
            key = wait_for_key().lower()
            if key in ("q", "\x03", "\x04"):  # q, Ctrl-C or Ctrl-D in raw mode
                message("End of the demo.")
                return
            action = keys.get(key)
            if action is None:
                message(f"Unknown key {key!r}.")
            else:
                action()

    def _continue(self) -> None:
        upcoming = self.presenter.next_starts_section()
        if not self.presenter.forward():
            message("That was the last step. Press q to finish, b to go back.")
            return
        if upcoming is not None:
            self.console.print(views.section_break(upcoming))
        self.show_step(self._with_notes)

    def _back(self) -> None:
        if self.presenter.back():
            self.show_step(self._with_notes)
        else:
            message("This is the first step.")

    def _toggle_network(self) -> None:
        assert self.network is not None
        self.network.enabled = not self.network.enabled
        message(f"Simulated network {'on' if self.network.enabled else 'off'}.")
