"""``python -m configlab``: the same as the ``configlab`` command."""

from configlab.cli import main

if __name__ == "__main__":
    main()
