"""The guided session's lines name only keys its key bar shows."""

from __future__ import annotations

from valkey_workshop.interactive.guided import CHECK, HINT, NEXT, QUIT, SOLUTION, passed_line


def test_the_passed_line_names_n_only_when_the_key_bar_has_it() -> None:
    with_next = passed_line([CHECK, HINT, SOLUTION, NEXT, QUIT])
    assert with_next == "Step passed. Press n for the next step, or s to compare with the solution."
    # The last unfinished step (watch showed "Press n" while its bar listed c h s q).
    last = passed_line([CHECK, HINT, SOLUTION, QUIT])
    assert "Press n" not in last
    assert last == (
        "Step passed. Every other step is passed or skipped. Press s to compare with the solution."
    )
