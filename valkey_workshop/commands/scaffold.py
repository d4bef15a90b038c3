"""``workshop new module`` and ``workshop new step``: content that verifies green at once.

A new step is a small, complete exercise (a visit counter on INCR) with every file the lab
format asks for: a lesson with a live placeholder, a demo, a starter that fails its checks,
a solution that passes them, one known-wrong answer its declared check rejects, and checks
whose comments explain the check API. An author replaces the exercise and keeps the shape.
Nothing is overwritten: a folder or step that exists already is an error naming it.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from string import Template

from valkey_workshop import naming
from valkey_workshop.content.loader import find_module
from valkey_workshop.content.models import FORMAT_VERSION
from valkey_workshop.content.roots import COURSE_PATH_ENV, LABS_DIR_ENV
from valkey_workshop.errors import UsageError

_MODULE_ID = re.compile(r"^[a-z][a-z0-9_-]*$")
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Scaffolded:
    """What ``new`` wrote: the module's folder and every file created, in order."""

    module_id: str
    folder: Path
    step_label: str
    created: tuple[Path, ...]


def new_module(
    module_id: str, title: str | None = None, directory: Path | None = None
) -> Scaffolded:
    """Create ``DIR/ID/`` with ``module.toml``, trainer notes and a first step.

    Raises:
        UsageError: the id is not a folder-safe name, or ``DIR/ID`` exists already.
    """
    if not _MODULE_ID.match(module_id):
        raise UsageError(
            f"Module id {module_id!r} should be lowercase letters, digits, '-' or '_', "
            "starting with a letter (like module4)."
        )
    base = (directory or Path.cwd()).expanduser()
    folder = base / module_id
    if folder.exists():
        raise UsageError(f"{folder} exists already; pick another id or --dir (nothing written).")
    shown_title = title or module_id.replace("-", " ").replace("_", " ").capitalize()
    slug = "first-step"
    created = [
        _write(
            folder / "module.toml",
            _MODULE_TOML.substitute(
                version=FORMAT_VERSION,
                title=_toml_text(shown_title),
                slug=slug,
                module=module_id,
            ),
        ),
        _write(folder / "trainer-notes.md", _NOTES.substitute(title=shown_title)),
    ]
    created += _step_files(folder, module_id, 1, slug)
    notes = folder / "trainer-notes.md"
    notes.write_text(notes.read_text(encoding="utf-8") + _step_notes(1, slug), encoding="utf-8")
    return Scaffolded(module_id, folder.resolve(), f"01 {slug}", tuple(created))


def new_step(module_id: str, slug: str, directory: Path | None = None) -> Scaffolded:
    """Add step ``NN_slug`` (the next number) to ``DIR/MODULE``, or to a module found on a
    course root an author named (``WORKSHOP_COURSE_PATH``, ``WORKSHOP_LABS_DIR``): never to the
    bundled course or an installed package.

    Raises:
        UsageError: the slug is malformed or taken, the module cannot be found, or it is
            bundled or installed.
        ContentError: two course roots hold a module of this id.
    """
    if not _SLUG.match(slug):
        raise UsageError(f"Step slug {slug!r} should look like 'fixed-window' (a-z, 0-9, '-').")
    if directory is not None:
        folder = directory.expanduser().resolve() / module_id
        if not (folder / "module.toml").is_file():
            raise UsageError(f"{folder} has no module.toml: no module {module_id!r} there.")
    else:
        place = find_module(module_id)
        if not place.root.authored or _installed(place.folder):
            raise UsageError(
                f"{module_id} is in {place.where}: new step writes only to modules on "
                f"{COURSE_PATH_ENV} or {LABS_DIR_ENV} folders, or under --dir DIR; copy the "
                "module to a folder of your own first (nothing written)."
            )
        folder = place.folder
    manifest = folder / "module.toml"
    text = manifest.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"{manifest}: not valid TOML ({error}); fix it first.") from None
    steps = data.get("steps", [])
    sections = data.get("sections", [])
    if any(isinstance(step, dict) and step.get("slug") == slug for step in steps):
        raise UsageError(f"{manifest} has a step {slug!r} already (nothing written).")
    if not sections or not isinstance(sections[-1], dict) or "id" not in sections[-1]:
        raise UsageError(f"{manifest} has no [[sections]] to put the step in; add one first.")
    number = len(steps) + 1
    step_folder = folder / f"{number:02d}_{slug.replace('-', '_')}"
    if step_folder.exists():
        raise UsageError(f"{step_folder} exists already (nothing written).")
    created = _step_files(folder, module_id, number, slug)
    entry = f'\n[[steps]]\nnumber = {number}\nslug = "{slug}"\nsection = "{sections[-1]["id"]}"\n'
    manifest.write_text(text.rstrip("\n") + "\n" + entry, encoding="utf-8")
    notes = folder / "trainer-notes.md"
    changed = [manifest]
    if notes.is_file():
        notes.write_text(
            notes.read_text(encoding="utf-8").rstrip("\n") + "\n\n" + _step_notes(number, slug),
            encoding="utf-8",
        )
        changed.append(notes)
    return Scaffolded(module_id, folder, f"{number:02d} {slug}", (*changed, *created))


