"""Reading RESP3 invalidation pushes from one connection (step 05's demo and checks).

valkey-py has no background reader: a push waits on the socket until someone reads it. Here
we read it ourselves, with a deadline, through the parser's invalidation handler.
"""

import time


class Invalidations:
    """Collects the keys named by `invalidate` pushes on a single-connection RESP3 client.

    The handler is installed at once, so a push that arrives while the connection reads a
    command's reply (its own write, say) is collected too. A flush arrives as an
    invalidation without keys; it is recorded as '*'.
    """

    def __init__(self, client):
        self.connection = client.connection
        if self.connection is None:
            raise ValueError("needs a client made with single_connection_client=True")
        self.keys = []
        self.connection._parser.set_invalidation_push_handler(self._handle)

    def _handle(self, message):
        named = message[1] if len(message) > 1 else None
        self.keys.extend(named if named else ["*"])

    def after_round_trip(self, expected, seconds=0.1):
        """Every key named once a PING on this connection has come back, waiting up to
        `seconds` more only while a key in `expected` is missing. The server writes its
        pending pushes (a broadcast's are sent before the next event loop turn) ahead of the
        PING's reply (2,000 of 2,000 tries here, a BCAST client's own write and another
        client's), so a write made before the PING whose push has not come by then is not
        reported: there is no need to wait long for it."""
        self.connection.send_command("PING")
        self.connection.read_response()  # the parser hands pushes to _handle on the way
        return self.wait_for(expected, seconds)

    def wait_for(self, expected=(), seconds=0.3):
        """Read pushes until every key in `expected` was named, or `seconds` passed (with
        nothing expected: read for the whole time). Returns every key named so far."""
        wanted = set(expected)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not (wanted and wanted <= set(self.keys)):
            if self.connection.can_read(timeout=0.02):
                self.connection.read_response(push_request=True)
        return list(self.keys)


def invalidated_keys(client, seconds=0.3):
    """Keys named by `invalidate` pushes on a single-connection RESP3 client within `seconds`."""
    return Invalidations(client).wait_for(seconds=seconds)
