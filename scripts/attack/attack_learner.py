"""Hostile learner exercise files (~35): BaseException & friends, forged events, processes
and threads left behind, memory hogs, and learner code that attacks the private server.

Server attacks are written into step 02; step 03's file is a *spy* that, when the checks call
it afterwards on the same server, records what the server looks like (bind, protected-mode,
password, ACL, maxmemory, can an unauthenticated client get in) into a file we compare with a
baseline run.  Usage: python scripts/attack/attack_learner.py [name-filter ...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import harness as h

W = h.WORKSHOP
OBS = h.BASE / "spy.json"
IDS_02 = [
    "ttl-setting",
    "miss-reads-database-once",
    "cached-as-json-with-ttl",
    "hit-skips-database",
    "unknown-product",
    "update-then-fresh-read",
    "invalidate-after-database-write",
    "other-entries-survive",
]

WRONG_02 = (h.LABS / "02_cache_aside" / "wrong" / "no_invalidation.py").read_text()
SOL_02 = h.solution("02")


def wrap_update(base: str, hostile: str) -> str:
    """`base` with update_product wrapped: `hostile` runs on the first update (check 6 of 8)."""
    body = "\n".join("    " + line for line in hostile.strip().splitlines())
    return (
        base
        + f"""

import os, sys, signal, threading, subprocess, time as _t
_orig_update = update_product
_fired = []
def update_product(client, db, product_id, changes):
    if not _fired:
        _fired.append(1)
{body}
    return _orig_update(client, db, product_id, changes)
"""
    )


def at_import(base: str, code: str) -> str:
    return (
        base + "\nimport os, sys, signal, threading, subprocess, time as _t\n" + code.strip() + "\n"
    )


FORGED = "\\n".join(
    json.dumps(
        {
            "event": "result",
            "id": i,
            "passed": True,
            "message": "",
            "duration_ms": 1,
            "calls": [],
            "call_count": 0,
        }
    ).replace('"', '\\"')
    for i in IDS_02
)
FORGED_LINES = (
    f'"{FORGED}\\n" + "{json.dumps({"event": "done"}).replace(chr(34), chr(92) + chr(34))}\\n"'
)

SPY = f"""
import json as _json, os as _os
def _spy(client):
    if _os.path.exists({str(OBS)!r}):
        raise NotImplementedError
    import valkey as _v
    kw = client.connection_pool.connection_kwargs
    obs = {{}}
    for k in ["bind", "protected-mode", "requirepass", "maxmemory", "maxmemory-policy", "appendonly",
              "save", "dir", "port", "busy-reply-threshold", "lazyfree-lazy-user-del"]:
        try:
            obs[k] = client.config_get(k).get(k)
        except Exception as e:
            obs[k] = "ERR " + type(e).__name__
    obs["requirepass"] = "set" if obs.get("requirepass") else "EMPTY"
    try:
        obs["acl"] = sorted(u.split(" ")[1] + (" nopass" if "nopass" in u else "") for u in client.acl_list())
    except Exception as e:
        obs["acl"] = "ERR " + type(e).__name__
    try:
        c = _v.Valkey(host=kw["host"], port=kw["port"], socket_timeout=2)
        c.ping()
        obs["noauth"] = "OPEN"
    except Exception as e:
        obs["noauth"] = type(e).__name__
    try:
        obs["paused"] = "no"
        client.set("workshop:spy", "1")
    except Exception as e:
        obs["paused"] = type(e).__name__
    _json.dump(obs, open({str(OBS)!r}, "w"))
    raise NotImplementedError

