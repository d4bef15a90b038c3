"""The ``workshop`` console script, before anything heavy is imported.

Two things must hold from the first line of ours that runs: Ctrl-C is one line and exit code
130 (never a traceback from the middle of an import), and a console that cannot show "✓"
(``PYTHONIOENCODING=ascii``, an old Windows code page) gets ASCII stand-ins rather than a
``UnicodeEncodeError``. Only the standard library is imported here, and only inside
:func:`main` (its ``try`` is the first thing that runs): even ``import signal`` takes long
enough for a Ctrl-C to land in it.
"""

from __future__ import annotations

import sys

#: Stand-ins for the symbols the tool prints, on a console that cannot show them.
_ASCII = {
    "✓": "+",
    "✗": "x",
    "…": "...",
    "·": "-",
    "—": "--",
    "\u2013": "-",
    "µ": "u",
    "→": "->",
    "←": "<-",
    "“": '"',
    "”": '"',
    "\u2018": "'",
    "\u2019": "'",
    "»": ">>",
    "«": "<<",
    "\u00d7": "x",
    "≈": "~",
    "≤": "<=",
    "≥": ">=",
    "█": "#",
    "▏": "|",
    "•": "*",
    "⏱": "",
    "\u00a0": " ",
}
ERRORS = "workshop-ascii"


def _stand_in(character: str) -> str:
    import unicodedata  # noqa: PLC0415 - see the module docstring

    if character in _ASCII:
        return _ASCII[character]
    plain = unicodedata.normalize("NFKD", character).encode("ascii", "ignore").decode()
    return plain or "?"


def _ascii_fallback(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    text = error.object[error.start : error.end]
    return "".join(_stand_in(character) for character in text), error.end


def use_ascii_fallback() -> None:
    """Let stdout and stderr replace what their encoding cannot show (only then)."""
    import codecs  # noqa: PLC0415 - see the module docstring

    codecs.register_error(ERRORS, _ascii_fallback)
    for stream in (sys.stdout, sys.stderr):
        encoding = getattr(stream, "encoding", None) or "utf-8"
        try:
            "✓✗µ…".encode(encoding)
        except UnicodeEncodeError:
            reconfigure = getattr(stream, "reconfigure", None)
            if reconfigure is not None:
                reconfigure(errors=ERRORS)
        except LookupError:
            continue


def main() -> None:
    """Entry point of the ``workshop`` console script."""
    try:
        from valkey_workshop.cli import interrupts  # noqa: PLC0415 - see the module docstring

        interrupts.install()  # Ctrl-C at safe points only: never inside an import's locks
        use_ascii_fallback()
        from valkey_workshop import naming  # noqa: PLC0415 - see the module docstring

        # Help and messages name the command that runs (a course's own wrapper command too).
        naming.set_program(sys.argv[0])
        from valkey_workshop.cli import tab  # noqa: PLC0415

        tab.run(naming.program())  # a Tab press ends here, without Typer, when it can
        from valkey_workshop.cli.app import main as run_app  # noqa: PLC0415

        run_app()
    except KeyboardInterrupt:
        _interrupted()
    finally:
        # The command is over; a Ctrl-C while the interpreter shuts down ends it quietly
        # (the default action) instead of printing "Exception ignored in ...".
        _default_interrupt()


def _interrupted() -> None:
    import signal  # noqa: PLC0415 - see the module docstring

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not interrupt this
    from valkey_workshop.cli.stopping import stopping  # noqa: PLC0415

    stopping()
    sys.stderr.write("Interrupted.\n")
    sys.stderr.flush()
    raise SystemExit(130) from None


def _default_interrupt() -> None:
    if "signal" in sys.modules:  # not when Ctrl-C came before it was imported
        signal = sys.modules["signal"]
        signal.signal(signal.SIGINT, signal.SIG_DFL)
