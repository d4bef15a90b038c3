"""The classroom: learners' check results flow to a class server (a Valkey stream) and the
trainer watches a live board.

- :mod:`.config`: the class (id, address, ACL users) and the join code learners type;
- :mod:`.serve`: starting the class server with its ACL users;
- :mod:`.membership`: a learner's class, kept in the workdir, and publishing with an outbox;
- :mod:`.board`: the trainer's view, computed from the stream as data.

What is sent: learner name, step, each check id with pass/fail, attempt, time spent, hints
revealed, backend and server version. Never code, passwords or file paths.
"""
