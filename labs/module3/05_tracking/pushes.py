"""Reading RESP3 invalidation pushes from one connection (step 05's demo and checks).

valkey-py has no background reader: a push waits on the socket until someone reads it. Here
we read it ourselves, with a deadline, through the parser's invalidation handler.
"""

import time


def invalidated_keys(client, seconds=0.3):
    """Keys named by `invalidate` pushes on a single-connection RESP3 client within `seconds`.

    A flush arrives as an invalidation without keys; it is reported as '*'.
    """
    connection = client.connection
    if connection is None:
        raise ValueError("needs a client made with single_connection_client=True")
    keys = []

    def handler(message):
        named = message[1] if len(message) > 1 else None
        keys.extend(named if named else ["*"])

    connection._parser.set_invalidation_push_handler(handler)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if connection.can_read(timeout=0.05):
            connection.read_response(push_request=True)
    return keys
