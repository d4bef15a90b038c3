"""Presenter state, the section timer, trainer notes and --rtt parsing."""

from __future__ import annotations

import pytest

from valkey_workshop.content import Module
from valkey_workshop.content.notes import load_notes
from valkey_workshop.errors import UsageError
from valkey_workshop.server.latency_proxy import parse_rtt
from valkey_workshop.session.presenter import Presenter, SectionTimer


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_timer_counts_only_the_section_on_screen() -> None:
    clock = FakeClock()
    timer = SectionTimer(clock)
    timer.enter("a")
    clock.now = 60
    timer.enter("b")
    clock.now = 90
    timer.enter("a")
    clock.now = 100
    assert timer.elapsed("a") == 70
    assert timer.elapsed("b") == 30


def test_presenter_moves_and_warns_when_a_section_runs_over(module3: Module) -> None:
    clock = FakeClock()
    presenter = Presenter(module3, module3.steps, clock)
    assert presenter.step.slug == "bottleneck"
    assert presenter.back() is False
    clock.now = 9 * 60  # the fundamentals section is planned for 8 minutes
    time = presenter.section_time()
    assert time.over and time.over_seconds == 60
    upcoming = presenter.next_starts_section()
    assert upcoming is not None and upcoming.id == "strategies"
    assert presenter.forward() and presenter.step.slug == "cache-aside"
    assert presenter.section_time().elapsed_seconds == 0
    assert presenter.back() and presenter.step.slug == "bottleneck"
    assert presenter.section_time().elapsed_seconds == 9 * 60


def test_sections_follow_step_order(module3: Module) -> None:
    order = [step.section for step in module3.steps]
    seen: list[str] = []
    for section in order:
        if not seen or seen[-1] != section:
            assert section not in seen, f"section {section} comes back: {order}"
            seen.append(section)
    assert seen == [section.id for section in module3.sections]


def test_every_step_has_trainer_notes(module3: Module) -> None:
    notes = load_notes("module3")
    assert "Timing plan" in notes.plan
    for step in module3.steps:
        text = notes.for_step(step.number)
        assert text is not None and text.startswith(f"## Step {step.number:02d} · {step.slug}")


@pytest.mark.parametrize(
    ("text", "seconds"), [("1ms", 0.001), ("500us", 0.0005), ("0.002s", 0.002), ("2", 0.002)]
)
def test_rtt_parses_common_units(text: str, seconds: float) -> None:
    assert parse_rtt(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["fast", "-1ms", "5s"])
def test_bad_rtt_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError):
        parse_rtt(text)


def test_a_self_paced_step_is_timed_but_never_over(module3: Module) -> None:
    from valkey_workshop.render import views  # noqa: PLC0415 - only this test renders
    from valkey_workshop.render.console import render_text  # noqa: PLC0415

    clock = FakeClock()
    presenter = Presenter(module3, module3.steps, clock)
    while presenter.step.slug != "write-patterns":
        presenter.forward()
    upcoming = presenter.next_starts_section()
    assert upcoming is not None and upcoming.self_paced
    assert "Failure modes in production (self-paced, not timed)" in render_text(
        views.section_break(upcoming), 80
    )
    presenter.forward()
    assert presenter.step.slug == "failure-modes" and presenter.at_end
    clock.now = 3 * 60 * 60  # far past its 25-minute guide
    time = presenter.section_time()
    assert time.elapsed_seconds == 3 * 60 * 60
    assert not time.over
    line = render_text(views.section_timer_line(time), 80)
    assert "180:00 in this self-paced section (not in the timed plan)" in line
    assert "over" not in line
    header = render_text(views.step_header(module3, presenter.step), 80)
    assert "Step 09/09" in header and "self-paced, about 25 min" in header
