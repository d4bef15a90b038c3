"""~110 hostile inputs: CLI options, environment, odd files in the workdir.

Every case asserts: no traceback, no hang (bounded), the expected exit codes, and for file
cases that nothing outside the workdir changed.  Usage: python scripts/attack/attack_inputs.py
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import harness as h

W = h.WORKSHOP


@dataclass
class Case:
    name: str
    argv: list[str]
    rcs: tuple[int, ...] = (2,)
    env: dict = field(default_factory=dict)
    prepare: Callable[[Path], None] | None = None
    check: Callable[[Path, int | None, str, str], str] | None = None  # returns problem or ""
    timeout: float = 60
    cwd_wd: bool = False
    nobody: bool = False  # run as uid 65534: file modes bind (we are root)


OUTSIDE = h.BASE / "outside"


def sentinel(name: str) -> Path:
    OUTSIDE.mkdir(parents=True, exist_ok=True)
    p = OUTSIDE / name
    p.write_text(f"user's own file {name}\n")
    return p


def digest(p: Path) -> str:
    try:
        return hashlib.sha256(p.read_bytes()).hexdigest()
    except OSError as e:
        return f"unreadable: {e}"


def outside_unchanged(*names: str):
    before = {}

    def snap():
        for n in names:
            before[n] = digest(OUTSIDE / n)

    def check(wd, rc, out, err):
        bad = [
            n
            for n in names
            if digest(OUTSIDE / n) != before[n]
            or (OUTSIDE / n).read_text() != f"user's own file {n}\n"
        ]
        return f"outside file changed: {bad}" if bad else ""

    return snap, check


def ex(wd: Path, step: str = "02") -> Path:
    return wd / "module3" / f"{h.STEPS[step]}.py"


def prep_solution(step="02"):
    def p(wd):
        h.put_exercise(wd, step, h.solution(step))

    return p


def prep_wrong(step: str, wrong: str, extra: Callable[[Path], None] | None = None):
    def p(wd):
        h.put_exercise(wd, step, (h.LABS / h.STEPS[step] / "wrong" / wrong).read_text())
        if extra:
            extra(wd)

    return p


def must_fail(wd, rc, out, err):
    return "" if rc != 0 else "a known-wrong answer passed (exit 0)"


def must_pass(wd, rc, out, err):
    return "" if rc == 0 else "the reference solution did not pass"


def cases() -> list[Case]:
    C: list[Case] = []
    wdf = "{wd}"  # replaced by the case's workdir

    # --- --workdir -----------------------------------------------------------------
    def wd_is_file(wd):
        (wd / "afile").write_text("x")

    for verb, extra, rcs in [
        ("check", ["02"], (2,)),
        ("hint", ["02"], (2,)),
        ("skip", ["02"], (2,)),
        ("reset", ["02"], (2,)),
        ("list", [], (2,)),
        ("solution", ["02", "--force"], (0, 2)),
        ("watch", [], (2,)),
        ("start", [], (2,)),
    ]:
        C.append(
            Case(
                f"workdir-is-file-{verb}",
                [W, verb, "module3", *extra, "--workdir", wdf + "/afile"],
                rcs,
                prepare=wd_is_file,
                timeout=20,
            )
        )
    C.append(
        Case(
            "workdir-nosuchuser-check",
            [W, "check", "module3", "02", "--workdir", "~nosuchuser/x"],
            (2,),
        )
    )
    C.append(
        Case(
            "workdir-nosuchuser-hint",
            [W, "hint", "module3", "02", "--workdir", "~nosuchuser/x"],
            (2,),
        )
    )
    C.append(
        Case(
            "workdir-300-chars-check",
            [W, "check", "module3", "02", "--workdir", wdf + "/" + "a" * 300],
            (2,),
        )
    )
    C.append(
        Case(
            "workdir-300-chars-hint",
            [W, "hint", "module3", "02", "--workdir", wdf + "/" + "b" * 300],
            (2,),
        )
    )
    C.append(
        Case(
            "workdir-4000-chars-list",
            [W, "list", "module3", "--workdir", wdf + ("/" + "c" * 200) * 20],
            (0, 2),
        )
    )
    C.append(
        Case(
            "workdir-empty-string",
            [W, "hint", "module3", "02", "--workdir", ""],
            (0, 2),
            cwd_wd=True,
        )
    )
    C.append(
        Case(
            "workdir-dev-null-check", [W, "check", "module3", "02", "--workdir", "/dev/null"], (2,)
        )
    )
    C.append(
        Case("workdir-proc-skip", [W, "skip", "module3", "02", "--workdir", "/proc/1/fdinfo"], (2,))
    )
    C.append(
        Case(
            "workdir-under-file-reset",
            [W, "reset", "module3", "--workdir", wdf + "/afile/sub"],
            (2,),
            prepare=wd_is_file,
        )
    )

    def ro_wd(wd):
        for step, folder in h.STEPS.items():  # a complete workdir: nothing left to create
            h.put_exercise(wd, step, (h.LABS / folder / "starter.py").read_text())
        h.put_exercise(wd, "02", h.solution("02"))

    def ro_check(wd, rc, out, err):
        return "" if "PASS" in out + err else "verdict not shown in a read-only workdir"

    C.append(
        Case(
            "workdir-read-only-check",
            [*h.READONLY, W, "check", "module3", "02", "--workdir", wdf],
            (2,),
            prepare=ro_wd,
            check=ro_check,
        )
    )
    C.append(
        Case(
            "workdir-read-only-one-file-check",
            [*h.READONLY, W, "check", "module3", "02", "--workdir", wdf],
            (2,),
            prepare=prep_solution(),
            check=ro_check,
        )
    )
    C.append(
        Case(
            "workdir-read-only-hint",
            [*h.READONLY, W, "hint", "module3", "02", "--workdir", wdf],
            (2,),
            prepare=ro_wd,
        )
    )
    C.append(
        Case(
            "workdir-newline-in-name",
            [W, "check", "module3", "02", "--workdir", wdf + "/a\nb"],
            (1,),
        )
    )
    C.append(
        Case(
            "workdir-non-utf8-name",
            [W, "list", "module3", "--workdir", wdf + "/\udcff\udcfe"],
            (0, 2),
        )
    )

    def loop(wd):
        os.symlink(wd / "loop", wd / "loop")

    C.append(
        Case(
            "workdir-symlink-loop",
            [W, "check", "module3", "02", "--workdir", wdf + "/loop"],
            (2,),
            prepare=loop,
        )
    )
    C.append(
        Case(
            "workdir-env-is-file",
            [W, "hint", "module3", "02"],
            (2,),
            env={"WORKSHOP_WORKDIR": "/etc/hostname"},
        )
    )

    # --- --url ---------------------------------------------------------------------
    for name, url in [
        ("port-99999", "valkey://127.0.0.1:99999"),
        ("abc", "abc"),
        ("db-notanumber", "valkey://127.0.0.1:6379/notanumber"),
        ("http", "http://127.0.0.1:1"),
        ("refused", "valkey://:pw@127.0.0.1:1"),
        ("bad-ipv6", "valkey://[::1:bad"),
        ("port-negative", "valkey://127.0.0.1:-1"),
        ("empty", ""),
        ("tls-refused", "valkeys://127.0.0.1:1"),
        ("unix-missing", "unix:///nonexistent.sock"),
        ("db-negative", "valkey://127.0.0.1:1/-1"),
        ("space", "valkey://127.0.0.1: 80"),
        ("query-junk", "valkey://127.0.0.1:1/0?socket_timeout=abc"),
        ("percent-junk", "valkey://%zz@127.0.0.1:1"),
    ]:
        C.append(
            Case(
                f"url-{name}",
                [W, "check", "module3", "02", "--url", url, "--workdir", wdf],
                (2,),
                timeout=40,
            )
        )
    C.append(
        Case(
            "url-env-abc",
            [W, "check", "module3", "02", "--workdir", wdf],
            (2,),
            env={"VALKEY_URL": "abc", "WORKSHOP_BACKEND": None},
        )
    )
    # live server cases use {user} / {userpw}
    C.append(
        Case(
            "url-live-wrong-password",
            [
                W,
                "check",
                "module3",
                "02",
                "--url",
                "valkey://:nope@127.0.0.1:{userport}",
                "--workdir",
                wdf,
            ],
            (2,),
            timeout=40,
        )
    )
    C.append(
        Case(
            "url-live-db-99",
            [W, "check", "module3", "02", "--url", "{userurl}/99", "--workdir", wdf],
            (2,),
            timeout=40,
        )
    )
    C.append(
        Case(
            "url-live-db-notanumber",
            [W, "check", "module3", "02", "--url", "{userurl}/x", "--workdir", wdf],
            (2,),
            timeout=40,
        )
    )
    C.append(
        Case(
            "url-live-demo-04-refused",
            [W, "demo", "module3", "04", "--no-pause", "--db-latency", "0", "--url", "{userurl}"],
            (1, 2),
            timeout=60,
        )
    )

    # --- --time-limit / --memory-limit ----------------------------------------------
    for v in ["inf", "1e300", "nan", "-1", "0", "abc", "3601", "-inf", ""]:
        C.append(
            Case(
                f"time-limit-{v or 'empty'}",
                [W, "check", "module3", "02", "--time-limit", v, "--workdir", wdf],
                (2,),
            )
        )
    C.append(
        Case(
            "time-limit-0.1-solution-04",
            [W, "check", "module3", "04", "--time-limit", "0.1", "--workdir", wdf],
            (1,),
            prepare=prep_solution("04"),
            check=must_fail,
        )
    )
    for v in ["abc", "0", "-1G", "1e300G", "", "inf", "1.5.5G", "G", "12Q"]:
        C.append(
            Case(
                f"memory-limit-{v or 'empty'}",
                [W, "check", "module3", "02", "--memory-limit", v, "--workdir", wdf],
                (2,),
            )
        )
    C.append(
        Case(
            "memory-limit-1K-solution",
            [W, "check", "module3", "02", "--memory-limit", "1K", "--workdir", wdf],
            (1, 2),
            prepare=prep_solution(),
        )
    )
    C.append(
        Case(
            "memory-limit-env-abc",
            [W, "check", "module3", "02", "--workdir", wdf],
            (2,),
            env={"WORKSHOP_MEMORY_LIMIT": "abc"},
        )
    )
    C.append(
        Case(
            "memory-limit-1.5G-solution",
            [W, "check", "module3", "02", "--memory-limit", "1.5G", "--workdir", wdf],
            (0,),
            prepare=prep_solution(),
            check=must_pass,
        )
    )

    # --- --junit-xml ------------------------------------------------------------------
    def mkdir_x(wd):
        (wd / "adir").mkdir()
        (wd / "afile").write_text("x")

    for name, path, rcs in [
        ("directory", wdf + "/adir", (2,)),
        ("under-file", wdf + "/afile/r.xml", (2,)),
        ("proc", "/proc/version", (2,)),
        ("dev-full", "/dev/full", (2,)),
        ("empty", "", (2,)),
        ("missing-parent", wdf + "/no/such/dir/r.xml", (1, 2)),
    ]:
        C.append(
            Case(
                f"junit-{name}",
                [W, "check", "module3", "02", "--junit-xml", path, "--workdir", wdf],
                rcs,
                prepare=mkdir_x,
            )
        )
    snap_j, chk_j = outside_unchanged("junit-target")

    def junit_symlink(wd):
        sentinel("junit-target")
        snap_j()
        os.symlink(OUTSIDE / "junit-target", wd / "report.xml")

    C.append(
        Case(
            "junit-ansi-output-valid-xml",
            [W, "check", "module3", "02", "--junit-xml", wdf + "/r.xml", "--workdir", wdf],
            (1,),
            prepare=lambda wd: h.put_exercise(
                wd, "02", 'print("\\x1b[31mred\\x00\\x07\\x1b]0;title\\x07")\nraise SystemExit(3)\n'
            ),
            check=lambda wd, rc, o, e: _xml_ok(wd / "r.xml"),
        )
    )

    # a slip of the tab key: the report path is one of the learner's own files
    def mine(wd):
        h.put_exercise(wd, "02", "# my precious work\n")
        (wd / ".workshop-progress.json").write_text(
            '{"format_version": 1, "modules": {"module3": {"cache-aside": {"hints_revealed": 2}}}}'
        )

    def kept(path):
        def check(wd, rc, out, err):
            text = (wd / path).read_text()
            if "precious" in text or "hints_revealed" in text:
                return ""
            backups = list((wd / ".backups").rglob("*")) if (wd / ".backups").exists() else []
            return (
                ""
                if backups
                else f"the learner's {path} was overwritten by the JUnit report, no backup"
            )

        return check

    C.append(
        Case(
            "junit-onto-exercise",
            [
                W,
                "check",
                "module3",
                "02",
                "--junit-xml",
                wdf + "/module3/02_cache_aside.py",
                "--workdir",
                wdf,
            ],
            (1, 2),
            prepare=mine,
            check=kept("module3/02_cache_aside.py"),
        )
    )
    C.append(
        Case(
            "junit-onto-progress",
            [
                W,
                "check",
                "module3",
                "02",
                "--junit-xml",
                wdf + "/.workshop-progress.json",
                "--workdir",
                wdf,
            ],
            (1, 2),
            prepare=mine,
            check=kept(".workshop-progress.json"),
        )
    )

    # --- --image / --backend / --docker-network ---------------------------------------
    for name, argv in [
        ("image-bad", ["--backend", "docker", "--image", ":::bad"]),
        ("image-empty", ["--backend", "docker", "--image", ""]),
        (
            "image-missing-offline",
            [
                "--backend",
                "docker",
                "--image",
                "localhost/no-such-image:1",
                "--docker-network",
                "host",
            ],
        ),
        ("backend-bogus", ["--backend", "bogus"]),
        ("backend-empty", ["--backend", ""]),
        ("docker-network-bogus", ["--backend", "docker", "--docker-network", "bogus"]),
        ("backend-url-without-url", ["--backend", "url"]),
        ("backend-local-none", ["--backend", "local"]),
    ]:
        C.append(
            Case(name, [W, "check", "module3", "02", *argv, "--workdir", wdf], (2,), timeout=90)
        )
    C.append(
        Case(
            "backend-env-bogus",
            [W, "check", "module3", "02", "--workdir", wdf],
            (2,),
            env={"WORKSHOP_BACKEND": "bogus"},
        )
    )

    # --- module / step values ---------------------------------------------------------
    for verb in ["check", "hint", "skip", "reset", "solution", "notes"]:
        for name, mod, step in [
            ("module-nosuch", "nosuch", "02"),
            ("module-dotdot", "../etc", "02"),
            ("step-99", "module3", "99"),
            ("step-abc", "module3", "abc"),
        ]:
            if verb == "notes" and name.startswith("step"):
                continue
            C.append(Case(f"{verb}-{name}", [W, verb, mod, step, "--workdir", wdf], (2,)))
    for step in ["", "0", "-1", "1e3", "cache-aside/../x", "ëviction", "2.0", "0x2"]:
        C.append(
            Case(f"check-step-{step!r}", [W, "check", "module3", step, "--workdir", wdf], (2,))
        )
    for n in ["0", "-1", "99", "abc"]:
        C.append(Case(f"hint-number-{n}", [W, "hint", "module3", "02", n, "--workdir", wdf], (2,)))
    C.append(Case("demo-step-99", [W, "demo", "module3", "99", "--no-pause"], (2,)))
    C.append(Case("watch-step-99", [W, "watch", "module3", "99", "--workdir", wdf], (2,)))
    C.append(Case("start-step-99", [W, "start", "module3", "--step", "99", "--workdir", wdf], (2,)))
    C.append(Case("verify-step-99", [W, "verify", "module3", "99"], (2,)))
    C.append(Case("verify-jobs-0", [W, "verify", "module3", "01", "-j", "0"], (2,)))
    C.append(
        Case("verify-jobs-huge", [W, "verify", "module3", "01", "-j", "99999999999999999999"], (2,))
    )

    # --- environment ------------------------------------------------------------------
    def sol02(wd):
        h.put_exercise(wd, "02", h.solution("02"))

    for verb, extra, rcs in [
        ("check", ["02"], (0,)),
        ("list", [], (0,)),
        ("hint", ["02"], (0,)),
        ("notes", ["02"], (0,)),
        ("verify", ["01"], (0,)),
    ]:
        wdarg = [] if verb in ("notes", "verify") else ["--workdir", wdf]
        C.append(
            Case(
                f"PYTHONIOENCODING=ascii-{verb}",
                [W, verb, "module3", *extra, *wdarg],
                rcs,
                env={"PYTHONIOENCODING": "ascii"},
                prepare=sol02,
                timeout=120,
            )
        )
    C.append(
        Case(
            "LC_ALL=C-check",
            [W, "check", "module3", "02", "--workdir", wdf],
            (0,),
            env={"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0"},
            prepare=sol02,
        )
    )
    for cols in ["5", "abc", "0", "-3", "100000"]:
        C.append(
            Case(
                f"COLUMNS={cols}-check",
                [W, "check", "module3", "02", "--workdir", wdf],
                (0,),
                env={"COLUMNS": cols},
                prepare=sol02,
            )
        )
    C.append(
        Case(
            "FORCE_COLOR-TERM-dumb-list",
            [W, "list", "module3", "--workdir", wdf],
            (0,),
            env={"FORCE_COLOR": "1", "TERM": "dumb", "NO_COLOR": None},
        )
    )
    C.append(
        Case(
            "LABS_DIR-missing",
            [W, "list", "module3", "--workdir", wdf],
            (2,),
            env={"WORKSHOP_LABS_DIR": "/nonexistent"},
        )
    )
    C.append(
        Case(
            "LABS_DIR-file",
            [W, "check", "module3", "02", "--workdir", wdf],
            (2,),
            env={"WORKSHOP_LABS_DIR": "/etc/hostname"},
        )
    )

    def bad_labs(wd):
        d = wd / "labs" / "module3"
        d.mkdir(parents=True)
        (d / "module.toml").write_text("this is = = not toml [")

    C.append(
        Case(
            "LABS_DIR-broken-toml",
            [W, "list", "module3", "--workdir", wdf],
            (2,),
            env={"WORKSHOP_LABS_DIR": "{wd}/labs"},
            prepare=bad_labs,
        )
    )
    C.append(
        Case(
            "HOME-unset-tilde-workdir",
            [W, "list", "module3", "--workdir", "~/x"],
            (0, 2),
            env={"HOME": None},
        )
    )
    C.append(
        Case(
            "stdout-dev-full-list",
            ["sh", "-c", f"{W} list module3 --workdir {wdf} >/dev/full"],
            (1, 2),
        )
    )
    C.append(
        Case(
            "stdout-closed-check",
            ["sh", "-c", f"{W} check module3 02 --workdir {wdf} >&-"],
            (0, 1, 2),
            prepare=sol02,
        )
    )
    C.append(
        Case(
            "stdout-pipe-closed-list",
            ["sh", "-c", f"{W} notes module3 | head -c1 >/dev/null"],
            (0, 1, 2, 141),
        )
    )

    # --- odd files in the workdir -----------------------------------------------------
    P = ".workshop-progress.json"
    for name, data in [
        ("corrupt", b"{not json"),
        ("infinity", b'{"module3": {"steps": {"02": {"attempts": Infinity}}}}'),
        ("nan-top", b"NaN"),
        ("list", b"[1,2,3]"),
        ("wrong-types", b'{"module3": 5}'),
        (
            "huge-int",
            b'{"module3": {"steps": {"02_cache_aside": {"attempts": 1' + b"0" * 5000 + b"}}}}",
        ),
        ("binary", os.urandom(512)),
        ("empty", b""),
        ("deep-nesting", b"[" * 200000),
        ("utf16", '{"a": 1}'.encode("utf-16")),
    ]:

        def prep(wd, data=data):
            (wd / P).write_bytes(data)
            h.put_exercise(wd, "02", h.solution("02"))

        for verb, extra, rcs in [
            ("list", [], (0,)),
            ("hint", ["02"], (0,)),
            ("check", ["02"], (0,)),
        ]:
            C.append(
                Case(
                    f"progress-{name}-{verb}",
                    [W, verb, "module3", *extra, "--workdir", wdf],
                    rcs,
                    prepare=prep,
                )
            )

    def fifo(wd):
        os.mkfifo(wd / P)

    for verb, extra in [("list", []), ("hint", ["02"]), ("skip", ["03"])]:
        C.append(
            Case(
                f"progress-fifo-{verb}",
                [W, verb, "module3", *extra, "--workdir", wdf],
                (0, 2),
                prepare=fifo,
                timeout=20,
            )
        )
    C.append(
        Case(
            "progress-is-dir-hint",
            [W, "hint", "module3", "02", "--workdir", wdf],
            (0, 2),
            prepare=lambda wd: (wd / P).mkdir(),
        )
    )
    snap_p, chk_p = outside_unchanged("progress-target")

    def prog_link(wd):
        sentinel("progress-target")
        snap_p()
        os.symlink(OUTSIDE / "progress-target", wd / P)

    C.append(
        Case(
            "progress-symlink-out-hint",
            [W, "hint", "module3", "02", "--workdir", wdf],
            (0, 2),
            prepare=prog_link,
            check=chk_p,
        )
    )

    def ro_prog(wd):
        (wd / P).write_text("{}")

    C.append(
        Case(
            "progress-read-only-skip",
            [*h.READONLY, W, "skip", "module3", "02", "--workdir", wdf],
            (2,),
            prepare=ro_prog,
        )
    )
    C.append(
        Case(
            "progress-lock-is-dir",
            [W, "hint", "module3", "02", "--workdir", wdf],
            (0, 2),
            prepare=lambda wd: (wd / (P + ".lock")).mkdir(),
            timeout=30,
        )
    )
    C.append(
        Case(
            "progress-lock-fifo",
            [W, "hint", "module3", "02", "--workdir", wdf],
            (0, 2),
            prepare=lambda wd: os.mkfifo(wd / (P + ".lock")),
            timeout=30,
        )
    )

    snap_e, chk_e = outside_unchanged("exercise-target")

    def ex_link(wd):
        sentinel("exercise-target")
        snap_e()
        (wd / "module3").mkdir()
        os.symlink(OUTSIDE / "exercise-target", ex(wd))

    C.append(
        Case(
            "exercise-symlink-out-reset",
            [W, "reset", "module3", "02", "--workdir", wdf],
            (2,),
            prepare=ex_link,
            check=chk_e,
        )
    )
    snap_e2, chk_e2 = outside_unchanged("exercise-target2")

    def ex_link2(wd):
        sentinel("exercise-target2")
        snap_e2()
        (wd / "module3").mkdir()
        os.symlink(OUTSIDE / "exercise-target2", ex(wd))

    C.append(
        Case(
            "exercise-symlink-out-check",
            [W, "check", "module3", "02", "--workdir", wdf],
            (1, 2),
            prepare=ex_link2,
            check=chk_e2,
        )
    )
    snap_b, chk_b = outside_unchanged("backups-target")

    def bk_link(wd):
        t = sentinel("backups-target")
        snap_b()
        h.put_exercise(wd, "02", "# mine\n")
        (wd / ".backups").mkdir()
        os.symlink(OUTSIDE, wd / ".backups" / "module3")
        del t

    C.append(
        Case(
            "backups-symlink-out-reset",
            [W, "reset", "module3", "02", "--workdir", wdf],
            (2,),
            prepare=bk_link,
            check=lambda wd, rc, o, e: chk_b(wd, rc, o, e) or _no_new_outside(wd),
        )
    )

    def bk_link_root(wd):
        h.put_exercise(wd, "02", "# mine\n")
        os.symlink(OUTSIDE, wd / ".backups")

    C.append(
        Case(
            "backups-root-symlink-out-reset",
            [W, "reset", "module3", "02", "--workdir", wdf],
            (0, 2),
            prepare=bk_link_root,
            check=lambda wd, rc, o, e: _no_new_outside(wd),
        )
    )

    def mod_link(wd):
        OUTSIDE.mkdir(parents=True, exist_ok=True)
        (OUTSIDE / "modlink").mkdir(exist_ok=True)
        os.symlink(OUTSIDE / "modlink", wd / "module3")

    C.append(
        Case(
            "module-folder-symlink-out-check",
            [W, "check", "module3", "02", "--workdir", wdf],
            (2,),
            prepare=mod_link,
            check=lambda wd, rc, o, e: (
                ""
                if not any((OUTSIDE / "modlink").iterdir())
                else "files written outside the workdir through module3 symlink"
            ),
        )
    )
    C.append(
        Case(
            "module-folder-is-file-check",
            [W, "check", "module3", "02", "--workdir", wdf],
            (2,),
            prepare=lambda wd: (wd / "module3").write_text("x"),
        )
    )
    C.append(
        Case(
            "exercise-is-dir-check",
            [W, "check", "module3", "02", "--workdir", wdf],
            (1, 2),
            prepare=lambda wd: ex(wd).mkdir(parents=True),
        )
    )
    C.append(
        Case(
            "exercise-is-fifo-check",
            [W, "check", "module3", "02", "--workdir", wdf],
            (1, 2),
            prepare=lambda wd: ((wd / "module3").mkdir(), os.mkfifo(ex(wd))),
            timeout=40,
        )
    )
    C.append(
        Case(
            "exercise-latin1-check",
            [W, "check", "module3", "02", "--workdir", wdf],
            (1,),
            prepare=lambda wd: (
                (wd / "module3").mkdir(),
                ex(wd).write_bytes(b"# caf\xe9\nx = 1\n"),
            ),
        )
    )
    C.append(
        Case(
            "exercise-nul-bytes-check",
            [W, "check", "module3", "02", "--workdir", wdf],
            (1,),
            prepare=lambda wd: ((wd / "module3").mkdir(), ex(wd).write_bytes(b"x = 1\x00\x00\n")),
        )
    )
    C.append(
        Case(
            "exercise-empty-check",
            [W, "check", "module3", "02", "--workdir", wdf],
            (1,),
            prepare=lambda wd: h.put_exercise(wd, "02", ""),
        )
    )

    # shadowing modules beside the exercise: the solution must still pass, a wrong one fail
    def shadow(name: str, text: str, is_pkg=False):
        def f(wd):
            d = wd / "module3"
            d.mkdir(parents=True, exist_ok=True)
            if is_pkg:
                (d / name).mkdir()
                (d / name / "__init__.py").write_text(text)
            else:
                (d / f"{name}.py").write_text(text)

        return f

    fake_pkg = "import os\nos._exit(0)\n"
    for mod in [
        "json",
        "valkey",
        "random",
        "typing",
        "socket",
        "sitecustomize",
        "usercustomize",
        "collections",
        "encodings",
        "abc",
        "checks",
        "worker",
    ]:
        C.append(
            Case(
                f"shadow-{mod}-solution-passes",
                [W, "check", "module3", "02", "--workdir", wdf],
                (0,),
                prepare=lambda wd, mod=mod: (prep_solution()(wd), shadow(mod, fake_pkg)(wd)),
                check=must_pass,
            )
        )
    for mod in ["valkey_workshop", "valkey", "json"]:
        C.append(
            Case(
                f"shadow-{mod}-pkg-wrong-fails",
                [W, "check", "module3", "02", "--workdir", wdf],
                (1,),
                prepare=prep_wrong("02", "no_invalidation.py", shadow(mod, fake_pkg, is_pkg=True)),
                check=must_fail,
            )
        )

    def pth(wd):
        prep_wrong("02", "no_invalidation.py")(wd)
        (wd / "module3" / "x.pth").write_text("import os; os._exit(0)\n")

    C.append(
        Case(
            "pth-beside-exercise-wrong-fails",
            [W, "check", "module3", "02", "--workdir", wdf],
            (1,),
            prepare=pth,
            check=must_fail,
        )
    )

    def pycache(wd):
        prep_wrong("02", "no_invalidation.py")(wd)
        import py_compile

        sol = wd / "sol_tmp.py"
        sol.write_text(h.solution("02"))
        d = wd / "module3" / "__pycache__"
        d.mkdir()
        tag = sys.implementation.cache_tag
        py_compile.compile(str(sol), cfile=str(d / f"{h.STEPS['02']}.{tag}.pyc"))
        st = os.stat(ex(wd))
        os.utime(sol, (st.st_atime, st.st_mtime))

    C.append(
        Case(
            "stale-pycache-wrong-fails",
            [W, "check", "module3", "02", "--workdir", wdf],
            (1,),
            prepare=pycache,
            check=must_fail,
        )
    )
    return C


def _no_new_outside(wd):
    extra = [
        p.name
        for p in OUTSIDE.iterdir()
        if p.name
        not in {
            "backups-target",
            "progress-target",
            "exercise-target",
            "exercise-target2",
            "junit-target",
            "modlink",
        }
    ]
    return f"new files outside the workdir: {extra}" if extra else ""


def _backup_kept(wd, rc):
    bk = list(wd.rglob(".backups/*")) + list(wd.rglob("*.bak*"))
    target = ex(wd)
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except OSError:
        return ""
    if rc == 0 and not bk:
        return "reset replaced an unreadable file without a backup"
    del mode
    return ""


def _xml_ok(path: Path) -> str:
    import xml.etree.ElementTree as ET

    try:
        ET.parse(path)
    except Exception as e:
        return f"JUnit XML invalid: {e}"
    return ""


def fill(arg: str, wd: Path, user) -> str:
    return (
        arg.replace("{wd}", str(wd))
        .replace("{userurl}", user.url)
        .replace("{userport}", str(user.port))
    )


def main() -> int:
    h.setup()
    only = sys.argv[1:]
    user = h.UserServer()
    user.client.set("user:important", "1")
    n = bad = 0
    try:
        for i, c in enumerate(cases()):
            if only and not any(o in c.name for o in only):
                continue
            wd = h.fresh_workdir(f"in{i}")
            if c.prepare:
                c.prepare(wd)
            argv = [fill(a, wd, user) for a in c.argv]
            environ = h.env(
                **{k: (fill(v, wd, user) if isinstance(v, str) else v) for k, v in c.env.items()}
            )
            rc, out, err, secs, to = h.run(
                argv, cwd=wd if c.cwd_wd else h.BASE, environ=environ, timeout=c.timeout
            )
            orphans, temps = h.leftovers()
            problems = []
            tb = h.TRACEBACK in out or h.TRACEBACK in err
            if tb:
                problems.append("traceback")
            if to:
                problems.append(f"hung (killed after {c.timeout:.0f}s)")
            elif rc not in c.rcs:
                problems.append(f"exit {rc}, expected {c.rcs}")
            if c.check:
                p = c.check(wd, rc, out, err)
                if p:
                    problems.append(p)
            if orphans or temps:
                problems.append("left behind")
            o = h.record(
                h.Outcome(
                    "input",
                    c.name,
                    argv,
                    rc,
                    secs,
                    tb,
                    to,
                    str(c.rcs),
                    not problems,
                    "; ".join(problems),
                    out,
                    err,
                    orphans,
                    temps,
                )
            )
            n += 1
            bad += not o.ok
            h.subprocess.run(["chmod", "-R", "u+rwX", str(wd)], check=False, capture_output=True)
    finally:
        left = user.client.get("user:important")
        user.stop()
    print(f"inputs: {n} tried, {bad} with a problem; user key intact: {left == '1'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
