"""The lab format: validation errors name the file; modules need no engine change."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from valkey_workshop.content import FORMAT_VERSION, available_modules, labs_root, load_module
from valkey_workshop.errors import ContentError, UsageError


def _copy_module(tmp_path: Path) -> Path:
    root = tmp_path / "labs"
    shutil.copytree(labs_root() / "module3", root / "module3")
    return root


def test_module3_loads_in_order_with_its_timing_plan() -> None:
    module = load_module("module3")
    assert module.format_version == FORMAT_VERSION
    timed = [s.minutes for s in module.sections if not s.self_paced]
    assert timed == [8, 10, 12, 10]
    # Step 09 sits in a self-paced section: outside the 40 minutes.
    assert module.planned_minutes == 40
    assert module.section(module.step("failure-modes").section).self_paced
    assert [s.number for s in module.steps] == list(range(1, len(module.steps) + 1))
    assert module.steps[1].slug == "cache-aside"
    assert module.steps[1].exercise_filename == "02_cache_aside.py"
    assert len(module.steps[1].hints) >= 2


@pytest.mark.parametrize("ref", ["2", "02", "cache-aside", "cache_aside", "CACHE-ASIDE"])
def test_steps_are_found_by_number_or_slug(ref: str) -> None:
    assert load_module("module3").step(ref).slug == "cache-aside"


def test_unknown_step_lists_the_steps() -> None:
    with pytest.raises(UsageError, match=r"Unknown step '99' in module3\. Steps: 01 bottleneck"):
        load_module("module3").step("99")


def test_unknown_module_lists_the_modules() -> None:
    with pytest.raises(UsageError, match=r"Unknown module 'module9'\. Modules: .*module3"):
        load_module("module9")


def test_unknown_key_is_an_error_naming_the_file(tmp_path: Path) -> None:
    root = _copy_module(tmp_path)
    manifest = root / "module3" / "module.toml"
    manifest.write_text('author = "me"\n' + manifest.read_text())
    with pytest.raises(ContentError, match=r"module\.toml: unknown key\(s\): author"):
        load_module("module3", root)


def test_unknown_key_in_a_step_breaks_that_step_alone(tmp_path: Path) -> None:
    root = _copy_module(tmp_path)
    step_toml = root / "module3" / "02_cache_aside" / "step.toml"
    step_toml.write_text('hint = ["typo"]\n' + step_toml.read_text())
    module = load_module("module3", root)
    broken = module.step("cache-aside")
    assert broken.problem is not None
    assert re.search(r"02_cache_aside/step\.toml: unknown key\(s\): hint", broken.problem)
    assert module.broken_steps == (broken,)
    assert module.step("ttl-persist").problem is None
    assert broken not in module.without_broken_steps().steps


def test_missing_file_is_named_by_its_step(tmp_path: Path) -> None:
    root = _copy_module(tmp_path)
    (root / "module3" / "01_bottleneck" / "checks.py").unlink()
    module = load_module("module3", root)
    assert re.search(r"01_bottleneck/checks\.py: missing", module.step(1).problem or "")
    assert [step.number for step in module.broken_steps] == [1]


def test_a_missing_step_folder_is_one_broken_step(tmp_path: Path) -> None:
    root = _copy_module(tmp_path)
    shutil.rmtree(root / "module3" / "03_ttl_persist")
    module = load_module("module3", root)
    assert re.search(r"03_ttl_persist/step\.toml: missing", module.step(3).problem or "")
    assert len(module.steps) == 9


def test_newer_format_is_refused_with_what_to_do(tmp_path: Path) -> None:
    root = _copy_module(tmp_path)
    manifest = root / "module3" / "module.toml"
    manifest.write_text(manifest.read_text().replace("format_version = 1", "format_version = 2"))
    with pytest.raises(ContentError, match=r"format_version 2 is newer .* upgrade valkey-workshop"):
        load_module("module3", root)


def test_format_version_zero_says_what_to_write(tmp_path: Path) -> None:
    root = _copy_module(tmp_path)
    manifest = root / "module3" / "module.toml"
    manifest.write_text(manifest.read_text().replace("format_version = 1", "format_version = 0"))
    with pytest.raises(ContentError, match="write format_version = 1"):
        load_module("module3", root)


def test_wrong_type_is_named(tmp_path: Path) -> None:
    root = _copy_module(tmp_path)
    manifest = root / "module3" / "module.toml"
    manifest.write_text(manifest.read_text().replace("minutes = 8", 'minutes = "8"', 1))
    with pytest.raises(ContentError, match=r"sections\[1\] 'minutes' must be an int"):
        load_module("module3", root)


def test_a_new_module_is_just_a_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _copy_module(tmp_path)
    shutil.copytree(root / "module3", root / "module9")
    monkeypatch.setenv("WORKSHOP_LABS_DIR", str(root))
    # Installed course packages may add modules of their own; these two come from the folder.
    assert {"module3", "module9"} <= set(available_modules())
    assert load_module("module9").steps[0].module_id == "module9"


def test_self_paced_must_be_a_boolean(tmp_path: Path) -> None:
    root = _copy_module(tmp_path)
    manifest = root / "module3" / "module.toml"
    manifest.write_text(manifest.read_text().replace("self_paced = true", 'self_paced = "yes"'))
    with pytest.raises(ContentError, match=r"'self_paced' must be a bool"):
        load_module("module3", root)


def test_requirements_load_for_steps_and_answers(tmp_path: Path) -> None:
    root = _copy_module(tmp_path)
    step_toml = root / "module3" / "02_cache_aside" / "step.toml"
    step_toml.write_text('requires = ["DELIFEQ", "SET IFEQ"]\n' + step_toml.read_text())
    module = load_module("module3", root)
    assert module.step("cache-aside").requires == ("DELIFEQ", "SET IFEQ")
    accepted = {a.file.name: a.requires for a in module.step("failure-modes").accepted_answers}
    assert accepted["delifeq_release.py"] == ("DELIFEQ",)
    assert accepted["set_ifeq.py"] == ("SET IFEQ",)
    assert accepted["watch_multi.py"] == ()


@pytest.mark.parametrize("bad", ['"delifeq"', '"SET  IFEQ"', "1", '"SET IFEQ EX"'])
def test_a_malformed_requirement_is_named(tmp_path: Path, bad: str) -> None:
    root = _copy_module(tmp_path)
    step_toml = root / "module3" / "02_cache_aside" / "step.toml"
    step_toml.write_text(f"requires = [{bad}]\n" + step_toml.read_text())
    problem = load_module("module3", root).step("cache-aside").problem or ""
    assert re.search(r"02_cache_aside/step\.toml: requires: .* in capitals", problem)
