"""The interactive loops: ``workshop start`` and ``watch`` (the guided session and the
learner's key loop) and ``workshop demo`` (the presenter's). They sit above the use cases
(:mod:`valkey_workshop.commands`) and below the CLI, which only starts them."""
