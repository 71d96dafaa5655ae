"""``python -m configlab.cli``: the same as ``python -m configlab`` and the ``configlab`` command
(the developers' guide and older notes use this spelling)."""

from configlab.cli import main

if __name__ == "__main__":
    main()
