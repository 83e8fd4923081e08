"""``python -m featherflow``: the command line (see ``featherflow.cli``)."""

import sys

from featherflow.cli import main

if __name__ == "__main__":
    sys.exit(main())
