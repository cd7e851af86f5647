"""Support code for Backprop Lab: gradient checks, the mlp.py self-check, plotting helpers.

The course-facing modules are ``mlp.py`` and ``gd.py`` at the top of the repository;
everything here serves the notebooks, the tests and the command-line tools.
"""
