"""The eviction experiment shared by step 04's demo and checks.

Fill the server with keys, re-read half of them (the hot ones) a second later, then, another
second later, write new keys past maxmemory. Which keys survive shows how close the server's
sampled LRU comes to true LRU. The pauses are needed: the LRU clock counts whole seconds.
"""

import time
from dataclasses import dataclass

CONFIG_KEYS = ("maxmemory", "maxmemory-policy", "maxmemory-samples")
#: Room above the filled memory so that replies to the hot reads do not evict anything.
SLACK_BYTES = 32 * 1024
BATCH = 50


def snapshot(client):
    """The eviction settings, to restore afterwards."""
    return {key: client.config_get(key)[key] for key in CONFIG_KEYS}


def restore(client, settings):
    for key, value in settings.items():
        client.config_set(key, value)


def delete_prefix(client, prefix):
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    for start in range(0, len(keys), 500):
        client.delete(*keys[start : start + 500])


@dataclass
class Survival:
    """Who survived, in order of last access: cold (never re-read), hot, then new keys."""

    cold: list
    hot: list
    new: list
    evicted: int
    oom_errors: int
    first_error: str

    def rate(self, group):
        return sum(group) / len(group) if group else 0.0

    @property
    def in_access_order(self):
        return self.cold + self.hot + self.new


def _pipelined(client, commands):
    replies = []
    for start in range(0, len(commands), BATCH):
        pipe = client.pipeline(transaction=False)
        for command in commands[start : start + BATCH]:
            command(pipe)
        replies.extend(pipe.execute(raise_on_error=False))
    return replies


def run(client, prefix, configure, keys=1200, value_size=200, pause=1.05):
    """Fill, configure (``configure(maxmemory_bytes)``), re-read the hot half, overflow.

    When ``configure`` raises (a check's verdict), the error propagates after the settings
    are left to the caller to restore.
    """
    value = "x" * value_size
    client.config_set("maxmemory", 0)  # filling must not evict anything yet
    delete_prefix(client, prefix)
    names = [f"{prefix}{i:05d}" for i in range(keys)]
    _pipelined(client, [lambda p, k=k: p.set(k, value) for k in names])
    limit = int(client.info("memory")["used_memory"]) + SLACK_BYTES
    configure(limit)
    cold, hot = names[0::2], names[1::2]
    time.sleep(pause)
    _pipelined(client, [lambda p, k=k: p.get(k) for k in hot])
    time.sleep(pause)
    evicted_before = int(client.info("stats")["evicted_keys"])
    # About as many evictions as there are cold keys: true LRU would evict exactly those.
    new = [f"{prefix}new:{i:05d}" for i in range(keys * 3 // 5)]
    replies = _pipelined(client, [lambda p, k=k: p.set(k, value) for k in new])
    errors = [reply for reply in replies if isinstance(reply, Exception)]
    evicted = int(client.info("stats")["evicted_keys"]) - evicted_before

    def alive(group):
        return [bool(r) for r in _pipelined(client, [lambda p, k=k: p.exists(k) for k in group])]

    return Survival(
        alive(cold), alive(hot), alive(new), evicted, len(errors), str(errors[0]) if errors else ""
    )


def true_lru(survival):
    """The same run under true LRU: exactly the least recently used keys are gone."""
    order = survival.in_access_order
    gone = min(survival.evicted, len(order))
    return [False] * gone + [True] * (len(order) - gone)


def _shade(share):
    if share == 1:
        return "█"
    if share >= 0.6:
        return "▓"
    if share >= 0.4:
        return "▒"
    return "░" if share > 0 else "·"


def picture(alive, width=30, per_cell=5):
    """Rows of characters: each cell stands for `per_cell` keys, shaded by how many survive."""
    cells = []
    for start in range(0, len(alive), per_cell):
        group = alive[start : start + per_cell]
        share = sum(group) / len(group)
        cells.append(
            "█"
            if share == 1
            else "▓"
            if share >= 0.6
            else "▒"
            if share >= 0.4
            else "░"
            if share > 0
            else "·"
        )
    return tuple("".join(cells[row : row + width]) for row in range(0, len(cells), width))
