"""A Tab press answered without importing Typer or Click (their import alone costs more than
a bare interpreter start; the goal is a Tab press at most 5x one, benchmarks/tab_press.py).

The shell runs ``workshop`` with ``_WORKSHOP_COMPLETE=complete_bash`` (or ``_zsh``, ``_fish``,
``_powershell``) and the words typed. :func:`answer` follows Click's completion rules
(``shell_completion._resolve_context`` and ``_resolve_incomplete``) over a table of the
commands built from the Typer app (:mod:`valkey_workshop.cli.tabtable`), and prints what
Typer would print, byte for byte (tests/cli/test_tab_fast_path.py compares the two for many
inputs). Whatever it does not model exactly (quotes, ``--opt=value``, an unknown word, a help
text Rich would wrap or restyle) it leaves to Typer: :func:`answer` returns ``None``.

Module ids come from the course roots' folders, step slugs from ``module.toml``; step titles
(the help zsh, fish and PowerShell show) from the content loader, which imports no Typer.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path  # loaded already (valkey_workshop.naming)

#: ``typing`` costs a Tab press 4 ms; mypy reads any ``TYPE_CHECKING`` as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType
    from typing import Any

#: ``content.models.FORMAT_VERSION`` (a test keeps the two the same).
FORMAT_VERSION = 1
#: ``content.loader._SLUG``.
_SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
#: The keys ``module.toml`` and its tables may hold (``content.loader._load_folder``).
_MODULE_KEYS = {"format_version", "title", "summary", "sections", "steps", "owned_keys"}
_SECTION_KEYS = {"id", "title", "minutes", "self_paced"}
_STEP_KEYS = {"number", "slug", "section"}
_SHELLS = ("bash", "zsh", "fish", "powershell")
#: Characters ``shlex`` would read as quoting (then Typer splits the words).
_QUOTING = frozenset("\"'\\")


class _UnsureError(Exception):
    """This input is Typer's to answer (the fast path would not be exactly right)."""


def complete_var(program: str) -> str:
    """The variable Click reads for ``program``: ``_WORKSHOP_COMPLETE``."""
    return f"_{program}_COMPLETE".replace("-", "_").upper()


def answer(program: str, environ: Mapping[str, str]) -> tuple[str | None, int] | None:
    """What to print for this Tab press and the exit code; ``None`` when Typer must answer."""
    instruction = environ.get(complete_var(program), "")
    kind, _, shell = instruction.partition("_")
    if kind != "complete" or shell not in _SHELLS:
        return None
    global _wants_titles  # noqa: PLW0603 - one Tab press per process (a test runs many)
    _wants_titles = shell != "bash"
    try:
        args, incomplete = _words(shell, environ)
        items = _complete(args, incomplete)
        return _format(shell, items, environ)
    except _UnsureError:
        return None
    except Exception:  # noqa: BLE001 - whatever goes wrong here, Typer answers as it always has
        return None


def _split(text: str) -> list[str]:
    """``click.shell_completion.split_arg_string`` for text without quotes or backslashes."""
    if any(c in _QUOTING or (c.isspace() and c not in " \t\r\n") for c in text):
        raise _UnsureError
    return text.split()


def _words(shell: str, environ: Mapping[str, str]) -> tuple[list[str], str]:
    """The words before the one being completed, and that one (as each Typer shell class
    reads them)."""
    if shell == "bash":
        words = _split(environ["COMP_WORDS"])
        cword = int(environ["COMP_CWORD"])
        return words[1:cword], words[cword] if cword < len(words) else ""
    typed = environ.get("_TYPER_COMPLETE_ARGS", "")
    words = _split(typed)
    if shell == "powershell":
        incomplete = environ.get("_TYPER_COMPLETE_WORD_TO_COMPLETE", "")
        return (words[1:-1] if incomplete else words[1:]), incomplete
    args = words[1:]
    if args and not typed.endswith(" "):
        return args[:-1], args[-1]
    return args, ""


class _Parsed:
    """A command's words as Click's resilient parse leaves them: its values by name and
    which came from the command line."""

    def __init__(self) -> None:
        self.values: dict[str, str | None] = {}
        self.given: set[str] = set()


def _table() -> dict[str, dict[str, Any]]:
    from valkey_workshop.cli.tabtable import TABLE  # noqa: PLC0415 - only on a Tab press

    table: dict[str, dict[str, Any]] = TABLE
    return table


