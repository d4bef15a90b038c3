import json
import valkey

CACHE_TTL_SECONDS = 300
WRITE_QUEUE = "product:write-queue"
GROUP = "db-writers"
CONSUMER = "flusher"

def cache_key(product_id):
    return f"product:{product_id}:details"

def write_through(client, db, product_id, changes):
    rec = db.update_product(product_id, changes)
    client.execute_command("SET", cache_key(product_id), json.dumps(rec), "EX", CACHE_TTL_SECONDS)
    return rec

_WB = """
redis.call('XADD', KEYS[2], '*', 'product_id', ARGV[1], 'changes', ARGV[2])
local cur = redis.call('GET', KEYS[1])
if cur then
  local rec = cjson.decode(cur)
  local ch = cjson.decode(ARGV[2])
  for k, v in pairs(ch) do rec[k] = v end
  redis.call('SET', KEYS[1], cjson.encode(rec), 'KEEPTTL')
end
return 1
"""

def write_back(client, product_id, changes):
    client.eval(_WB, 2, cache_key(product_id), WRITE_QUEUE, product_id, json.dumps(changes))

class _Flusher:
    def __init__(self, client, db):
        self.client, self.db, self.applied = client, db, 0
    def ensure_group(self):
        try:
            self.client.execute_command("XGROUP", "CREATE", WRITE_QUEUE, GROUP, "0", "MKSTREAM")
        except valkey.ResponseError as e:
            if "BUSYGROUP" not in str(e):
                raise
    def drain(self, start):
        while True:
            resp = self.client.xreadgroup(GROUP, CONSUMER, {WRITE_QUEUE: start}, count=50)
            entries = resp[0][1] if resp else []
            entries = [e for e in entries if e[1]]
            if not entries:
                return
            for eid, fields in entries:
                self.db.update_product(fields["product_id"], json.loads(fields["changes"]))
                self.client.xack(WRITE_QUEUE, GROUP, eid)
                self.applied += 1
            if start != ">":
                start = entries[-1][0]

def flush_write_queue(client, db):
    f = _Flusher(client, db)
    f.ensure_group()
    f.drain("0")
    f.drain(">")
    info = client.xinfo_stream(WRITE_QUEUE)
    client.xtrim(WRITE_QUEUE, minid=info["last-generated-id"])
    return f.applied
