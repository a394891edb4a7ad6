"""``python -m aigc_course.data prefetch``: the same as ``python -m aigc_course prefetch``."""

import sys

from ..cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["prefetch", "--help"]))
