"""A Tab press answered without Typer (valkey_workshop.cli.tab) prints what Typer prints, for
every shell and many command lines, and its table of commands is the Typer app's."""

from __future__ import annotations

import io
import os
import shutil
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from valkey_workshop.cli import tab, tabbuild
from valkey_workshop.cli.app import app
from valkey_workshop.cli.tabtable import TABLE
from valkey_workshop.content import models


def test_the_table_is_the_typer_apps() -> None:
    """Adding a command, an option or a choice without `python -m valkey_workshop.cli.tabbuild`
    fails here."""
    assert tabbuild.build_table() == TABLE


def test_the_table_file_is_what_the_builder_writes() -> None:
    assert tabbuild.TABLE_FILE.read_text(encoding="utf-8") == tabbuild.table_source()


def test_the_format_version_is_the_loaders() -> None:
    assert tab.FORMAT_VERSION == models.FORMAT_VERSION


def _lines() -> list[str]:
    """Command lines up to the Tab press (the last word is the one being completed)."""
    lines = ["", "c", "cl", "-", "--", "--v", "class ", "class s", "class -", "new ", "new s"]
    lines += ["nosuch ", "check module3 'cache", "check --backend=", "check module3 -- "]
    lines += ["check -j4 ", "--version ", "check module3 --json --json ", "check module3 -y "]
    #: Commands whose step completion is compared (each compare loads the module twice).
    stepped = {"check", "notes", "start", "hint", "class serve"}
    for path, node in TABLE.items():
        if not path or node["group"]:
            continue
        lines += [f"{path} ", f"{path} -", f"{path} --j", f"{path} module3 --json "]
        if path in stepped:
            lines += [f"{path} module3 ", f"{path} module3 c", f"{path} module3 02 -"]
            lines += [f"{path} mod", f"{path} nosuch ", f"{path} module3 --workdir x --"]
        for option in node["options"]:
            if not option["value"]:
                continue
            name = option["opts"][0]
            lines += [f"{path} {name} ", f"{path} {name} x -"]
            if isinstance(option["complete"], list):
                first = option["complete"][1][0]
                lines += [f"{path} {name} {first[:1]}", f"{path} {name} {first} -"]
    lines += ["start --step ", "start module3 --step c", "watch --step 0", "notes module3 "]
    lines += ["check --backend docker module3 cache", "check module3 --backend url 02 "]
    return lines


def _environ(shell: str, line: str, fish_action: str = "get-args") -> dict[str, str]:
    typed = f"workshop {line}"
    env = {"_WORKSHOP_COMPLETE": f"complete_{shell}"}
    if shell == "bash":
        words = typed.split(" ")
        env |= {"COMP_WORDS": typed, "COMP_CWORD": str(len(words) - 1)}
    elif shell == "powershell":
        env |= {"_TYPER_COMPLETE_ARGS": typed.strip(), "_TYPER_COMPLETE_WORD_TO_COMPLETE": ""}
        if not typed.endswith(" "):
            env["_TYPER_COMPLETE_WORD_TO_COMPLETE"] = typed.rsplit(" ", maxsplit=1)[-1]
    else:
        env |= {"_TYPER_COMPLETE_ARGS": typed, "_TYPER_COMPLETE_FISH_ACTION": fish_action}
    return env


def _typers_answer(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> tuple[str, int]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    out = io.StringIO()
    with redirect_stdout(out), pytest.raises(SystemExit) as exited:
        app(prog_name="workshop")
    return out.getvalue(), int(exited.value.code or 0)


@pytest.mark.parametrize(
    ("shell", "fish_action"),
    [("bash", ""), ("zsh", ""), ("fish", "get-args"), ("fish", "is-args"), ("powershell", "")],
)
def test_the_fast_answer_is_typers_for_many_command_lines(
    monkeypatch: pytest.MonkeyPatch, shell: str, fish_action: str
) -> None:
    answered = 0
    for line in _lines():
        env = _environ(shell, line, fish_action)
        with monkeypatch.context() as patch:
            expected = _typers_answer(patch, env)
            for name, value in env.items():
                patch.setenv(name, value)
            fast = tab.answer("workshop", os.environ)
        if fast is None:
            continue
        answered += 1
        text, code = fast
        assert (("" if text is None else text + "\n"), code) == expected, (shell, line)
    # Most lines are the fast path's; the rest are Typer's: quotes, --opt=value, an unknown
    # option or word, a help text Rich wraps at the width (COLUMNS=100 in tests).
    assert answered > 0.75 * len(_lines())


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish", "powershell"])
@pytest.mark.parametrize(
    "line",
    [
        "",
        "check module3 cache",
        "notes module3 ",
        "check --backend ",
        "pack ./p --platform ",
        "pack ./p --python 3.1",
        "check --docker-network ",
        "class serve --module ",
        "class serve --backend ",
        "check module3 --j",
        "start module3 --step ",
    ],
)
def test_the_common_tab_presses_take_the_fast_path(shell: str, line: str) -> None:
    assert tab.answer("workshop", {**os.environ, **_environ(shell, line)}) is not None


def test_a_course_path_with_broken_modules_completes_as_typer_does(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Module-wide errors (no steps), a broken step (its title says why) and owned_keys the
    loader refuses, on WORKSHOP_COURSE_PATH: the fast answer is Typer's, or Typer answers."""
    course = tmp_path / "course"
    bundled = Path(models.__file__).resolve().parents[2] / "labs" / "module3"
    for name in ("good", "badkey", "brokenstep", "badowned"):
        shutil.copytree(bundled, course / name, ignore=shutil.ignore_patterns("__pycache__"))
    manifest = course / "badkey" / "module.toml"
    manifest.write_text(manifest.read_text() + "\nsurprise = 1\n")
    (course / "brokenstep" / "02_cache_aside" / "checks.py").write_text("def (:\n")
    owned = course / "badowned" / "module.toml"
    owned.write_text(owned.read_text().replace('"product:write-queue"', '"*:everything"'))
    monkeypatch.setenv("WORKSHOP_COURSE_PATH", str(course))
    lines = ["check ", "check b", "notes badkey ", "check brokenstep ", "check brokenstep c"]
    lines += ["notes badowned ", "start good 0", "start --step cache"]
    answered = 0
    for shell in ("bash", "zsh"):
        for line in lines:
            env = _environ(shell, line)
            with monkeypatch.context() as patch:
                expected = _typers_answer(patch, env)
                for name, value in env.items():
                    patch.setenv(name, value)
                fast = tab.answer("workshop", os.environ)
            if fast is not None:
                answered += 1
                assert (fast[0] or "") + "\n" == expected[0], (shell, line)
    assert answered >= len(lines)  # bash at least answers every one
