"""``python -m runsite``: the same as the ``runsite`` command."""

from runsite.cli import main

main()
