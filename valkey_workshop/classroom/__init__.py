"""The classroom: learners' check results flow to a class server and the trainer watches a
live board.

- :mod:`.config`: the class (id, address, per-class ACL user names) and the join code;
- :mod:`.serve`: starting the class server with its users and memory cap; ending a class;
- :mod:`.relay`: the class server process's relay, the only writer of the class stream;
- :mod:`.events`: what an event may hold (the relay and the board apply the same rules);
- :mod:`.membership`: a learner's class, kept in the workdir, and publishing with an outbox;
- :mod:`.board`: the trainer's view, computed from the stream as data;
- :mod:`.trainer`: the trainer's use cases on a running class (board, say, clear).

What is sent: step, each check id with pass/fail, attempt, time spent, hints revealed,
backend and server version (the name is the one given at join). Never code, passwords or
file paths.
"""
