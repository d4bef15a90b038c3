"""``python -m valkey_workshop`` runs the ``workshop`` command line."""

from valkey_workshop.cli.app import main

if __name__ == "__main__":
    main()