def _installed(folder: Path) -> bool:
    """True for a folder inside an installed package (site-packages, dist-packages)."""
    return any(part in {"site-packages", "dist-packages"} for part in folder.resolve().parts)


def _step_files(module_folder: Path, module_id: str, number: int, slug: str) -> list[Path]:
    folder = module_folder / f"{number:02d}_{slug.replace('-', '_')}"
    values = {
        "module": module_id,
        "slug": slug,
        "number": f"{number:02d}",
        "prefix": f"workshop:{module_id}:{slug}:",
        "program": naming.program(),
    }
    files = [
        ("step.toml", _STEP_TOML),
        ("lesson.md", _LESSON),
        ("demo.py", _DEMO),
        ("starter.py", _STARTER),
        ("solution.py", _SOLUTION),
        ("checks.py", _CHECKS),
        ("wrong/get_then_set.py", _WRONG),
        ("accepted/execute_command.py", _ACCEPTED),
    ]
    return [_write(folder / name, template.substitute(values)) for name, template in files]


def _step_notes(number: int, slug: str) -> str:
    return (
        f"## Step {number:02d} · {slug}\n\n"
        "- What to say before the learners start, and where they get stuck.\n"
        "- Where to pause for questions.\n"
    )


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="utf-8") as handle:  # "x": never overwrite an author's file
        handle.write(text)
    return path


def _toml_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


_MODULE_TOML = Template("""\
# The lab format: docs/authoring.md ("module.toml"); unknown keys are errors.
format_version = $version
title = "$title"
summary = "One paragraph for the banner and `workshop list`."

# The timing plan, in teaching order (minutes per section).
[[sections]]
id = "lab"
title = "Lab"
minutes = 10

# Steps in order, numbered from 1; each lives in the folder NN_slug ('-' becomes '_').
# `workshop new step $module SLUG` adds one.
[[steps]]
number = 1
slug = "$slug"
section = "lab"
""")

_NOTES = Template("""\
# $title: trainer notes

The plan for the trainer: timing, what to set up before the room arrives. Everything above
the first "## Step" heading is the plan (`workshop notes MODULE`); each step's section is
shown beside its lesson in `workshop demo`.

---

""")

_STEP_TOML = Template("""\
# Step $number · $slug. The format: docs/authoring.md ("step.toml").
title = "Count visits"
hints = [
    "A counter is one key per page; `client.incr(key)` adds one and returns the new value.",
    "GET then SET is two round trips: two visitors can both read 4 and write 5. INCR is one.",
]

# Known-wrong answers: `workshop verify` proves each is rejected by the check `fails` names,
# with a message containing `says`.
[[wrong_answers]]
file = "wrong/get_then_set.py"
about = "GET, then SET of the value plus one"
fails = "one-round-trip"
says = "round trips"

# Right answers in other styles: `workshop verify` proves the checks accept them.
[[accepted_answers]]
file = "accepted/execute_command.py"
about = "a raw execute_command('INCR', ...)"
""")

_LESSON = Template("""\
# Count visits

A counter in Valkey is a string holding an integer. `INCR key` adds one and returns the new
value in one round trip, atomically: two clients counting at once never lose a visit.

This lesson is running against {{server:name}}. Placeholders like that one are filled from
the live server when the lesson is shown (docs/authoring.md, "Lesson placeholders").

## One command, not two

Reading the value and writing it back plus one takes two round trips, and another client
can change the key in between.
""")

