"""Staff-written HTML is sanitised on every write path; uploads are validated and cleaned."""

from __future__ import annotations

import io
import json
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from PIL import ExifTags, Image, features

from projects.models import Photo, Project, Section
from projects.services.images import rendition_names
from tests.conftest import jpeg_bytes
from tests.factories import SectionFactory, ThreatFactory
from tests.projects.conftest import (
    add_inline,
    admin_form_data,
    form_errors,
    image_bytes,
    media_files,
)

HOSTILE_BODY = (
    '<p>Intro <em>kept</em> and <a href="https://example.org/more" onclick="steal()">a link</a>.'
    "</p><script>alert(1)</script>"
    '<img src="x" onerror="alert(2)">'
    '<p onmouseover="alert(3)">hover <strong>me</strong></p>'
    '<a href="javascript:alert(4)">bad link</a>'
    '<iframe src="https://evil.example/"></iframe>'
    "<style>body { display: none }</style>"
)


def _assert_hostile_markup_gone(html: str) -> None:
    for needle in [
        "alert(",
        "<script>",
        "onerror",
        "onclick",
        "onmouseover",
        "javascript:",
        "<iframe",
        "evil.example",
        "display: none",
    ]:
        assert needle not in html, needle


def _assert_allowed_markup_kept(html: str) -> None:
    assert "<em>kept</em>" in html
    assert "<strong>me</strong>" in html
    assert (
        '<a href="https://example.org/more" rel="noopener noreferrer nofollow">a link</a>' in html
    )
    assert "<p>" in html


def _section_html(page: str) -> str:
    """The rich-text part of the page (the page itself legitimately loads a script)."""
    return page.split('<div class="rich-text">', 1)[1].split("</div>", 1)[0]


# --- Rich text ------------------------------------------------------------------------------


def test_section_saved_through_the_model_is_sanitised(client: Client, project: Project) -> None:
    section = Section.objects.create(project=project, title="Habitat", body=HOSTILE_BODY)
    section.refresh_from_db()
    _assert_hostile_markup_gone(section.body)
    _assert_allowed_markup_kept(section.body)

    page = client.get(project.get_absolute_url()).content.decode()
    _assert_hostile_markup_gone(page)
    rich = _section_html(page)
    _assert_allowed_markup_kept(rich)


def test_section_saved_through_the_admin_is_sanitised(
    editor_client: Client, project: Project
) -> None:
    url = f"/admin/projects/project/{project.pk}/change/"
    data = admin_form_data(editor_client.get(url).content.decode())
    add_inline(
        data,
        "sections",
        {"title_en": "Habitat", "lead_en": "", "body_en": HOSTILE_BODY, "order": "0"},
    )
    response = editor_client.post(url, data)
    assert response.status_code == 302, form_errors(response.content.decode())
    section = Section.objects.get(project=project)
    _assert_hostile_markup_gone(section.body)
    _assert_allowed_markup_kept(section.body)

    page = Client().get(project.get_absolute_url()).content.decode()
    _assert_hostile_markup_gone(page)
    _assert_allowed_markup_kept(_section_html(page))


def test_section_loaded_from_a_fixture_is_sanitised(
    client: Client, project: Project, tmp_path: Path
) -> None:
    """loaddata saves raw (it skips Model.save()); the body must still be cleaned."""
    fixture = tmp_path / "sections.json"
    fixture.write_text(
        json.dumps(
            [
                {
                    "model": "projects.section",
                    "pk": 9001,
                    "fields": {
                        "project": project.pk,
                        "title": "Imported",
                        "lead": "",
                        "body": HOSTILE_BODY,
                        "order": 0,
                    },
                }
            ]
        )
    )
    call_command("loaddata", str(fixture), verbosity=0)
    _assert_hostile_markup_gone(Section.objects.get(pk=9001).body)
    page = client.get(project.get_absolute_url()).content.decode()
    _assert_hostile_markup_gone(page)
    _assert_allowed_markup_kept(_section_html(page))


