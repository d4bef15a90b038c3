"""Modules from every course root: the bundled course, WORKSHOP_COURSE_PATH folders and
installed course packages (entry points), with one clear line for each kind of bad input."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from valkey_workshop import naming
from valkey_workshop.cli.app import app
from valkey_workshop.commands import doctor
from valkey_workshop.content import load_module
from valkey_workshop.content.loader import available_modules, find_module, module_entries
from valkey_workshop.content.notes import load_notes
from valkey_workshop.content.roots import bundled_root, course_roots, survey
from valkey_workshop.errors import ContentError, UsageError
from valkey_workshop.render.views import proofs_held

runner = CliRunner()


def course_folder(tmp_path: Path, name: str, *modules: str) -> Path:
    """A folder of modules, each a copy of module3 (format_version 1, as shipped)."""
    folder = tmp_path / name
    for module in modules:
        shutil.copytree(bundled_root() / "module3", folder / module)
    return folder


@pytest.fixture(autouse=True)
def _no_fake_course_imported_before(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test's ``fakecourse`` is its own: an earlier test's, imported from another temp
    folder, would stay in ``sys.modules`` and answer the entry point with that folder."""
    for name in [name for name in sys.modules if name.split(".")[0] == "fakecourse"]:
        monkeypatch.delitem(sys.modules, name)
    importlib.invalidate_caches()


def fake_package(tmp_path: Path, entry_value: str, *modules: str) -> Path:
    """An installed course package on sys.path: dist-info with an entry point, and a package
    ``fakecourse`` whose folder holds ``modules``."""
    site = tmp_path / "site"
    dist = site / "fakecourse-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: fakecourse\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[valkey_workshop.courses]\nfake = {entry_value}\n")
    package = site / "fakecourse"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for module in modules:
        shutil.copytree(bundled_root() / "module3", package / module)
    return site


def test_course_path_folders_come_after_the_bundled_course(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = course_folder(tmp_path, "a", "module7")
    second = course_folder(tmp_path, "b", "module8")
    monkeypatch.setenv("WORKSHOP_COURSE_PATH", os.pathsep.join([str(first), str(second)]))
    roots = course_roots()
    assert [root.origin for root in roots[:3]] == [
        "bundled",
        "WORKSHOP_COURSE_PATH",
        "WORKSHOP_COURSE_PATH",
    ]
    assert roots[1].path == first.resolve()
    assert {"module3", "module7", "module8"} <= set(available_modules())
    module = load_module("module8")
    assert module.root == (second / "module8").resolve()
    assert module.steps[1].module_id == "module8"
    # A format_version 1 module from an outside folder loads unchanged, with its notes.
    assert len(module.steps) == len(load_module("module3").steps)


def test_list_shows_every_module_and_where_it_comes_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = course_folder(tmp_path, "course", "module7")
    monkeypatch.setenv("WORKSHOP_COURSE_PATH", str(folder))
    monkeypatch.setenv("COLUMNS", "200")
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0, result.output
    rows = {line.split()[1]: line for line in result.stdout.splitlines() if "│ module" in line}
    assert "bundled:" in rows["module3"]
    assert f"WORKSHOP_COURSE_PATH: {(folder / 'module7').resolve()}" in rows["module7"]


def test_one_id_in_two_places_is_an_error_naming_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = course_folder(tmp_path, "a", "module7", "module8")
    second = course_folder(tmp_path, "b", "module7")
    monkeypatch.setenv("WORKSHOP_COURSE_PATH", os.pathsep.join([str(first), str(second)]))
    with pytest.raises(ContentError) as raised:
        find_module("module7")
    message = str(raised.value)
    assert str((first / "module7").resolve()) in message
    assert str((second / "module7").resolve()) in message
    # The other modules stay usable.
    assert load_module("module8").id == "module8"
    result = runner.invoke(app, ["list", "module7"])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "Module 'module7' is in 2 places" in result.stderr
    listed = runner.invoke(app, ["list"])
    assert listed.exit_code == 0
    assert listed.stderr.count("Module 'module7' is in 2 places") == 1
    entries = {entry.place.folder: entry for entry in module_entries()}
    assert entries[(second / "module7").resolve()].problem is not None


def test_a_root_that_does_not_exist_is_one_line_and_the_rest_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "no-such-course"
    monkeypatch.setenv("WORKSHOP_COURSE_PATH", str(missing))
    assert survey().problems() == (f"{missing} (WORKSHOP_COURSE_PATH): no such folder",)
    assert load_module("module3").id == "module3"
    listed = runner.invoke(app, ["list"])
    assert listed.exit_code == 0
    assert f"Note: course root {missing} (WORKSHOP_COURSE_PATH): no such folder" in listed.stderr
    wanted = runner.invoke(app, ["list", "module7"])
    assert wanted.exit_code == 2
    assert "Unknown module 'module7'" in wanted.stderr
    assert "no such folder" in wanted.stderr
    assert "Traceback" not in wanted.output


def test_an_installed_course_package_adds_its_modules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(fake_package(tmp_path, "fakecourse", "module7")))
    monkeypatch.delitem(sys.modules, "fakecourse", raising=False)
    places = survey().places_of("module7")
    assert [place.root.origin for place in places] == ["package fakecourse"]
    module = load_module("module7")
    assert module.root == (tmp_path / "site" / "fakecourse" / "module7").resolve()


