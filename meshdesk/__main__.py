import sys

from meshdesk.cli import main

sys.exit(main())
