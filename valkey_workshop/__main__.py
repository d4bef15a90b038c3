"""``python -m valkey_workshop`` runs the ``workshop`` command line."""

from valkey_workshop.cli.entry import main

if __name__ == "__main__":
    main()
