"""The package version, in its own module so that any layer can read it without importing the package
facade (``toonkit/__init__.py`` reaches up to translation for :func:`toonkit.load`)."""
__version__ = "0.1.0"
