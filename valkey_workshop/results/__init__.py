"""What the use cases return: light data types, each with its messages and exit code.

Rendering and the CLI import these without importing what produced them (the runner, the fork
server, the class code), so ``workshop --help`` and a Tab press stay fast.
"""
