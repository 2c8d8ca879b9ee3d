"""python -m helm_flower"""

import sys

from helm_flower.cli import main

sys.exit(main())
