import sys

from pointwise.cli import main

sys.exit(main())
