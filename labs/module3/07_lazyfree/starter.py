"""Step 07 · Lazy freeing

Check your work with:  workshop check module3 lazyfree
"""


def delete_in_background(client, key: str) -> None:
    """Remove `key` at once, leaving the freeing of its memory to a background thread, so that
    other clients are not kept waiting even when the value is huge."""
    # TODO
    raise NotImplementedError


def enable_lazy_freeing(client) -> None:
    """Turn on lazy freeing for evictions, expiries, server-side deletes, DEL and flushes."""
    # TODO: five lazyfree-lazy-* settings (see the lesson's table).
    raise NotImplementedError