def test_an_entry_point_that_fails_to_import_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(fake_package(tmp_path, "fakecourse_missing")))
    (problem,) = survey().problems()
    assert problem.startswith("package fakecourse: entry point fake = 'fakecourse_missing'")
    assert "fails to load: ModuleNotFoundError" in problem
    assert load_module("module3").id == "module3"
    listed = runner.invoke(app, ["list"])
    assert listed.exit_code == 0
    assert "Note: course root package fakecourse: entry point fake" in listed.stderr


def test_a_module_toml_with_an_unknown_key_breaks_that_module_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = course_folder(tmp_path, "course", "module7")
    manifest = folder / "module7" / "module.toml"
    manifest.write_text('author = "me"\n' + manifest.read_text())
    monkeypatch.setenv("WORKSHOP_COURSE_PATH", str(folder))
    monkeypatch.setenv("COLUMNS", "200")
    listed = runner.invoke(app, ["list"])
    assert listed.exit_code == 0
    assert "broken" in next(line for line in listed.stdout.splitlines() if "module7" in line)
    assert f"Error: {manifest.resolve()}: unknown key(s): author." in listed.stderr
    needed = runner.invoke(app, ["list", "module7"])
    assert needed.exit_code == 2
    assert needed.stderr == f"Error: {manifest.resolve()}: unknown key(s): author.\n"
    assert runner.invoke(app, ["list", "module3"]).exit_code == 0


