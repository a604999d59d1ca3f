"""``python -m journey``: exit 0 when every step passes, 1 when one fails, 2 on usage errors."""

from journey.cli import main

raise SystemExit(main())
