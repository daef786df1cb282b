"""``python -m gan_helpers COMMAND ...``: the command line (see ``gan_helpers.cli``)."""

import sys

from gan_helpers.cli import main

if __name__ == "__main__":
    sys.exit(main())
