"""Ctrl-C at a safe point: never inside Python's import machinery, never inside a finalizer.

Python raises ``KeyboardInterrupt`` at the next bytecode boundary of the main thread, wherever
that is. Two places are not safe:

- importlib's own code (``<frozen importlib._bootstrap>``): between taking the import lock
  (or a module's lock) and the ``try`` that gives it back. An interrupt there leaves the lock
  held by the main thread for good, and the next import in any other thread (the server
  spawner's fork, the class relay) waits for ever, so the command hangs while it stops;
- a ``__del__`` (valkey-py's ``Valkey.__del__`` closing its connections): Python prints
  "Exception ignored in ..." and drops the interrupt, so the command goes on as if no Ctrl-C
  had come.

:func:`install` replaces Python's SIGINT handler with one that raises ``KeyboardInterrupt``
as before, except in those two places: there it lets the code run on and delivers the
interrupt again a moment later (each few milliseconds, until the main thread is somewhere
safe). A ``KeyboardInterrupt`` that still reaches a finalizer (a handler installed by other
code, say) is delivered again the same way instead of printed.

Only the standard library: the console script installs this before anything heavy.
"""

from __future__ import annotations

import _thread
import signal
import sys
import threading
import time
from types import FrameType

#: How long a deferred Ctrl-C waits before it is delivered again (it is not a deadline: it
#: repeats until the main thread is somewhere safe).
RETRY_SECONDS = 0.005
#: A SIGINT this soon after a re-delivery, once the interrupt was raised, is that
#: re-delivery's echo (or a second press of a Ctrl-C already under way): not raised again.
ECHO_SECONDS = 0.25
_IMPORTLIB = ("<frozen importlib.", "<frozen zipimport>")
_IMPORTLIB_FILES = ("importlib/_bootstrap.py", "importlib/_bootstrap_external.py")


def _in_import_machinery(frame: FrameType) -> bool:
    filename = frame.f_code.co_filename.replace("\\", "/")
    return filename.startswith(_IMPORTLIB) or filename.endswith(_IMPORTLIB_FILES)


def unsafe_place(frame: FrameType | None) -> bool:
    """Whether a ``KeyboardInterrupt`` raised in ``frame`` (the main thread's innermost
    frame) could leave an import lock held or be swallowed by a finalizer.

    Only importlib's own frame counts, not the module body an import runs: an interrupt in a
    module body unwinds through importlib's ``with`` blocks, which give their locks back."""
    if frame is None:
        return False
    if _in_import_machinery(frame):
        return True
    while frame is not None:
        if frame.f_code.co_name == "__del__":
            return True
        frame = frame.f_back
    return False


class _Deferred:
    """A Ctrl-C held back until the main thread is somewhere safe."""

    pending = False
    #: When the last re-delivery was sent (``time.monotonic``).
    sent = float("-inf")
    sender: threading.Thread | None = None
    #: Set once a held-back Ctrl-C has been raised: every SIGINT after that is a re-delivery
    #: sent before it was raised (or a second press while the command stops), never news.
    raised = False


#: Makes "still pending? then send" in the re-sender one step against the main thread's
#: "no longer pending": without it a re-delivery could leave after the raise.
_sending = threading.Lock()


def _send() -> None:
    main = threading.main_thread().ident
    _Deferred.sent = time.monotonic()
    if hasattr(signal, "pthread_kill") and main is not None:
        # A real signal to the main thread: it also ends a blocking wait there (a lock, a
        # sleep), which a flag alone (_thread.interrupt_main) would leave waiting.
        signal.pthread_kill(main, signal.SIGINT)
    else:  # pragma: no cover - Windows has no pthread_kill
        _thread.interrupt_main()


def _resend_while_pending() -> None:
    # Again and again: one that lands just before the main thread starts a blocking wait
    # wakes nothing, and one that lands somewhere unsafe is held back again.
    while _Deferred.pending:
        time.sleep(RETRY_SECONDS)
        with _sending:
            if _Deferred.pending:
                _send()


def _later() -> None:
    _Deferred.pending = True
    if _Deferred.sender is None or not _Deferred.sender.is_alive():
        _Deferred.sender = threading.Thread(
            target=_resend_while_pending, name="workshop-ctrl-c", daemon=True
        )
        _Deferred.sender.start()


def _on_ctrl_c(_signum: int, frame: FrameType | None) -> None:
    if _Deferred.raised or (
        not _Deferred.pending and time.monotonic() - _Deferred.sent < ECHO_SECONDS
    ):
        # A re-delivery sent as the held-back Ctrl-C was being raised: not a new one. Not
        # judged by the time alone: on a loaded machine one was handled after ECHO_SECONDS,
        # raised a second KeyboardInterrupt while the command stopped its server, and the
        # workshop ended by signal 2 instead of exit code 130.
        return
    if unsafe_place(frame):
        _later()
        return
    with _sending:
        _Deferred.raised = _Deferred.pending
        _Deferred.pending = False
    raise KeyboardInterrupt


def _unraisable(args: sys.UnraisableHookArgs) -> None:
    if isinstance(args.exc_value, KeyboardInterrupt):
        _later()  # a Ctrl-C a finalizer caught: not news to the user, but still a Ctrl-C
        return
    _default_unraisable(args)


_default_unraisable = sys.unraisablehook


def install() -> None:
    """Handle Ctrl-C as described in the module docstring (in the main thread only).

    A SIGINT that is ignored (a job started in the background by a shell) stays ignored."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _on_ctrl_c)
    sys.unraisablehook = _unraisable
