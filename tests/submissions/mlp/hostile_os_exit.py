# Hostile: leaves the interpreter at import time (a checker running it in-process would "pass").
import os

os._exit(0)
