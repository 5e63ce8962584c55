"""``python3 -m dudao_client``: the same as the ``dudao-send-py`` command."""
import sys

from .cli import main

sys.exit(main())
