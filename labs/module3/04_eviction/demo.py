"""Demo 04: eviction on the live server: noeviction's OOM, allkeys-lru, volatile-lru without
TTLs, sampled LRU against true LRU, and LFU counters."""

from pathlib import Path

from valkey_workshop.demo import Picture
from valkey_workshop.pyfile import load_file_as_module

lru = load_file_as_module(Path(__file__).with_name("lru_experiment.py"), "workshop_lru_experiment")

PREFIX = "workshop:demo:evict:"


def run(demo):
    client = demo.client  # the server guard refuses a server holding others' data
    saved = lru.snapshot(client)
    try:
        _defaults(demo)
        _limits(demo)
        _survival(demo)
        _lfu(demo)
    finally:
        lru.restore(client, saved)
        lru.delete_prefix(client, PREFIX)
    demo.show("settings restored", lru.snapshot(client))


def _defaults(demo):
    demo.heading("1. Out of the box, Valkey never evicts")
    settings = demo.client.config_get("maxmemory*")
    memory = demo.client.info("memory")
    demo.table(
        "This server's settings",
        ["setting", "value"],
        [
            ["maxmemory", f"{settings['maxmemory']} (0 = no limit)"],
            ["maxmemory-policy", settings["maxmemory-policy"]],
            ["maxmemory-samples", settings["maxmemory-samples"]],
            ["used_memory (empty server)", memory["used_memory_human"]],
        ],
    )
    demo.say("A cache needs **both** a `maxmemory` limit and an eviction policy.")


def _fill_until_refused(demo, start, count):
    """Write up to `count` keys; return (keys written, first error or None)."""
    pipe_size = 100
    for first in range(start, start + count, pipe_size):
        pipe = demo.client.pipeline(transaction=False)
        for i in range(first, first + pipe_size):
            pipe.set(f"{PREFIX}{i:06d}", "v" * 100)
        replies = pipe.execute(raise_on_error=False)
        errors = [r for r in replies if isinstance(r, Exception)]
        if errors:
            return first - start + replies.index(errors[0]), errors[0]
    return count, None


def _limits(demo):
    client = demo.client
    used = int(client.info("memory")["used_memory"])
    limit = used + 1024 * 1024
    demo.heading(f"2. maxmemory = used_memory + 1 MB = {limit:,} bytes, policy noeviction")
    client.config_set("maxmemory", limit)
    client.config_set("maxmemory-policy", "noeviction")
    evicted = int(client.info("stats")["evicted_keys"])
    written, error = _fill_until_refused(demo, 0, 40_000)
    demo.show("keys written before the first refusal", written)
    demo.server_reply("the refusal", error or "none")
    demo.show("reads still work: GET", client.get(f"{PREFIX}000000"))
    demo.show("evicted_keys grew by", int(client.info("stats")["evicted_keys"]) - evicted)

    demo.heading("3. allkeys-lru: the same writes now evict old keys")
    client.config_set("maxmemory-policy", "allkeys-lru")
    evicted = int(client.info("stats")["evicted_keys"])
    more, error = _fill_until_refused(demo, 100_000, 3_000)
    demo.show("more keys written", more)
    demo.show("errors", error or "none")
    demo.show("evicted_keys grew by", int(client.info("stats")["evicted_keys"]) - evicted)

    demo.heading("4. volatile-lru: only keys with a TTL may go, and none has one")
    client.config_set("maxmemory-policy", "volatile-lru")
    evicted = int(client.info("stats")["evicted_keys"])
    more, error = _fill_until_refused(demo, 200_000, 1_000)
    demo.server_reply("the refusal", error or "none")
    demo.show("evicted_keys grew by", int(client.info("stats")["evicted_keys"]) - evicted)
    lru.delete_prefix(client, PREFIX)


def _survival(demo):
    client = demo.client
    samples_to_show = (5,) if demo.quick else (1, 5, 10)
    demo.heading("5. Sampled LRU against true LRU")
    demo.say(
        "Each run: fill 1,200 keys last used ten minutes ago (`RESTORE ... IDLETIME 600` sets "
        "a key's age, so nobody waits for the LRU clock, which counts whole seconds); read "
        "every other one again (hot); then write 720 new keys past `maxmemory` under "
        "`allkeys-lru`. Valkey does not keep keys sorted by age: it samples "
        "`maxmemory-samples` keys and evicts the oldest of them."
    )
    pictures, rows = [], []
    last = None
    for samples in samples_to_show:

        def configure(limit, samples=samples):
            client.config_set("maxmemory", limit)
            client.config_set("maxmemory-policy", "allkeys-lru")
            client.config_set("maxmemory-samples", samples)

        result = lru.run(client, PREFIX, configure)
        last = result
        pictures.append(demo_picture(f"samples {samples}", result.in_access_order))
        rows.append(
            [
                f"samples {samples}",
                str(result.evicted),
                f"{result.rate(result.cold):.0%}",
                f"{result.rate(result.hot):.0%}",
                f"{result.rate(result.new):.0%}",
            ]
        )
        lru.delete_prefix(client, PREFIX)
    ideal = lru.true_lru(last)
    pictures.insert(0, demo_picture("true LRU", ideal))
    demo.pictures(
        "Which keys survived (oldest top left, newest bottom right: cold, hot, new)",
        pictures,
        "█ all 5 keys of a cell survived  ▓ most  ▒ half  ░ few  · none",
    )
    demo.table("Survival by group", ["run", "evicted", "cold kept", "hot kept", "new kept"], rows)
    demo.say(
        "With 1 sample eviction is random; with 5 (the default) hot keys mostly survive; 10 comes "
        "closer to true LRU for more CPU per eviction."
    )


def demo_picture(title, alive):
    return Picture(title, lru.picture(alive))


def _lfu(demo):
    client = demo.client
    demo.heading("6. LFU: how often, not how recently")
    client.config_set("maxmemory", 0)
    client.config_set("maxmemory-policy", "allkeys-lfu")
    reads = {"hot": 1000, "popular": 200, "occasional": 10, "new": 0}
    for name, count in reads.items():
        key = f"{PREFIX}lfu:{name}"
        client.set(key, name)
        pipe = client.pipeline(transaction=False)
        for _ in range(count):
            pipe.get(key)
        pipe.execute()
    freqs = {name: int(client.object("freq", f"{PREFIX}lfu:{name}")) for name in reads}
    demo.table(
        "OBJECT FREQ under allkeys-lfu (a logarithmic counter, lfu-log-factor "
        f"{client.config_get('lfu-log-factor')['lfu-log-factor']})",
        ["key", "reads", "OBJECT FREQ"],
        [[name, str(count), str(freqs[name])] for name, count in reads.items()],
    )
    decay = int(client.config_get("lfu-decay-time")["lfu-decay-time"])
    if decay > 0:
        level_minutes = max(0, freqs["hot"] - freqs["new"]) * decay
        demo.say(
            f"A new key starts at {freqs['new']}, so it is not evicted at once. The counter "
            f"also decays: `lfu-decay-time` {decay} takes 1 off for every {decay} minute(s) "
            f"without a read. The key read {reads['hot']:,} times (counter {freqs['hot']}) "
            f"would fall to a new key's {freqs['new']} after {level_minutes} idle minutes and "
            f"below it after {level_minutes + decay}: LFU ranks by how often keys were read "
            "lately, not over all time."
        )
    try:
        client.object("idletime", f"{PREFIX}lfu:new")
    except Exception as error:  # the server's refusal is the lesson here
        demo.server_reply("OBJECT IDLETIME under LFU", error)