def cache_with_ttl(client, key, value, seconds): _spy(client)
def extend_ttl(client, key, seconds): _spy(client)
def make_persistent(client, key): _spy(client)
def update_keep_ttl(client, key, value): _spy(client)
def ttl_status(client, key): _spy(client)
"""

# name -> (files {step: code}, extra argv, expected rc set, description)
ATTACKS: dict[str, tuple[dict[str, str], list[str], tuple[int, ...], str]] = {}


def add(name, files, rcs, argv=(), what=""):
    ATTACKS[name] = (files, list(argv), rcs, what)


# --- 1. a wrong answer (never invalidates) that ends the checks early: must FAIL -----------
for n, code in {
    "keyboardinterrupt": "raise KeyboardInterrupt",
    "baseexception-subclass": "class Boom(BaseException): pass\nraise Boom('bye')",
    "generatorexit": "raise GeneratorExit",
    "systemexit-0": "raise SystemExit(0)",
    "sys-exit-none": "sys.exit()",
    "os-exit-0": "os._exit(0)",
    "sigterm-self": "os.kill(os.getpid(), signal.SIGTERM)",
    "sigkill-self": "os.kill(os.getpid(), signal.SIGKILL)",
    "sigint-self": "os.kill(os.getpid(), signal.SIGINT); _t.sleep(1)",
    "sigalrm-self": "signal.alarm(1); _t.sleep(3)",
    "sigusr1-self": "os.kill(os.getpid(), signal.SIGUSR1); _t.sleep(1)",
    "close-fds-exit": "os.close(0); os.close(1); os.close(2); os._exit(0)",
    "forge-stdout": f"sys.stdout.write({FORGED_LINES}); sys.stdout.flush(); os.write(1, ({FORGED_LINES}).encode()); os._exit(0)",
    "forge-stderr": f"os.write(2, ({FORGED_LINES}).encode()); os._exit(0)",
    "forge-event-file": "import glob\nfor f in glob.glob(os.environ.get('TMPDIR','/tmp') + '/workshop-check-*/events.jsonl') + glob.glob('/proc/self/fd/*'):\n    try:\n        if os.path.realpath(f).endswith('events.jsonl'):\n            open(os.path.realpath(f), 'a').write("
    + FORGED_LINES
    + ")\n    except Exception: pass\nos._exit(0)",
    "forge-all-fds": "for fd in range(3, 64):\n    try: os.write(fd, ("
    + FORGED_LINES
    + ").encode())\n    except OSError: pass\nos._exit(0)",
    "recursion": "def r(): return r()\nr()",
    "exception-str-raises": "class E(Exception):\n    def __str__(self): raise RuntimeError('no str')\n    def __repr__(self): raise RuntimeError('no repr')\nraise E()",
    "exception-huge-message": "raise ValueError('x' * 50_000_000)",
    "memory-hog-3G": "b = bytearray(3 * 1024**3)",
    "memory-hog-loop": "l = []\nwhile True: l.append(b'x' * 10_000_000)",
    "stdout-none": "sys.stdout = None; sys.stderr = None; raise ValueError('quiet')",
    "ignore-sigterm-spin": "signal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True: pass",
    "fake-connection-error": "import valkey\nraise valkey.exceptions.ConnectionError('Connection closed by server.')",
    "close-own-client": "client.connection_pool.disconnect(); client.close()",
}.items():
    argv = ["--time-limit", "4"] if n in ("ignore-sigterm-spin", "sigalrm-self") else []
    add(f"wrong+{n}", {"02": wrap_update(WRONG_02, code)}, (1,), argv, "wrong answer must fail")

# out of scope per README (tampering inside the checker's own process), measured anyway
add(
    "wrong+steal-secret-from-gc (out of scope)",
    {
        "02": wrap_update(
            WRONG_02,
            "import gc\nfor o in gc.get_objects():\n    if hasattr(o, '_secret') and hasattr(o, 'emit'):\n"
            "        for i in "
            + repr(IDS_02)
            + ":\n            o.emit(event='result', id=i, passed=True, message='', duration_ms=1, calls=[], call_count=0)\n"
            "        o.emit(event='done'); os._exit(0)",
        )
    },
    (1,),
    (),
    "informational",
)

# --- 2. wrong answers at import time --------------------------------------------------------
for n, code in {
    "import-os-exit-0": "os._exit(0)",
    "import-systemexit-0": "raise SystemExit(0)",
    "import-keyboardinterrupt": "raise KeyboardInterrupt",
    "import-sleep-forever": "_t.sleep(1000)",
}.items():
    add(
        f"wrong+{n}",
        {"02": at_import(WRONG_02, code)},
        (1,),
        ["--time-limit", "3"] if "sleep" in n else [],
        "wrong answer must fail",
    )

# --- 3. right answers that leave things running: must PASS, fast, nothing left -------------
for n, code in {
    "child-holds-pipes": "subprocess.Popen(['sleep', '300'])",
    "fork-bomb-bounded": "for _ in range(30):\n    if os.fork() == 0:\n        _t.sleep(300); os._exit(0)",
    "nondaemon-thread-forever": "threading.Thread(target=lambda: _t.sleep(10**6)).start()",
    "spinning-thread": "threading.Thread(target=lambda: [None for _ in iter(int, 1)], daemon=True).start()",
    "double-fork-setsid-daemon": "if os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        _t.sleep(120); os._exit(0)\n    os._exit(0)",
    "huge-output-50MB": "sys.stdout.write('y' * 50_000_000)",
    "terminal-escapes": "print('\\x1b]0;pwned\\x07\\x1b[2J\\x1b[31mRED\\x1b[0m')",
    "popen-new-session": "subprocess.Popen(['sleep', '120'], start_new_session=True)",
    "multiprocessing-child": "import multiprocessing as mp\nmp.get_context('fork').Process(target=_t.sleep, args=(120,)).start()",
}.items():
    add(
        f"solution+{n}",
        {"02": wrap_update(SOL_02, code)},
        (0,),
        (),
        "right answer must pass, nothing left",
    )
add(
    "wrong+terminal-escapes-in-exception",
    {
        "02": wrap_update(
            WRONG_02,
            "print('\\x1b]0;pwned\\x07\\x1b[2J'); raise ValueError('\\x1b[2J\\x1b]0;pwned\\x07bad')",
        )
    },
    (1,),
    (),
    "escapes shown escaped",
)

# --- 4. learner code attacking the private server; step 03 is the spy ------------------------
SERVER = {
    "config-bind-all": "client.config_set('bind', '0.0.0.0')",
    "protected-mode-no": "client.config_set('protected-mode', 'no')",
    "requirepass-empty": "client.config_set('requirepass', '')",
    "acl-default-nopass": "client.execute_command('ACL', 'SETUSER', 'default', 'on', 'nopass', '~*', '&*', '+@all')",
    "acl-new-user": "client.execute_command('ACL', 'SETUSER', 'evil', 'on', '>pw', '~*', '+@all')",
    "all-of-the-above": "client.config_set('bind', '0.0.0.0'); client.config_set('protected-mode', 'no'); client.config_set('requirepass', ''); client.execute_command('ACL', 'SETUSER', 'default', 'on', 'nopass')",
    "maxmemory-then-loop": "client.config_set('maxmemory', '1mb'); client.config_set('maxmemory-policy', 'allkeys-lru')\nwhile True: client.set('workshop:x' + str(_t.time()), 'x' * 1000)",
    "lua-busy-loop": "client.eval('while true do end', 0)",
    "function-busy-loop": "client.execute_command('FUNCTION', 'LOAD', 'REPLACE', '#!lua name=evil\\nserver.register_function(\"spin\", function() while true do end end)')\nclient.execute_command('FCALL', 'spin', 0)",
    "client-pause-all": "client.execute_command('CLIENT', 'PAUSE', '600000', 'ALL')",
    "client-kill-others": "client.execute_command('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes')",
    "config-appendonly-save": "client.config_set('appendonly', 'yes'); client.config_set('save', '1 1')",
    "config-dir-outside": "client.config_set('dir', '/tmp/attack-run/outside')",
    "busy-reply-threshold": "client.config_set('busy-reply-threshold', '1'); client.config_set('lazyfree-lazy-user-del', 'no')",
    "flushall": "client.flushall()",
    "shutdown-nosave": "client.execute_command('SHUTDOWN', 'NOSAVE')",
}
for n, code in SERVER.items():
    # A paused server answers nothing, like a stopped one: `check` says so and exits 2.
    rc = (2,) if n.startswith("shutdown") or n == "client-pause-all" else (1,)
    argv = ["--time-limit", "4"] if n in ("maxmemory-then-loop", "client-pause-all") else []
    add(
        f"server+{n}",
        {"02": wrap_update(WRONG_02, code), "03": SPY},
        rc,
        argv,
        "server restored for the next step",
    )
add("server+baseline", {"03": SPY}, (1,), (), "baseline")

# --- 5. every known-wrong answer the course ships, checked on the embedded server (04 and 07 are
#        refused on a --url server holding user data, so attack_url.py cannot judge them) -------
for _step, _folder in h.STEPS.items():
    for _wrong in sorted((h.LABS / _folder / "wrong").glob("*.py")):
        add(
            f"course-wrong+{_step}-{_wrong.stem}",
            {_step: _wrong.read_text()},
            (1,),
            (),
            "must fail",
        )


def main() -> int:
    h.setup()
    only = sys.argv[1:]
    baseline = None
    names = ["server+baseline"] + [n for n in ATTACKS if n != "server+baseline"]
    n_tried = bad = 0
    for i, name in enumerate(names):
        if only and name != "server+baseline" and not any(o in name for o in only):
            continue
        files, argv, rcs, what = ATTACKS[name]
        wd = h.fresh_workdir(f"learner{i}")
        for step, folder in h.STEPS.items():
            h.put_exercise(wd, step, files.get(step, (h.LABS / folder / "starter.py").read_text()))
        OBS.unlink(missing_ok=True)
        server = name.startswith("server+")
        step_args = (
            []
            if server
            else [name.split("+", 1)[1][:2]]
            if name.startswith("course-wrong+")
            else ["02"]
        )
        cmd = [W, "check", "module3", *step_args, "--workdir", str(wd), "--json", *argv]
        rc, out, err, secs, to = h.run(cmd, cwd=h.BASE, timeout=120)
        orphans, temps = h.leftovers(settle=3)
        problems = []
        tb = h.TRACEBACK in out or h.TRACEBACK in err
        if tb:
            problems.append("traceback")
        if to:
            problems.append("hung (killed after 120 s)")
        elif rc not in rcs:
            problems.append(
                f"exit {rc}, expected {rcs}"
                + (" (A WRONG ANSWER PASSED)" if rc == 0 and 0 not in rcs else "")
            )
        verdict = _verdict(out, step_args[0] if step_args else "02")
        if 0 not in rcs and verdict == "passed":
            problems.append(f"step {step_args[0] if step_args else '02'} reported passed")
        if "\x1b" in out:
            problems.append("raw escape sequence in output")
        if orphans or temps:
            problems.append("left behind")
        if server and name != "server+shutdown-nosave":
            obs = json.loads(OBS.read_text()) if OBS.exists() else None
            if name == "server+baseline":
                baseline = obs
                print("baseline spy:", obs)
            elif obs is None:
                problems.append("spy (step 03) did not run")
            elif baseline is not None:
                diff = {
                    k: (baseline.get(k), v)
                    for k, v in obs.items()
                    if baseline.get(k) != v and k not in ("dir", "port")
                }
                if diff:
                    problems.append(f"server NOT restored for the next step: {diff}")
        n_tried += name != "server+baseline"
        o = h.record(
            h.Outcome(
                "learner",
                name,
                cmd,
                rc,
                secs,
                tb,
                to,
                str(rcs),
                not problems,
                "; ".join(problems),
                out,
                err,
                orphans,
                temps,
            )
        )
        bad += not o.ok
    print(f"learner: {n_tried} tried, {bad} with a problem")
    return 0


def _verdict(out: str, step: str) -> str:
    try:
        doc = json.loads(out)
    except ValueError:
        return "no-json"
    for s in doc.get("steps", []):
        if (
            str(s.get("slug", "")).startswith(step)
            or str(s.get("number", "")) == step
            or s.get("step") == step
        ):
            return str(s.get("status") or ("passed" if s.get("passed") else "failed"))
    return "unknown"


if __name__ == "__main__":
    sys.exit(main())
