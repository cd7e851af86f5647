"""``python -m grading mlp|gd PATH... [options]``: see grading/cli.py."""
import sys

from grading.cli import main

sys.exit(main())
