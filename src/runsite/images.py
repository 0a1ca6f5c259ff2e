"""``log_image``: a numpy array or a PIL image written as an image file (owns Pillow).

Arrays are converted as MLflow converts them: 2-D (grey) or 3-D with 1, 3 or 4 channels;
integers must lie in [0, 255]; floats and booleans are taken as [0, 1] and scaled to
0–255 (floats outside [0, 1] are min-max rescaled first, with a warning).
"""

from __future__ import annotations

import io
import warnings
from typing import Any

from runsite.errors import InvalidInput


def _pil() -> Any:
    try:
        from PIL import Image
    except ImportError:
        raise InvalidInput(
            "log_image needs Pillow to write an array: pip install 'runsite[images]'"
        ) from None
    return Image


def _to_pil(array: Any) -> Any:
    kind = getattr(getattr(array, "dtype", None), "kind", None)
    if kind not in ("b", "i", "u", "f"):
        dtype = getattr(array, "dtype", type(array).__name__)
        raise InvalidInput(f"log_image: an array of bool, integers or floats, got {dtype}")
    shape = tuple(array.shape)
    if len(shape) not in (2, 3):
        raise InvalidInput(f"log_image: the array must be 2-D or 3-D, got shape {shape}")
    if len(shape) == 3 and shape[2] not in (1, 3, 4):
        raise InvalidInput(f"log_image: {shape[2]} channels; use 1, 3 or 4")
    if len(shape) == 3 and shape[2] == 1:
        array = array[:, :, 0]
    integer = kind in ("i", "u")
    low, high = array.min(), array.max()
    if low < 0 or high > (255 if integer else 1):
        if integer:
            raise InvalidInput(
                f"log_image: integer pixel values must lie in [0, 255], found {low}..{high}"
            )
        warnings.warn(
            f"log_image: float pixel values {low}..{high} are outside [0, 1]; rescaled "
            "with a min/max scaler",
            stacklevel=3,
        )
        array = (array - low) / (high - low)
    if not integer:
        array = array * 255
    return _pil().fromarray(array.astype("uint8"))


def encode_image(image: Any, artifact_file: str) -> bytes:
    """The bytes of ``image`` (a PIL image, or an array) in the format of the file's
    extension (PNG when it has none Pillow knows)."""
    if not (hasattr(image, "save") and hasattr(image, "size")):
        image = _to_pil(image)
    ext = "." + artifact_file.rsplit(".", 1)[-1].lower() if "." in artifact_file else ""
    fmt = _pil().registered_extensions().get(ext, "PNG")
    buf = io.BytesIO()
    image.save(buf, format=fmt)
    return buf.getvalue()
