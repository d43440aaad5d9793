"""Small preview images: at most 480 px wide, JPEG (PNG when transparency matters)."""

import io
import warnings

from PIL import Image

MAX_WIDTH = 480
MAX_HEIGHT = 960
JPEG_QUALITY = 80


def thumbnail_from_image(image: Image.Image) -> tuple[bytes, str]:
    """Encoded bytes and extension ("jpg" or "png") of `image` shrunk to fit 480 x 960."""
    image.thumbnail((MAX_WIDTH, MAX_HEIGHT))
    out = io.BytesIO()
    if _has_alpha(image):
        image.convert("RGBA").save(out, "PNG", optimize=True)
        return out.getvalue(), "png"
    image.convert("RGB").save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue(), "jpg"


def thumbnail_from_bytes(data: bytes) -> tuple[bytes, str] | None:
    """A thumbnail of an encoded image, or None when it cannot be decoded safely.

    Images past Pillow's decompression-bomb limit are skipped rather than decoded.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as image:
                image.draft("RGB", (MAX_WIDTH * 2, MAX_HEIGHT * 2))  # JPEG: decode smaller
                image.load()
                return thumbnail_from_image(image)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Warning):
            return None


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in {"RGBA", "LA", "PA"} or (
        image.mode == "P" and "transparency" in image.info
    )
