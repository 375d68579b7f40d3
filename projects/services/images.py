"""Uploaded photos: validation, normalisation and responsive renditions (Pillow).

Every upload is decoded once, fully, under a pixel budget and side and shape limits,
re-encoded without metadata (EXIF, GPS, XMP, IPTC, JPEG comments and PNG text are dropped;
an RGB colour profile is kept, so colours look as the photographer meant) and with its EXIF
orientation applied. Renditions are made
from the normalised original at the widths in ``settings.IMAGE_RENDITION_WIDTHS``.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO, TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models.fields.files import FieldFile
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError, features

if TYPE_CHECKING:
    from projects.models import Photo, Project

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
# A photo at most this many times as long as it is wide (a 10:1 panorama passes).
IMAGE_MAX_ASPECT = 20


@dataclass(frozen=True)
class CleanImage:
    content: ContentFile[bytes]
    width: int
    height: int


def _header_check(image: Image.Image) -> None:
    """Refuse by the header's dimensions and format, before decoding: a bomb is small on disk."""
    longest, shortest = max(image.size), min(image.size)
    if longest > settings.IMAGE_MAX_SIDE or longest > IMAGE_MAX_ASPECT * shortest:
        # A 39,000,000 × 1 picture is within the pixel budget, but no photo, and
        # JPEG cannot hold a side over 65,535 pixels.
        raise ValidationError(
            "This image is %(w)s × %(h)s pixels; photos may be at most %(max)s pixels "
            "on a side and at most %(ratio)s times as long as they are wide.",
            code="dimensions",
            params={
                "w": image.width,
                "h": image.height,
                "max": f"{settings.IMAGE_MAX_SIDE:,}",
                "ratio": IMAGE_MAX_ASPECT,
            },
        )
    if image.width * image.height > settings.IMAGE_MAX_PIXELS:
        raise ValidationError(
            "This image is %(w)s × %(h)s pixels; the limit is %(max)s megapixels.",
            code="too_many_pixels",
            params={
                "w": image.width,
                "h": image.height,
                "max": settings.IMAGE_MAX_PIXELS // 1_000_000,
            },
        )
    if image.format not in ALLOWED_FORMATS:
        raise ValidationError(
            "%(format)s images are not accepted; upload a JPEG, PNG, WebP or GIF.",
            code="format",
            params={"format": image.format},
        )


def image_clean(file: IO[bytes], *, name: str) -> CleanImage:
    """Validate an upload and return a re-encoded copy, or raise ValidationError."""
    size = getattr(file, "size", None)
    if size is None:
        file.seek(0, io.SEEK_END)
        size = file.tell()
    if size > settings.IMAGE_MAX_UPLOAD_BYTES:
        raise ValidationError(
            "This file is %(size)s MB; photos may be at most %(max)s MB.",
            code="too_large",
            params={
                "size": f"{size / 1_048_576:.1f}",
                "max": f"{settings.IMAGE_MAX_UPLOAD_BYTES / 1_048_576:.0f}",
            },
        )
    file.seek(0)
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(file)
            _header_check(image)
            image.load()
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ValidationError(
            "This image is too large to process safely (decompression bomb).", code="bomb"
        ) from exc
    except UnidentifiedImageError as exc:
        raise ValidationError(
            "This file is not an image. Upload a JPEG, PNG, WebP or GIF photo.", code="not_image"
        ) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ValidationError(
            "This image is damaged or incomplete (%(error)s). Please export it again.",
            code="corrupt",
            params={"error": str(exc)[:80]},
        ) from exc

    source_mode = image.mode
    icc = image.info.get("icc_profile")
    image: Image.Image = ImageOps.exif_transpose(image) or image  # type: ignore[no-redef]
    has_alpha = image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info)
    out = io.BytesIO()
    stem = PurePosixPath(name).stem[:80] or "photo"
    if has_alpha:
        _save_clean(image.convert("RGBA"), out, "PNG", _rgb_profile(icc, source_mode))
        new_name = f"{stem}.png"
    else:
        _save_clean(image.convert("RGB"), out, "JPEG", _rgb_profile(icc, source_mode))
        new_name = f"{stem}.jpg"
    return CleanImage(ContentFile(out.getvalue(), name=new_name), image.width, image.height)


def _rgb_profile(icc: object, source_mode: str) -> bytes | None:
    """The upload's colour profile, if it still describes the RGB pixels we write: an RGB
    profile on an RGB(A) or palette image. A CMYK or grey profile would be wrong once the
    pixels are converted, so it is dropped (the pixels are then read as sRGB)."""
    # An ICC header is 128 bytes; bytes 16-19 name its colour space.
    if not isinstance(icc, bytes) or len(icc) < 20 or icc[16:20] != b"RGB ":  # noqa: PLR2004 - header offsets
        return None
    return icc if source_mode in {"RGB", "RGBA", "P", "RGBX"} else None


def _save_clean(image: Image.Image, out: IO[bytes], fmt: str, icc: bytes | None) -> None:
    """Write pixels and the colour profile, nothing else. Pillow carries some metadata over
    from what it read (a JPEG comment, XMP) when saving the same image, so info is emptied
    first; EXIF, GPS, IPTC and PNG text are never written because nothing passes them."""
    image.info = {}
    options: dict[str, object] = {"icc_profile": icc} if icc else {}
    if fmt == "PNG":
        image.save(out, format="PNG", optimize=True, **options)
    else:
        image.save(out, format="JPEG", quality=88, optimize=True, **options)


