"""``python -m gan_course COMMAND ...``: the course's tools (see ``gan_course.cli``)."""

import sys

from gan_course.cli import main

if __name__ == "__main__":
    sys.exit(main())
