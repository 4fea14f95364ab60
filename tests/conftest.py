import os
import sys

# make the test utilities (enumeration.py) importable as plain modules
sys.path.insert(0, os.path.dirname(__file__))
