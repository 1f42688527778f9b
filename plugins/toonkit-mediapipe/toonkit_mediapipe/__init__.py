"""toonkit-mediapipe: MediaPipe's selfie segmentation as a person-mask teacher for toonkit.

Installing the package registers masker ``mediapipe_selfie`` (see :class:`MediaPipeSelfie`) through the
``toonkit`` entry point; ``toonkit data masks PHOTOS -o MASKS`` then writes person masks with it.
"""
from toonkit_mediapipe.masker import MediaPipeSelfie
from toonkit_mediapipe.model import SHA256, URL, ModelUnavailableError, model_path

__version__ = "0.1.0"
__all__ = ["SHA256", "URL", "MediaPipeSelfie", "ModelUnavailableError", "__version__", "model_path"]