def _option(node: dict[str, Any], word: str) -> dict[str, Any]:
    for option in node["options"]:
        if word in option["opts"] or word in option["secondary"]:
            found: dict[str, Any] = option
            return found
    raise _UnsureError  # an unknown option, a bundle of short ones, --opt=value: Typer's


def _parse(node: dict[str, Any], words: list[str]) -> _Parsed:
    """Click's parser over one command's words (options anywhere, then the arguments)."""
    parsed = _Parsed()
    positional: list[str] = []
    index = 0
    complete = True
    while index < len(words):
        word = words[index]
        index += 1
        if word[:1] == "-" and len(word) > 1:
            if word == "--":
                raise _UnsureError
            option = _option(node, word)
            if option["value"]:
                if option["nargs"] != 1:
                    raise _UnsureError
                if index >= len(words):
                    complete = False  # "requires an argument": Click stops, no arguments set
                    break
                parsed.values[option["name"]] = words[index]
                index += 1
            parsed.given.add(option["name"])
        else:
            positional.append(word)
    if complete:
        for argument, value in zip(node["arguments"], positional, strict=False):
            if argument["nargs"] != 1:
                raise _UnsureError
            parsed.values[argument["name"]] = value
            parsed.given.add(argument["name"])
    return parsed


def _complete(args: list[str], incomplete: str) -> list[tuple[str, dict[str, str] | None]]:
    """Click's completion: the items (value, help as each shell shows it) for ``incomplete``."""
    table = _table()
    path = ""
    words = list(args)
    while table[path]["group"]:
        if not words:
            break
        word = words[0]
        if word.startswith("-"):
            raise _UnsureError  # a group's own option (--version runs even on a Tab press)
        names = [name for name, _ in table[path]["commands"]]
        if word not in names:
            raise _UnsureError
        path = f"{path} {word}".strip()
        words = words[1:]
    node = table[path]
    parsed = _parse(node, words) if not node["group"] else _Parsed()
    if incomplete == "=" or ("=" in incomplete and incomplete.startswith("-")):
        raise _UnsureError
    if incomplete.startswith("-"):
        return _command_items(node, parsed, incomplete)
    if args and args[-1].startswith("-"):
        for option in node["options"]:
            if option["value"] and option["nargs"] == 1 and args[-1] in option["opts"]:
                return _values(option["complete"], parsed, incomplete)
    for argument in node["arguments"]:
        if argument["name"] not in parsed.given:
            return _values(argument["complete"], parsed, incomplete)
    return _command_items(node, parsed, incomplete)


def _command_items(
    node: dict[str, Any], parsed: _Parsed, incomplete: str
) -> list[tuple[str, dict[str, str] | None]]:
    """``Group.shell_complete`` and ``Command.shell_complete``: subcommands, then options."""
    items: list[tuple[str, dict[str, str] | None]] = []
    if node["group"]:
        commands = node["commands"]
        items.extend((name, shown) for name, shown in commands if name.startswith(incomplete))
    if incomplete and not incomplete[0].isalnum():
        for option in node["options"]:
            if option["hidden"] or (not option["multiple"] and option["name"] in parsed.given):
                continue
            items.extend(
                (name, option["help"])
                for name in (*option["opts"], *option["secondary"])
                if name.startswith(incomplete)
            )
    return items


def _values(
    completer: Any, parsed: _Parsed, incomplete: str
) -> list[tuple[str, dict[str, str] | None]]:
    if completer is None:
        return []
    if completer == "file":
        return [(incomplete, None)]
    if completer == "module":
        return [(name, None) for name in module_ids() if name.startswith(incomplete)]
    if completer == "step":
        return _steps(parsed.values.get("module"), incomplete)
    _, choices = completer
    return [(choice, None) for choice in choices if choice.startswith(incomplete)]


# --- The course, read cheaply -------------------------------------------------------------


def _entry_point_courses() -> bool:
    """Whether an installed distribution declares a course entry point (then the roots are
    the content loader's to find: loading a package is not for a Tab press)."""
    for folder in sys.path:
        try:
            entries = list(Path(folder or ".").iterdir())
        except OSError:
            continue
        for entry in entries:
            if not entry.name.endswith((".dist-info", ".egg-info")):
                continue
            try:
                text = (entry / "entry_points.txt").read_text(encoding="utf-8")
            except OSError:
                continue
            if "[valkey_workshop.courses]" in text:
                return True
    return False


