"""``python -m aigc_course``: see :mod:`aigc_course.cli`."""

import sys

from .cli import main

sys.exit(main())