def test_plain_text_fields_are_escaped(client: Client, project: Project) -> None:
    SectionFactory.create(
        project=project, title="<script>alert(5)</script>", lead="<b onclick=x()>lead</b>", body=""
    )
    ThreatFactory.create(project=project, title="<img src=x onerror=alert(6)>")
    page = client.get(project.get_absolute_url()).content.decode()
    assert "&lt;script&gt;alert(5)&lt;/script&gt;" in page
    assert "&lt;b onclick=x()&gt;lead&lt;/b&gt;" in page
    assert "&lt;img src=x onerror=alert(6)&gt;" in page
    assert "<img src=x" not in page and "<script>alert" not in page


# --- Uploads --------------------------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def bomb_png(width: int, height: int) -> bytes:
    """A valid 1-bit greyscale PNG of the given size; all black, so it compresses to little."""
    row = b"\x00" + bytes((width + 7) // 8)  # filter byte, then the packed pixels
    compressor = zlib.compressobj(9)
    rows_per_chunk = max(1, 1_000_000 // len(row))
    chunks, rest = divmod(height, rows_per_chunk)
    block = row * rows_per_chunk
    idat = (
        b"".join(compressor.compress(block) for _ in range(chunks))
        + compressor.compress(row * rest)
        + compressor.flush()
    )
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def truncated_jpeg() -> bytes:
    whole = image_bytes(800, 600, noise=True)
    return whole[: len(whole) // 2]


def _post_photo(client: Client, project: Project, name: str, content: bytes) -> tuple[int, str]:
    url = f"/admin/projects/project/{project.pk}/change/"
    data = admin_form_data(client.get(url).content.decode())
    add_inline(
        data,
        "photos",
        {
            "image": SimpleUploadedFile(name, content, content_type="image/jpeg"),
            "caption_en": "Upload",
            "alt_text_en": "An upload",
            "order": "0",
        },
    )
    response = client.post(url, data)
    return response.status_code, response.content.decode()


@pytest.mark.parametrize(
    ("name", "make_content", "message"),
    [
        (
            "report.jpg",
            lambda: b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n" * 20,
            "This file is not an image. Upload a JPEG, PNG, WebP or GIF photo.",
        ),
        ("cut.jpg", truncated_jpeg, "This image is damaged or incomplete ("),
        (
            # Past Pillow's own MAX_IMAGE_PIXELS (and twice it): 20,000 × 20,000.
            "bomb.png",
            lambda: bomb_png(20_000, 20_000),
            "This image is too large to process safely (decompression bomb).",
        ),
        (
            # Under Pillow's limit but over the site's 40 Mpx (IMAGE_MAX_PIXELS).
            "huge.png",
            lambda: bomb_png(8_000, 6_000),
            "This image is 8000 × 6000 pixels; the limit is 40 megapixels.",
        ),
        (
            # The audit's cases: within the pixel budget, no photo, and past JPEG's limits.
            "line.png",
            lambda: bomb_png(39_000_000, 1),
            "This image is 39000000 × 1 pixels; photos may be at most 12,000 pixels on a side",
        ),
        (
            "column.png",
            lambda: bomb_png(1, 39_000_000),
            "This image is 1 × 39000000 pixels; photos may be at most 12,000 pixels on a side",
        ),
        (
            "strip.png",
            lambda: bomb_png(8_000, 300),
            "and at most 20 times as long as they are wide.",
        ),
        (
            "scan.bmp",
            lambda: image_bytes(200, 100, fmt="BMP"),
            "BMP images are not accepted; upload a JPEG, PNG, WebP or GIF.",
        ),
    ],
    ids=[
        "not-an-image",
        "truncated-jpeg",
        "decompression-bomb",
        "over-pixel-limit",
        "39M-by-1",
        "1-by-39M",
        "too-narrow",
        "bmp",
    ],
)
def test_bad_uploads_are_refused_with_a_clear_message(
    editor_client: Client, project: Project, name: str, make_content: Any, message: str
) -> None:
    content = make_content()
    if name.endswith(".png"):
        assert len(content) < 200_000  # a bomb is small on disk
    status, html = _post_photo(editor_client, project, name, content)
    assert status == 200
    assert "Please correct the error below." in html or "Please correct the errors below." in html
    assert message in html
    assert not Photo.objects.exists()
    assert media_files() == []


def test_oversized_upload_is_refused_before_decoding(
    editor_client: Client, project: Project, settings: Any
) -> None:
    settings.IMAGE_MAX_UPLOAD_BYTES = 1_048_576
    content = image_bytes(1600, 1000, noise=True, quality=95)
    assert len(content) > settings.IMAGE_MAX_UPLOAD_BYTES
    status, html = _post_photo(editor_client, project, "big.jpg", content)
    assert status == 200
    size = f"{len(content) / 1_048_576:.1f}"
    assert f"This file is {size} MB; photos may be at most 1 MB." in html
    assert not Photo.objects.exists()
    assert media_files() == []


def test_pixel_limit_comes_from_settings(
    editor_client: Client, project: Project, settings: Any
) -> None:
    settings.IMAGE_MAX_PIXELS = 1_000_000
    status, html = _post_photo(editor_client, project, "ok.jpg", jpeg_bytes(1200, 1000))
    assert status == 200
    assert "This image is 1200 × 1000 pixels; the limit is 1 megapixels." in html
    assert not Photo.objects.exists()


def test_bad_hero_image_is_refused_on_the_project_form(
    editor_client: Client, project: Project
) -> None:
    url = f"/admin/projects/project/{project.pk}/change/"
    data = admin_form_data(editor_client.get(url).content.decode())
    data["hero_image"] = SimpleUploadedFile("hero.jpg", b"not an image at all", "image/jpeg")
    data["hero_alt_en"] = "A valley"
    html = editor_client.post(url, data).content.decode()
    assert "This file is not an image." in html
    project.refresh_from_db()
    assert not project.hero_image
    assert media_files() == []


def test_hero_image_needs_alt_text(editor_client: Client, project: Project) -> None:
    url = f"/admin/projects/project/{project.pk}/change/"
    data = admin_form_data(editor_client.get(url).content.decode())
    data["hero_image"] = SimpleUploadedFile("hero.jpg", jpeg_bytes(), "image/jpeg")
    html = editor_client.post(url, data).content.decode()
    assert "Describe the hero photo for people who cannot see it." in html
    project.refresh_from_db()
    assert not project.hero_image


GPS = {
    ExifTags.GPS.GPSLatitudeRef: "S",
    ExifTags.GPS.GPSLatitude: (13.0, 5.0, 30.0),
    ExifTags.GPS.GPSLongitudeRef: "W",
    ExifTags.GPS.GPSLongitude: (71.0, 33.0, 0.0),
}


@pytest.fixture
def rotated_upload(editor_client: Client, project: Project) -> Photo:
    """A 1200×800 camera JPEG saying "rotate 90° clockwise", with a GPS position."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "FieldCam"
    exif[ExifTags.IFD.GPSInfo] = GPS
    content = image_bytes(1200, 800, exif=exif)
    with Image.open(io.BytesIO(content)) as before:  # the test file really carries them
        assert before.size == (1200, 800)
        assert before.getexif()[ExifTags.Base.Orientation] == 6
        assert before.getexif().get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] == "S"
    status, html = _post_photo(editor_client, project, "camera.jpg", content)
    assert status == 302, form_errors(html)
    return Photo.objects.get(project=project)


def _stored(name: str | None) -> Path:
    assert name
    from django.conf import settings

    return Path(settings.MEDIA_ROOT) / name


def _pixel(image: Image.Image, xy: tuple[int, int]) -> tuple[int, ...]:
    value = image.getpixel(xy)
    assert isinstance(value, tuple)
    return tuple(int(v) for v in value)


def test_exif_orientation_is_applied(rotated_upload: Photo) -> None:
    photo = rotated_upload
    assert (photo.width, photo.height) == (800, 1200)
    with Image.open(_stored(photo.image.name)) as stored:
        assert stored.size == (800, 1200)
        rgb = stored.convert("RGB")
        # The red marker in the source's top-left corner is now top-right, as displayed.
        r, g, _ = _pixel(rgb, (790, 10))
        assert r > 200 and g < 80
        r, g, _ = _pixel(rgb, (10, 10))
        assert r < 100 and g > 90
    assert set(photo.renditions["jpeg"]) == {"480"}
    with Image.open(_stored(photo.renditions["jpeg"]["480"])) as small:
        assert small.size == (480, 720)
    for key in ("webp", *(("avif",) if features.check("avif") else ())):
        for width, height in [(480, 720), (800, 1200)]:
            with Image.open(_stored(photo.renditions[key][str(width)])) as modern:
                assert modern.format == key.upper() and modern.size == (width, height)


def test_gps_and_other_metadata_are_stripped(rotated_upload: Photo) -> None:
    names = [str(rotated_upload.image.name), *rendition_names(rotated_upload.renditions)]
    # The original, one JPEG rendition and each modern format at two widths.
    assert len(names) == 2 + 2 * (2 if features.check("avif") else 1)
    for name in names:
        raw = _stored(name).read_bytes()
        assert b"Exif\x00\x00" not in raw
        assert b"FieldCam" not in raw
        with Image.open(io.BytesIO(raw)) as stored:
            exif = stored.getexif()
            assert not exif.get_ifd(ExifTags.IFD.GPSInfo)
            assert ExifTags.Base.Orientation not in exif  # no second rotation by viewers
            assert len(exif) == 0
    # Every file on disk is one of the photo's: nothing else kept the original.
    assert {p.name for p in media_files()} == {Path(n).name for n in names}


def _srgb_profile() -> bytes:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _with_app13(jpeg: bytes, payload: bytes) -> bytes:
    """Insert an IPTC (Photoshop APP13) segment after the JPEG's start marker."""
    body = (
        b"Photoshop 3.0\x00" + b"8BIM\x04\x04\x00\x00" + struct.pack(">I", len(payload)) + payload
    )
    return jpeg[:2] + b"\xff\xed" + struct.pack(">H", len(body) + 2) + body + jpeg[2:]


SECRETS = [b"secret-comment", b"secret-xmp", b"secret-iptc", b"secret-png-text"]


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_text_metadata_is_stripped_and_the_colour_profile_kept(
    editor_client: Client, project: Project, fmt: str
) -> None:
    icc = _srgb_profile()
    source = Image.new("RGBA" if fmt == "PNG" else "RGB", (1200, 800), (30, 90, 60, 255))
    out = io.BytesIO()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">secret-xmp</x:xmpmeta>'
    if fmt == "JPEG":
        source.save(out, format="JPEG", comment=b"secret-comment", xmp=xmp, icc_profile=icc)
        content = _with_app13(out.getvalue(), b"\x1c\x02\x78\x00\x0bsecret-iptc")
    else:
        from PIL.PngImagePlugin import PngInfo

        text = PngInfo()
        text.add_text("Comment", "secret-png-text")
        text.add_itxt("XML:com.adobe.xmp", "secret-xmp")
        source.save(out, format="PNG", pnginfo=text, icc_profile=icc)
        content = out.getvalue()
    assert sum(secret in content for secret in SECRETS) >= 2  # the control: they are there
    status, html = _post_photo(editor_client, project, f"meta.{fmt.lower()}", content)
    assert status == 302, form_errors(html)
    photo = Photo.objects.get(project=project)
    names = [str(photo.image.name), *rendition_names(photo.renditions)]
    # The original, two fallback renditions (480, 960) and each modern format (WebP, AVIF
    # where Pillow has it) at those widths and the original's 1200.
    assert len(names) == 3 + 3 * (2 if features.check("avif") else 1)
    for name in names:
        raw = _stored(name).read_bytes()
        for secret in SECRETS:
            assert secret not in raw, (name, secret)
        assert b"\xff\xfe" not in raw[:2000] if fmt == "JPEG" else True  # no COM segment
        with Image.open(io.BytesIO(raw)) as stored:
            assert stored.info.get("icc_profile") == icc, name  # colours as meant
            assert "comment" not in stored.info and "xmp" not in stored.info


def test_a_cmyk_profile_is_not_kept_on_rgb_pixels(editor_client: Client, project: Project) -> None:
    cmyk = Image.new("CMYK", (800, 600), (0, 80, 80, 10))
    out = io.BytesIO()
    fake_cmyk_profile = bytes(16) + b"CMYK" + bytes(108)
    cmyk.save(out, format="JPEG", icc_profile=fake_cmyk_profile)
    status, html = _post_photo(editor_client, project, "print.jpg", out.getvalue())
    assert status == 302, form_errors(html)
    photo = Photo.objects.get(project=project)
    with Image.open(_stored(photo.image.name)) as stored:
        assert stored.mode == "RGB"
        assert "icc_profile" not in stored.info