def _root_folders() -> list[Path]:
    """The course roots that exist, in search order (``content.roots.course_roots``)."""
    roots: list[Path] = []
    override = os.environ.get("WORKSHOP_LABS_DIR", "").strip()
    if override:
        roots.append(Path(override).expanduser())
    else:
        from importlib.util import find_spec  # noqa: PLC0415 - already loaded by site

        spec = find_spec("valkey_workshop._labs")
        locations = list(spec.submodule_search_locations or []) if spec else []
        if len(locations) != 1:
            raise _UnsureError
        roots.append(Path(locations[0]))
    for entry in os.environ.get("WORKSHOP_COURSE_PATH", "").split(os.pathsep):
        if entry.strip():
            roots.append(Path(entry.strip()).expanduser())
    if _entry_point_courses():
        raise _UnsureError
    resolved = [root.resolve() for root in roots]
    return [root for root in resolved if root.is_dir() and not (root / "module.toml").is_file()]


def _places() -> list[tuple[str, Path]]:
    """(module id, folder) for every module on the roots, as ``content.roots.survey``."""
    places: list[tuple[str, Path]] = []
    for root in _root_folders():
        seen = {folder.resolve() for _, folder in places}
        places.extend(
            (child.name, child)
            for child in sorted(root.iterdir())
            if (child / "module.toml").is_file() and child.resolve() not in seen
        )
    return places


def module_ids() -> list[str]:
    """Module ids on the course roots, sorted, each once."""
    return sorted({name for name, _ in _places()})


def _steps(module_id: str | None, incomplete: str) -> list[tuple[str, dict[str, str] | None]]:
    """``completion.complete_step``: slugs and two-digit numbers of the module's steps."""
    places = _places()
    ids = [module_id] if module_id else sorted({name for name, _ in places})
    items: dict[str, str] = {}
    for name in ids:
        folders = [folder for place, folder in places if place == name]
        if len(folders) != 1:
            continue
        for number, slug, title in _module_steps(folders[0]):
            for value in (slug, f"{number:02d}"):
                if value.startswith(incomplete):
                    items.setdefault(value, title)
    return [(value, _plain(title)) for value, title in items.items()]


def _module_steps(folder: Path) -> list[tuple[int, str, str]]:
    """(number, slug, title) of each step, or none when the module does not load; the titles
    (shown by zsh, fish and PowerShell) are left empty until a shell asks for them."""
    if _wants_titles:
        return _loaded_steps(folder)
    import tomllib  # noqa: PLC0415 - only on a Tab press that completes a step

    try:
        with (folder / "module.toml").open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError):
        return []
    steps = _valid_manifest(data)
    if steps is None:
        return _loaded_steps(folder)  # the loader decides (and says nothing on a Tab press)
    return [(number, slug, "") for number, slug in steps]


def _valid_manifest(  # noqa: PLR0911, PLR0912 - one test per rule of the loader it mirrors
    data: dict[str, Any],
) -> list[tuple[int, str]] | None:
    """The (number, slug) of the steps when ``content.loader`` would load this manifest
    without a module-wide error; ``None`` when unsure (then the loader decides)."""

    def exact(value: object, kind: type) -> bool:
        return type(value) is kind

    if set(data) - _MODULE_KEYS:
        return None
    owned = data.get("owned_keys", [])
    if not exact(owned, list) or not all(exact(p, str) for p in owned):
        return None
    if any(_key_patterns().pattern_problem(pattern) for pattern in owned):
        return None
    version = data.get("format_version")
    if not exact(version, int) or not 1 <= version <= FORMAT_VERSION:  # type: ignore[operator]
        return None
    if not exact(data.get("title"), str) or not exact(data.get("summary"), str):
        return None
    sections, steps = data.get("sections"), data.get("steps")
    if not isinstance(sections, list) or not isinstance(steps, list) or not steps:
        return None
    if not exact(sections, list) or not exact(steps, list):
        return None
    ids = []
    for section in sections:
        if not exact(section, dict) or set(section) - _SECTION_KEYS:
            return None
        minutes = section.get("minutes")
        if not (exact(section.get("id"), str) and exact(section.get("title"), str)):
            return None
        if not exact(minutes, int) or minutes <= 0:
            return None
        if "self_paced" in section and not exact(section["self_paced"], bool):
            return None
        ids.append(section["id"])
    if len(set(ids)) != len(ids):
        return None
    found = []
    for index, step in enumerate(steps, 1):
        if not exact(step, dict) or set(step) != _STEP_KEYS:
            return None
        number, slug, section_id = step["number"], step["slug"], step["section"]
        if not exact(number, int) or number != index or not exact(slug, str):
            return None
        if not re.match(_SLUG, slug) or section_id not in ids or not exact(section_id, str):
            return None
        found.append((number, slug))
    if len({slug for _, slug in found}) != len(found):
        return None
    return found


