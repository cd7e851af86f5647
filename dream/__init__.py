"""The machinery behind gd.py, in small files named for what they are (in the spirit of lucent).

gd.py imports from here, never the other way round:

* ``objectives`` — what to maximize: ClassLogit, the course's loss, LayerChannel/Unit/Dream;
* ``param``      — the image's parameterization: octave sizes, and the matrices that resize,
                   roll (jitter) and normalize it for the network and pull the gradient back;
* ``transforms`` — normalization, jitter, Gaussian blur, and the in-place trick steps
                   (ascent step, weight decay, blur, clamp);
* ``models``     — the embedded digits CNNs (robust and standard), their hashes, VGG-13-BN,
                   ``load_model``, and recognizing a model by what it contains;
* ``judges``     — the legibility judge ``recognize_digits`` (-1 = no digit), class
                   probability, robustness, measures of a picture;
* ``gallery``    — a PNG of tiles with labels, probabilities and readings;
* ``data``       — scikit-learn's bundled 8x8 digits as images.
"""
