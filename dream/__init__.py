"""The machinery behind gd.py, in small files named for what they are (in the spirit of lucent).

gd.py imports from here, never the other way round:

* ``data``      — scikit-learn's bundled 8x8 digits as images, the held-out split, random affines;
* ``judges``    — who reads a picture as a digit (with "no digit"), and measures of a picture
                  (high-frequency share, total variation);
"""