_DEMO = Template('''\
"""Demo $number: INCR on the live server (docs/authoring.md, "The demo API")."""

KEY = "${prefix}demo"


def run(demo):
    # demo.client is timed and shown; demo.tidy() removes keys without showing the calls.
    demo.tidy(KEY)
    demo.heading("1. INCR counts in one command")
    demo.show("INCR on a missing key answered", demo.client.incr(KEY))
    demo.show("INCR again answered", demo.client.incr(KEY))
    demo.say("The key did not exist: INCR started it at 0, then added one.")
    demo.tidy(KEY)
''')

_STARTER = Template('''\
"""Step $number · $slug

`client` is a valkey-py client (decode_responses=True).

Check your work with:  $program check $module $slug
"""

KEY_PREFIX = "${prefix}visits:"


def count_visit(client, page: str) -> int:
    """Count one visit of `page` and return how many visits it has had, atomically."""
    # TODO: one command that adds one to the key KEY_PREFIX + page.
    raise NotImplementedError
''')

_SOLUTION = Template('''\
"""Step $number · $slug: reference solution."""

KEY_PREFIX = "${prefix}visits:"


def count_visit(client, page: str) -> int:
    """Count one visit of `page` and return how many visits it has had, atomically."""
    return client.incr(KEY_PREFIX + page)
''')

_WRONG = Template('''\
"""Known-wrong: reads the count and writes it back plus one (two round trips, racy)."""

KEY_PREFIX = "${prefix}visits:"


def count_visit(client, page: str) -> int:
    count = int(client.get(KEY_PREFIX + page) or 0) + 1
    client.set(KEY_PREFIX + page, count)
    return count
''')

_ACCEPTED = Template('''\
"""Accepted: the raw command instead of the client's method."""

KEY_PREFIX = "${prefix}visits:"


def count_visit(client, page: str) -> int:
    return int(client.execute_command("INCR", KEY_PREFIX + page))
''')

_CHECKS = Template('''\
"""Checks for step $number ($slug). The check API: docs/authoring.md ("The check API").

A check is a function taking a CheckContext, marked with @check(id, name, hint=N). It passes
by returning and fails with ctx.fail(message) or ctx.require(condition, message): say what
was seen, what was expected and why it matters. Checks run in definition order, in a process
of their own, against the live server; `wrong_answers` in step.toml name a check by its id.

What a CheckContext offers:
- ctx.call(name, *args): call the learner's function; what it raises becomes a clear failure
  (NotImplementedError reads "not written yet").
- ctx.setting(name): a module-level constant of the learner's file.
- ctx.client: the learner's client (timed, decode_responses=True); hand it to their code.
- ctx.server: the check's own client, for looking at the server (its calls are not logged).
- ctx.use_keys(*keys): start with these keys absent; they are deleted when the checks end.
- ctx.learner_calls(): the round trips the learner's client made since this check began,
  as CallRecord objects (.command, .args with the command first, .reply). They carry what
  valkey-py sends, which is not always the method's name: client.incr(k) is sent as
  INCRBY k 1, client.setex(k, s, v) as SETEX, client.set(k, v, ex=s) as SET k v EX s.
"""

from valkey_workshop.checking.api import CheckContext, check

KEY_PREFIX = "${prefix}visits:"


@check("counts-visits", "count_visit() counts each visit and returns the new count", hint=1)
def counts_visits(ctx: CheckContext) -> None:
    key = KEY_PREFIX + "home"
    ctx.use_keys(key)
    first = ctx.call("count_visit", ctx.client, "home")
    second = ctx.call("count_visit", ctx.client, "home")
    if (first, second) != (1, 2):
        ctx.fail(f"Two visits of 'home' returned {first!r} and {second!r}; expected 1, then 2.")
    stored = ctx.server.get(key)
    ctx.require(stored == "2", f"{key} holds {stored!r} after two visits; expected '2'.")


@check("one-round-trip", "A visit is one atomic command", hint=2)
def one_round_trip(ctx: CheckContext) -> None:
    ctx.use_keys(KEY_PREFIX + "about")
    ctx.call("count_visit", ctx.client, "about")
    sent = [call.command for call in ctx.learner_calls()]
    if len(sent) != 1:
        ctx.fail(
            f"One visit took {len(sent)} round trips ({', '.join(sent)}): another visitor can "
            "count in between and a visit is lost. INCR reads and adds in one command."
        )
''')
