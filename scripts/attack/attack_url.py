"""--url against a second server we start that holds a user's own data.

For every step (01-08): the reference solution and every known-wrong answer, then each demo,
then a few learner-code attacks; before/after each run we count the user's keys in every
database and compare CONFIG GET * and the ACL users.  A second scenario gives the user keys
named like the workshop's own (`product:{id}:details`, a real app following the course).
Usage: python scripts/attack/attack_url.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import harness as h
from attack_learner import WRONG_02, wrap_update

W = h.WORKSHOP
VOLATILE = {"lazyfree_pending_objects"}


def populate(user: h.UserServer, lookalike: bool, only_lookalike: bool = False) -> None:
    c0, c1, c5 = user.db(0), user.db(1), user.db(5)
    if only_lookalike:  # an app's Valkey that caches products under the course's own names
        p = c0.pipeline(transaction=False)
        for i in range(200):
            p.set(f"product:{9000 + i}:details", '{"id": %d, "owner": "user"}' % i)
        p.xadd("product:write-queue", {"user": "entry"})
        p.set("workshop:my-own-note", "mine")
        p.execute()
        return
    p = c0.pipeline(transaction=False)
    for i in range(1000):
        p.set(f"user:{i}", "v" * 100)
    p.hset("user:profile", mapping={f"f{i}": i for i in range(50)})
    p.set("user:session", "s", ex=100000)
    p.execute()
    p = c1.pipeline(transaction=False)
    for i in range(500):
        p.set(f"app:{i}", "w" * 100)
    p.execute()
    c5.rpush("queue:jobs", *range(100))
    if lookalike:
        p = c0.pipeline(transaction=False)
        for i in range(200):
            p.set(f"product:{9000 + i}:details", '{"id": %d, "owner": "user"}' % i)
        p.xadd("product:write-queue", {"user": "entry"})
        p.set("workshop:my-own-note", "mine")
        p.execute()


def user_keys(user: h.UserServer) -> dict[int, int]:
    counts = {}
    for db in range(16):
        c = user.db(db)
        n = sum(
            1
            for k in c.scan_iter(count=1000)
            if not k.startswith("workshop:") or k == "workshop:my-own-note"
        )
        if n:
            counts[db] = n
    return counts


def owned_lookalikes(user: h.UserServer) -> int:
    c = user.db(0)
    return (
        sum(1 for i in range(200) if c.exists(f"product:{9000 + i}:details"))
        + c.exists("workshop:my-own-note")
        + c.exists("product:write-queue")
    )


def settings(user: h.UserServer) -> dict[str, str]:
    c = user.db(0)
    conf = c.config_get("*")
    conf["acl"] = " | ".join(sorted(c.acl_list()))
    return conf


def runs() -> list[tuple[str, list[str], dict[str, str], float]]:
    """(name, argv-after-url, files {step: code}, timeout)"""
    out = []
    for step, folder in h.STEPS.items():
        out.append(
            (f"check-{step}-solution", ["check", "module3", step], {step: h.solution(step)}, 120)
        )
        for wrong in sorted((h.LABS / folder / "wrong").glob("*.py")):
            out.append(
                (
                    f"check-{step}-wrong-{wrong.stem}",
                    ["check", "module3", step],
                    {step: wrong.read_text()},
                    120,
                )
            )
    out.append(
        (
            "check-04-solution-killed-by-time-limit",
            ["check", "module3", "04", "--time-limit", "0.3"],
            {"04": h.solution("04")},
            60,
        )
    )
    for step in h.STEPS:
        out.append(
            (
                f"demo-{step}",
                ["demo", "module3", step, "--no-pause", "--db-latency", "0.01"],
                {},
                180,
            )
        )
    out.append(("verify-02", ["verify", "module3", "02"], {}, 180))
    out.append(("watch-none", ["list", "module3"], {}, 30))
    for n, code in {
        "maxmemory-then-loop": "client.config_set('maxmemory', '1mb'); client.config_set('maxmemory-policy', 'allkeys-lru')\nwhile True: client.set('workshop:x' + str(_t.time()), 'x' * 1000)",
        "config-bind-all": "client.config_set('bind', '0.0.0.0'); client.config_set('protected-mode', 'no')",
        "requirepass-empty": "client.config_set('requirepass', '')",
        "acl-new-user": "client.execute_command('ACL', 'SETUSER', 'evil', 'on', '>pw', '~*', '+@all')",
        "lua-busy-loop": "client.eval('while true do end', 0)",
        "flushall": "client.flushall()",
        # 60 s, not 10 minutes: long enough to see whether the workshop lifts it
        "client-pause-all": "client.execute_command('CLIENT', 'PAUSE', '60000', 'ALL')",
    }.items():
        out.append(
            (
                f"learner-{n}",
                ["check", "module3", "02", "--time-limit", "4"],
                {"02": wrap_update(WRONG_02, code)},
                90,
            )
        )
    return out


def scenario(
    lookalike: bool, only: list[str], only_lookalike: bool = False
) -> tuple[int, int, int]:
    user = h.UserServer()
    populate(user, lookalike, only_lookalike)
    base_settings = settings(user)
    tried = bad = lost_total = 0
    tag = "lookalike-only" if only_lookalike else "lookalike" if lookalike else "plain"
    try:
        for i, (name, argv, files, timeout) in enumerate(runs()):
            if only and not any(o in name for o in only):
                continue
            if only_lookalike and name not in (
                "check-02-solution",
                "check-04-solution",
                "check-07-solution",
                "check-08-solution",
                "demo-04",
                "demo-07",
                "demo-08",
                "check-04-solution-killed-by-time-limit",
                "learner-maxmemory-then-loop",
            ):
                continue
            wd = h.fresh_workdir(f"url-{tag}-{i}")
            for step, folder in h.STEPS.items():
                h.put_exercise(
                    wd, step, files.get(step, (h.LABS / folder / "starter.py").read_text())
                )
            before = user_keys(user)
            look_before = owned_lookalikes(user) if lookalike else 0
            cmd = [W, argv[0], *argv[1:], "--url", user.url]
            if argv[0] in ("check", "list", "hint"):
                cmd += ["--workdir", str(wd)]
            environ = h.env(WORKSHOP_BACKEND=None)
            rc, out, err, secs, to = h.run(cmd, cwd=wd, environ=environ, timeout=timeout)
            orphans, temps = h.leftovers(settle=2)
            problems = []
            import valkey

            try:
                valkey.Valkey(
                    port=user.port,
                    password=user.password,
                    socket_timeout=2,
                    socket_connect_timeout=2,
                ).get("user:0")
            except valkey.exceptions.TimeoutError:
                problems.append("USER SERVER LEFT PAUSED (CLIENT PAUSE)")
            except Exception:
                pass
            try:
                import time as _time

                for _ in range(
                    70
                ):  # a paused server: wait the pause out (CLIENT UNPAUSE waits too)
                    try:
                        valkey.Valkey(
                            port=user.port, password=user.password, socket_timeout=1
                        ).ping()
                        break
                    except valkey.exceptions.TimeoutError:
                        _time.sleep(0.5)
                user.db(0).ping()
                alive = True
            except Exception:
                alive = False
            if not alive:
                problems.append("USER SERVER DEAD")
                after = {}
            else:
                after = user_keys(user)
            lost = sum(before.values()) - sum(after.values())
            if lookalike and alive:
                lost = max(lost, look_before - owned_lookalikes(user))
            if lost > 0:
                problems.append(f"{lost} user keys lost ({before} -> {after})")
                lost_total += lost
            if alive:
                now = settings(user)
                diff = {
                    k: (base_settings.get(k), v)
                    for k, v in now.items()
                    if base_settings.get(k) != v and k not in VOLATILE
                }
                if diff:
                    problems.append(f"user server settings changed: {diff}")
                    # put them back so the next run starts from the user's state
                    for k, (old, _) in diff.items():
                        if k != "acl" and old is not None:
                            try:
                                user.db(0).config_set(k, old)
                            except Exception:
                                pass
                    for u in user.db(0).acl_users():
                        if u != "default" and u not in base_settings["acl"]:
                            user.db(0).acl_deluser(u)
            tb = h.TRACEBACK in out or h.TRACEBACK in err
            if tb:
                problems.append("traceback")
            if to:
                problems.append("hung")
            if orphans or temps:
                problems.append("left behind")
            refused = "not run" in out or "refused" in (out + err).lower()
            o = h.record(
                h.Outcome(
                    f"url-{tag}",
                    name,
                    cmd,
                    rc,
                    secs,
                    tb,
                    to,
                    "user data intact",
                    not problems,
                    "; ".join(problems) + (" [refused]" if refused else ""),
                    out,
                    err,
                    orphans,
                    temps,
                )
            )
            tried += 1
            bad += not o.ok
            if not alive:
                user.stop()
                user = h.UserServer()
                populate(user, lookalike, only_lookalike)
                base_settings = settings(user)
            elif lost > 0:  # refill, so each run is measured from the same data
                user.db(0).flushall()
                populate(user, lookalike, only_lookalike)
    finally:
        user.stop()
    print(f"url {tag}: {tried} runs, {bad} with a problem, {lost_total} user keys lost")
    return tried, bad, lost_total


def main() -> int:
    h.setup()
    only = sys.argv[1:]
    scenario(False, only)
    scenario(True, only)
    scenario(True, only, only_lookalike=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