def test_labs_dir_keeps_working_in_place_of_the_bundled_course(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = course_folder(tmp_path, "labs", "module9")
    monkeypatch.setenv("WORKSHOP_LABS_DIR", str(folder))
    first = course_roots()[0]
    assert first.path == folder.resolve()
    assert "WORKSHOP_COURSE_PATH adds folders beside it" in first.origin
    assert "module9" in available_modules()
    with pytest.raises(UsageError, match="Unknown module 'module3'"):
        load_module("module3")


def test_doctor_lists_the_course_roots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = course_folder(tmp_path, "course", "module7")
    missing = tmp_path / "gone"
    monkeypatch.setenv("WORKSHOP_COURSE_PATH", os.pathsep.join([str(folder), str(missing)]))
    items = {item.name: item for item in doctor._course_root_items()}
    assert items["course root (bundled)"].ok
    assert "module3" in items["course root (bundled)"].detail
    rows = [item for item in doctor._course_root_items() if "COURSE_PATH" in item.name]
    assert [(row.ok, row.detail) for row in rows] == [
        (True, f"{folder.resolve()}: module7"),
        (False, f"{missing}: no such folder"),
    ]
    assert not any(row.required for row in rows)


def test_notes_are_read_beside_a_module_from_any_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = course_folder(tmp_path, "course", "module7")
    (folder / "module7" / "trainer-notes.md").write_text(
        "# Module 7 plan\n\nTen minutes.\n\n## Step 01 · bottleneck\n\nPause here.\n"
    )
    monkeypatch.setenv("WORKSHOP_COURSE_PATH", str(folder))
    notes = load_notes("module7")
    assert notes.plan == "# Module 7 plan\n\nTen minutes."
    assert notes.for_step(1) == "## Step 01 · bottleneck\n\nPause here."
    result = runner.invoke(app, ["notes", "module7", "1"])
    assert result.exit_code == 0, result.output
    assert "Pause here." in result.stdout
    (folder / "module7" / "trainer-notes.md").unlink()
    missing = runner.invoke(app, ["notes", "module7"])
    assert missing.exit_code == 2
    assert "trainer-notes.md does not exist" in missing.stderr


def test_help_names_the_running_command_and_a_loaded_module(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(naming, "_program", None)
    assert naming.program() == "workshop"
    naming.set_program("/opt/course/bin/ratelimit-lab")
    assert naming.program() == "ratelimit-lab"
    naming.set_program("__main__.py")
    assert naming.program() == "workshop"
    assert naming.example_module() == "module3"


def test_a_broken_step_is_one_failed_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = course_folder(tmp_path, "course", "module7")
    (folder / "module7" / "03_ttl_persist" / "step.toml").unlink()
    monkeypatch.setenv("WORKSHOP_COURSE_PATH", str(folder))
    monkeypatch.setenv("COLUMNS", "200")
    listed = runner.invoke(app, ["list", "module7"])
    assert listed.exit_code == 0, listed.output
    row = next(line for line in listed.stdout.splitlines() if "03 ttl-persist" in line)
    assert "03_ttl_persist/step.toml: missing" in row
    assert "04 eviction" in listed.stdout
    verified = runner.invoke(app, ["verify", "module7", "3"])
    assert verified.exit_code == 1
    row = next(line for line in verified.stdout.splitlines() if "03 ttl-persist" in line)
    assert "step files" in row
    assert "step.toml: missing" in row
    # The starters of the other steps are handed out; the broken one has none to copy.
    checked = runner.invoke(app, ["check", "module7", "3"])
    assert checked.exit_code == 2
    assert "Step 03 ttl-persist cannot be checked" in checked.output


def test_a_courses_own_command_names_itself_in_help_and_messages(tmp_path: Path) -> None:
    # A command no installed distribution provides: its example module is the first on the roots.
    folder = course_folder(tmp_path, "course", "module7")
    script = (
        "import sys\n"
        "sys.argv = ['/opt/course/bin/other-lab', *sys.argv[1:]]\n"
        "from valkey_workshop.cli.entry import main\n"
        "main()\n"
    )
    env = {**os.environ, "WORKSHOP_COURSE_PATH": str(folder), "COLUMNS": "100"}
    env.pop("WORKSHOP_LABS_DIR", None)
    shown = subprocess.run(
        [sys.executable, "-c", script, "--help"],
        check=False,
        capture_output=True,
        text=True,
        env=env,
    )
    assert shown.returncode == 0, shown.stderr
    assert "Usage: other-lab [OPTIONS] COMMAND [ARGS]..." in shown.stdout
    assert "Start with: other-lab start module3" in " ".join(shown.stdout.split())
    refused = subprocess.run(
        [sys.executable, "-c", script, "verify", "--json"],
        check=False,
        capture_output=True,
        text=True,
        env=env,
    )
    assert refused.returncode == 2
    assert "other-lab verify module3 --mutants --json" in refused.stderr


def _fake_course_package(tmp_path: Path) -> None:
    """A course distribution on sys.path: console script ``fake-lab``, its entry point naming
    the package ``fake_course`` whose folder holds the module ``zz-first``."""
    package = tmp_path / "site" / "fake_course"
    made = runner.invoke(app, ["new", "module", "zz-first", "--dir", str(package)])
    assert made.exit_code == 0, made.output
    (package / "__init__.py").write_text("")
    info = tmp_path / "site" / "fake_course-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-course\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[console_scripts]\nfake-lab = valkey_workshop.cli.entry:main\n\n"
        "[valkey_workshop.courses]\nfake = fake_course\n"
    )


def test_the_example_module_is_the_running_commands_own_course(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_course_package(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.delenv("WORKSHOP_COURSE_PATH", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setattr(naming, "_program", None)
    assert naming.example_module() == "module3"  # `workshop`: the first module on the roots
    naming.set_program("/venv/bin/fake-lab")
    assert naming.example_module() == "zz-first"
    # Help texts are filled in when the command line is built, not when cli.app is imported.
    shown = runner.invoke(app, ["--help"], prog_name="fake-lab")
    assert "Start with: fake-lab start zz-first" in shown.stdout
    checked = runner.invoke(app, ["check", "--help"], prog_name="fake-lab")
    assert "Module id, e.g. zz-first (`fake-lab list` shows all)" in checked.stdout
    served = runner.invoke(app, ["class", "serve", "--help"], prog_name="fake-lab")
    # The help wraps, at a hyphen too ("zz-" / "first]"): compared without white space.
    assert "[default:zz-first]" in "".join(served.stdout.split())
    assert "{{" not in shown.stdout + checked.stdout + served.stdout


def test_a_module_folder_on_the_course_path_says_to_name_its_parent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = course_folder(tmp_path, "course", "module7") / "module7"
    monkeypatch.setenv("WORKSHOP_COURSE_PATH", str(folder))
    monkeypatch.setenv("COLUMNS", "300")
    (root,) = [root for root in survey().roots if root.origin == "WORKSHOP_COURSE_PATH"]
    expected = (
        f"this is a module folder; put its parent folder on WORKSHOP_COURSE_PATH ({folder.parent})"
    )
    assert root.problem == expected
    listed = runner.invoke(app, ["list"])
    assert expected in listed.output
    doctor = runner.invoke(app, ["doctor"])
    assert expected in doctor.output
    assert "no modules (no module.toml)" not in doctor.output


def test_verify_notes_a_step_folder_module_toml_does_not_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    course = tmp_path / "course"
    runner.invoke(app, ["new", "module", "module5", "--dir", str(course)])
    shutil.copytree(course / "module5" / "01_first_step", course / "module5" / "02_draft")
    monkeypatch.setenv("WORKSHOP_COURSE_PATH", str(course))
    verified = runner.invoke(app, ["verify", "module5"])
    assert verified.exit_code == 0, verified.output
    assert (
        f"Note: {course / 'module5' / '02_draft'} is not listed in "
        f"{course / 'module5' / 'module.toml'} ([[steps]]): nothing runs or verifies it."
    ) in verified.stderr


def test_proof_counts_read_as_english() -> None:
    assert proofs_held(0, 1) == "0 of 1 proofs hold"
    assert proofs_held(1, 1) == "1 of 1 proof holds"
    assert proofs_held(1, 3) == "1 of 3 proofs holds"
    assert proofs_held(4, 5) == "4 of 5 proofs hold"


def test_one_folder_reached_through_two_roots_is_one_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = fake_package(tmp_path, "fakecourse", "module7")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("WORKSHOP_COURSE_PATH", str(site / "fakecourse"))
    (place,) = survey().places_of("module7")
    assert place.root.origin == "WORKSHOP_COURSE_PATH"
    assert find_module("module7").folder == site / "fakecourse" / "module7"