# Modern formats beside the JPEG (or PNG) fallback, best first: browsers take the first
# <source> type they support. AVIF only where this Pillow was built with it.
MODERN_FORMATS: tuple[tuple[str, str, dict[str, object]], ...] = (
    *((("avif", "AVIF", {"quality": 60, "speed": 6}),) if features.check("avif") else ()),
    ("webp", "WEBP", {"quality": 80, "method": 4}),
)
MIME_TYPES = {
    "avif": "image/avif",
    "webp": "image/webp",
    "jpeg": "image/jpeg",
    "png": "image/png",
}
# Modern copies are also made at the original's own width (so the largest <source>
# candidate is as sharp as the <img>), up to this width: a 6000 px upload is not worth it.
MODERN_MAX_WIDTH = 2400
SOCIAL_SIZE = (1200, 630)  # Open Graph and Twitter's summary_large_image


def _encode(
    image: Image.Image, fmt: str, icc: bytes | None = None, **options: object
) -> ContentFile[bytes]:
    """Pixels and the colour profile only, as _save_clean writes uploads: Pillow would carry
    a JPEG comment or XMP read from the original over into the copy."""
    image.info = {}
    if icc:
        options["icc_profile"] = icc
    out = io.BytesIO()
    image.save(out, format=fmt, **options)  # type: ignore[arg-type]
    return ContentFile(out.getvalue())


def renditions_build(field_file: FieldFile) -> dict[str, object]:
    """Write resized copies of a stored, already-clean image.

    Returns ``{"jpeg" (or "png"): {width: name}, "webp": {width: name}, "avif": {...}}``:
    the fallback format at the widths narrower than the original (the original itself is the
    widest fallback), each modern format at those widths and at the original's own width.
    Every key is the copy's true width, so a srcset made from it tells the truth.
    """
    with field_file.open("rb") as fh, Image.open(fh) as original:
        original.load()
        base = PurePosixPath(field_file.name or "image")
        icc = _rgb_profile(original.info.get("icc_profile"), original.mode)
        alpha = original.mode == "RGBA"
        fallback = "png" if alpha else "jpeg"
        renditions: dict[str, dict[str, str]] = {fallback: {}}
        widths = [w for w in settings.IMAGE_RENDITION_WIDTHS if w < original.width]
        modern_widths = sorted({*widths, min(original.width, MODERN_MAX_WIDTH)})
        for width in modern_widths:
            copy = original.copy()
            copy.thumbnail((width, IMAGE_MAX_ASPECT * width), Image.Resampling.LANCZOS)
            if not alpha:
                copy = copy.convert("RGB")
            if width in widths:
                if alpha:
                    content, ext = _encode(copy, "PNG", icc, optimize=True), "png"
                else:
                    content = _encode(copy, "JPEG", icc, quality=82, progressive=True)
                    ext = "jpg"
                target = f"{base.parent}/renditions/{base.stem}-{width}.{ext}"
                renditions[fallback][str(copy.width)] = default_storage.save(target, content)
            for key, fmt, options in MODERN_FORMATS:
                target = f"{base.parent}/renditions/{base.stem}-{width}.{key}"
                saved = default_storage.save(target, _encode(copy, fmt, icc, **options))
                renditions.setdefault(key, {})[str(copy.width)] = saved
    return dict(renditions)


def rendition_names(renditions: dict[str, object]) -> list[str]:
    """Every file name a renditions dict refers to (all formats, widths and the social card)."""
    names: list[str] = []
    for value in renditions.values():
        if isinstance(value, dict):
            names.extend(str(v) for v in value.values())
        elif isinstance(value, str):
            names.append(value)
    return names


def social_rendition_build(field_file: FieldFile) -> str:
    """A 1200x630 JPEG for link previews (Open Graph, Twitter cards): the photo scaled to
    cover that frame and cropped to it around the centre. JPEG, because not every service
    that fetches link previews reads WebP or AVIF."""
    with field_file.open("rb") as fh, Image.open(fh) as original:
        original.load()
        icc = _rgb_profile(original.info.get("icc_profile"), original.mode)
        card = ImageOps.fit(
            original.convert("RGB"), SOCIAL_SIZE, Image.Resampling.LANCZOS, centering=(0.5, 0.5)
        )
        base = PurePosixPath(field_file.name or "image")
        target = f"{base.parent}/renditions/{base.stem}-social.jpg"
        content = _encode(card, "JPEG", icc, quality=85, progressive=True)
        return default_storage.save(target, content)


def photo_renditions_refresh(*, photo: Photo) -> None:
    """Rebuild a gallery photo's renditions and stored dimensions after its image changed."""
    photo.renditions = renditions_build(photo.image)
    photo.width, photo.height = photo.image.width, photo.image.height
    photo.save(update_fields=["renditions", "width", "height"])


def project_hero_refresh(*, project: Project) -> None:
    """Rebuild the hero's renditions (responsive and social) and its stored dimensions."""
    if project.hero_image:
        project.hero_renditions = {
            **renditions_build(project.hero_image),
            "social": social_rendition_build(project.hero_image),
        }
        project.hero_width, project.hero_height = (
            project.hero_image.width,
            project.hero_image.height,
        )
    else:
        project.hero_renditions = {}
        project.hero_width = project.hero_height = 0
    project.save(update_fields=["hero_renditions", "hero_width", "hero_height"])
