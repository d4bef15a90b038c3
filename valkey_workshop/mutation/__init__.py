"""Mutation testing of lab checks (``workshop verify --mutants``).

A reference solution is changed in one small, realistic way at a time (a *mutant*): a keyword
such as ``keepttl=True`` dropped, an atomic option replaced by a read and a write, a pipeline
executed once per command. The step's checks must reject every mutant, unless the step
declares it equivalent (still a right answer). A mutant that passes every check shows a part
of the contract no check proves.

- :mod:`.operators`: the mutation operators and the generator (ids, one edit per mutant);
- :mod:`.engine`: runs the mutants through the step's checks (fastest first, stopping at the
  first failure: a ``CheckSelection`` in the checking job) and classifies each one.
"""
