"""pnetc: train ProjectionNet models and compile them to bit-exact C99."""

__version__ = "0.1.0"
