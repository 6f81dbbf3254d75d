"""``python -m notifications reseal``: seal every webhook signing secret under
the first key of ``SECRETS_KEY``, with the app's settings.

After a key rotation (a new entry put first, the old one kept), run this once;
afterwards the old entry can be dropped from ``SECRETS_KEY``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from notifications.runtime import notifications


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m notifications", description=__doc__)
    parser.add_argument("command", choices=["reseal"])
    parser.parse_args(argv)
    services = notifications()
    changed = services.subscriptions.reseal()
    print(f"reseal: {changed} subscriptions sealed under key {services.settings.keyring.current!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
