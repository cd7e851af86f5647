#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (Ubuntu 22.04 by default;
# the source is in /autograder/source). It makes a Python 3.11 virtual environment in
# /autograder/venv with the CPU build of torch and what the checker imports.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# Python 3.11 (the project's; Ubuntu 22.04's own python3 is 3.10) and its venv module.
apt-get install -y -q python3.11 python3.11-venv python3-pip \
  || apt-get install -y -q python3 python3-venv python3-pip
# bubblewrap: the sandbox, where the container allows user namespaces (otherwise the checker falls
# back to process isolation and says so in its output).
apt-get install -y -q bubblewrap || echo "bubblewrap not installed: the checker will use process isolation"
PY="$(command -v python3.11 || command -v python3)"
"$PY" -m venv /autograder/venv
/autograder/venv/bin/pip install -q --upgrade pip
/autograder/venv/bin/pip install -q torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
/autograder/venv/bin/pip install -q -r /autograder/source/requirements-autograder.txt
/autograder/venv/bin/python -c "import torch, numpy, sklearn; print('torch', torch.__version__)"
