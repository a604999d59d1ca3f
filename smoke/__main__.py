"""``python -m smoke``: exit 0 when every check passes, 1 when one fails, 2 on usage errors."""

from smoke.cli import main

raise SystemExit(main())
