import sys

from meshdesk.launch import run

sys.exit(run())
