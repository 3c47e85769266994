"""Images are stored re-encoded from their pixels: EXIF (GPS position, camera serial, date),
XMP, IPTC and comments are left behind, and so is anything smuggled after the image data.
The EXIF orientation is applied to the pixels first, so a phone photo stays upright."""

from __future__ import annotations

import io
import warnings
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from storage.kinds import JPEG, PNG, WEBP, FileKind

# A decompression bomb (a small file of huge dimensions) is refused before it is decoded.
MAX_PIXELS = 40_000_000


class BadImage(ValueError):
    """The bytes claim an image that cannot be decoded, or one too large to decode safely.
    `message` is a msgid of the catalogue (access/locales), `params` its parameters: the
    resolver that reports it translates it (tests/i18n reads the calls)."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


def without_metadata(data: bytes, kind: FileKind) -> bytes:
    """`data` (of image `kind`) re-encoded in the same format with no metadata."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as opened:
                width, height = opened.size
                if width * height > MAX_PIXELS:
                    raise BadImage("The image is larger than {maxPixels} pixels.", maxPixels=MAX_PIXELS)
                opened.load()
                image = ImageOps.exif_transpose(opened)
                return _encode(image, kind)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise BadImage("The image is larger than {maxPixels} pixels.", maxPixels=MAX_PIXELS) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, BadImage):
            raise
        raise BadImage("The image cannot be read.") from exc


def _encode(image: Image.Image, kind: FileKind) -> bytes:
    out = io.BytesIO()
    # The pixels (and a palette's transparency) alone: no exif, icc, xmp or comment carried over.
    clean = image.copy()
    transparency = image.info.get("transparency")
    clean.info = {"transparency": transparency} if transparency is not None and kind == PNG else {}
    if kind == PNG:
        clean.save(out, format="PNG", optimize=True)
    elif kind == JPEG:
        if clean.mode not in ("RGB", "L"):
            clean = clean.convert("RGB")
        clean.save(out, format="JPEG", quality=90)
    elif kind == WEBP:
        clean.save(out, format="WEBP", quality=90)
    else:
        raise BadImage("{contentType} is not an image.", contentType=kind.content_type)
    return out.getvalue()
