"""toonkit-example: a template plugin package (copy it to start your own)."""
from toonkit_example.losses import CharbonnierLoss

__version__ = "0.1.0"
__all__ = ["CharbonnierLoss", "__version__"]