def _key_patterns() -> ModuleType:
    """``content.keypatterns`` loaded on its own: importing it through its package would load
    the whole content loader (``content/__init__.py``), the cost this module avoids."""
    from importlib.util import module_from_spec, spec_from_file_location  # noqa: PLC0415

    source = Path(__file__).resolve().parents[1] / "content" / "keypatterns.py"
    spec = spec_from_file_location("valkey_workshop.cli._tab_keypatterns", source)
    if spec is None or spec.loader is None:
        raise _UnsureError
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _loaded_steps(folder: Path) -> list[tuple[int, str, str]]:
    """The steps as the content loader reads them (every check of ``content.loader``)."""
    from valkey_workshop.content.loader import load_module  # noqa: PLC0415
    from valkey_workshop.errors import WorkshopError  # noqa: PLC0415

    try:
        module = load_module(folder.name, root=folder.parent, compile_checks=False)
    except WorkshopError:
        return []
    return [(step.number, step.slug, step.title) for step in module.steps]


#: Whether the shell shows help texts (so a step's title is needed); set by :func:`answer`.
_wants_titles = False


# --- What each shell is given -------------------------------------------------------------


def _plain(text: str) -> dict[str, str] | None:
    """A step's title as each shell shows it, when Rich would leave it as it is (no markup,
    no emoji code, nothing to expand); else Typer answers."""
    if not _wants_titles or not text:
        return None
    if "[" in text or text.count(":") > 1 or not text.isascii() or not text.isprintable():
        raise _UnsureError
    return {
        "zsh": _zsh_escape(text),
        "fish": re.sub(r"\s", " ", text),
        "powershell": text,
    }


def _zsh_escape(value: str) -> str:
    """``ZshComplete.format_completion``'s escaping."""
    return (
        value.replace('"', '""')
        .replace("'", "''")
        .replace("$", "\\$")
        .replace("`", "\\`")
        .replace(":", r"\\:")
    )


def _narrowest(environ: Mapping[str, str]) -> int:
    """The width Rich wraps a help text at in this process (``rich.console.Console.size``):
    ``$COLUMNS``, else the first terminal of stdin, stdout and stderr, else 80; 80 at most on
    a dumb terminal. One column less, as on Windows' legacy console."""
    columns = environ.get("COLUMNS", "")
    if columns.isdigit():
        width = int(columns)
    else:
        width = 0
        for descriptor in (0, 1, 2):
            try:
                width = os.get_terminal_size(descriptor).columns
            except (OSError, ValueError):
                continue
            break
        width = width or 80
    if environ.get("TERM", "").lower() in ("dumb", "unknown"):
        width = min(width, 80)
    return width - 1


def _format(  # noqa: PLR0911 - one answer per shell and fish action, as Typer's classes
    shell: str, items: list[tuple[str, dict[str, str] | None]], environ: Mapping[str, str]
) -> tuple[str | None, int]:
    if shell == "bash":
        return "\n".join(value for value, _ in items), 0
    width = _narrowest(environ)
    for _, shown in items:
        if shown is not None and len(shown[shell]) >= width:
            raise _UnsureError  # Rich would wrap it
    if shell == "zsh":
        lines = [
            f'"{_zsh_escape(value)}":"{shown["zsh"]}"' if shown else f'"{_zsh_escape(value)}"'
            for value, shown in items
        ]
        if not lines:
            return "_files", 0
        joined = "\n".join(lines)
        return f"_arguments '*: :(({joined}))'", 0
    if shell == "fish":
        lines = [f"{value}\t{shown['fish']}" if shown else value for value, shown in items]
        action = environ.get("_TYPER_COMPLETE_FISH_ACTION", "")
        if action == "get-args" and lines:
            return "\n".join(lines), 0
        if action == "is-args":
            return None, 0 if lines else 1
        return "", 0
    lines = [f"{value}:::{shown['powershell'] if shown else ' '}" for value, shown in items]
    return "\n".join(lines), 0


def run(program: str) -> bool:
    """Answer a Tab press here when this process is one; ``False`` when it is not, or Typer
    must answer it."""
    if complete_var(program) not in os.environ:
        return False
    result = answer(program, os.environ)
    if result is None:
        return False
    text, code = result
    if text is not None:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    raise SystemExit(code)
