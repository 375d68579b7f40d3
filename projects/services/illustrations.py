"""Landscape illustrations for the demo project, drawn with Pillow.

The seed page's photographs are not ours to ship, so the demo draws a landscape for each:
layered ridges in aerial perspective, mist, a river, cloud-forest canopy, mining pools or a
village, from a fixed seed (the same picture every time). Captions and alt text say they
are illustrations."""

from __future__ import annotations

import io
import itertools
import random
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFilter

WIDTH, HEIGHT = 1600, 1000
Colour = tuple[int, int, int]


def _mix(a: Colour, b: Colour, t: float) -> Colour:
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def _ridge(rng: random.Random, base: float, rough: float, steps: int = 7) -> list[float]:
    """A ridge line by midpoint displacement: heights (0..HEIGHT) at evenly spaced x."""
    points = [base + rng.uniform(-rough, rough), base + rng.uniform(-rough, rough)]
    spread = rough
    for _ in range(steps):
        nxt = []
        for left, right in itertools.pairwise(points):
            nxt += [left, (left + right) / 2 + rng.uniform(-spread, spread)]
        points = [*nxt, points[-1]]
        spread *= 0.55
    return points


def _fill_below(draw: ImageDraw.ImageDraw, heights: Sequence[float], colour: Colour) -> None:
    step = WIDTH / (len(heights) - 1)
    outline = [(i * step, h) for i, h in enumerate(heights)]
    draw.polygon([*outline, (WIDTH, HEIGHT), (0, HEIGHT)], fill=colour)


def _sky(image: Image.Image, top: Colour, bottom: Colour) -> None:
    draw = ImageDraw.Draw(image)
    for y in range(HEIGHT):
        draw.line([(0, y), (WIDTH, y)], fill=_mix(top, bottom, y / HEIGHT))


def _mist(image: Image.Image, rng: random.Random, y: float, colour: Colour) -> Image.Image:
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    for _ in range(14):
        cx, cy = rng.uniform(-100, WIDTH + 100), y + rng.uniform(-40, 40)
        rx, ry = rng.uniform(180, 420), rng.uniform(25, 60)
        draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=(*colour, 110))
    layer = layer.filter(ImageFilter.GaussianBlur(28))
    return Image.alpha_composite(image.convert("RGBA"), layer).convert("RGB")


def _canopy(
    draw: ImageDraw.ImageDraw, rng: random.Random, heights: Sequence[float], colour: Colour
) -> None:
    """Rounded tree crowns along a ridge (cloud forest)."""
    step = WIDTH / (len(heights) - 1)
    x = 0.0
    while x < WIDTH:
        i = min(int(x / step), len(heights) - 1)
        r = rng.uniform(14, 30)
        shade = _mix(colour, (0, 0, 0), rng.uniform(0, 0.25))
        draw.ellipse((x - r, heights[i] - r * 1.3, x + r, heights[i] + r * 0.6), fill=shade)
        x += r * rng.uniform(0.9, 1.4)


def _river(draw: ImageDraw.ImageDraw, rng: random.Random, colour: Colour, top: float) -> None:
    """A river winding from the valley floor towards the viewer, widening as it comes."""
    x, y = WIDTH * rng.uniform(0.35, 0.6), top
    left, right = [], []
    while y < HEIGHT + 40:
        half = 6 + (y - top) * 0.22
        left.append((x - half, y))
        right.append((x + half, y))
        x += rng.uniform(-60, 60) + (WIDTH * 0.5 - x) * 0.05
        y += 30
    draw.polygon([*left, *reversed(right)], fill=colour)


def landscape(scene: str, *, seed: int) -> bytes:
    """A 1600×1000 JPEG illustration: "valley", "cloud-forest", "river", "mining" or
    "village"."""
    rng = random.Random(seed)  # noqa: S311 - a picture, not a secret
    image = Image.new("RGB", (WIDTH, HEIGHT))
    palettes: dict[str, tuple[Colour, Colour, Colour, Colour]] = {
        # sky top, sky bottom, far ridge, near ground
        "valley": ((96, 140, 186), (238, 214, 178), (120, 146, 160), (28, 66, 42)),
        "cloud-forest": ((128, 160, 170), (214, 226, 222), (112, 142, 132), (22, 70, 44)),
        "river": ((110, 158, 200), (230, 226, 204), (116, 150, 150), (40, 86, 50)),
        "mining": ((150, 168, 184), (232, 218, 196), (148, 140, 126), (112, 84, 52)),
        "village": ((104, 146, 192), (244, 220, 180), (124, 148, 156), (58, 92, 48)),
    }
    sky_top, sky_bottom, far, near = palettes[scene]
    _sky(image, sky_top, sky_bottom)
    draw = ImageDraw.Draw(image)
    sun_x, sun_y = rng.uniform(WIDTH * 0.6, WIDTH * 0.85), rng.uniform(140, 260)
    draw.ellipse((sun_x - 60, sun_y - 60, sun_x + 60, sun_y + 60), fill=(252, 236, 196))
    ridges = 5
    for n in range(ridges):
        t = n / (ridges - 1)
        base = 330 + t * 420
        heights = _ridge(rng, base, 160 - t * 90)
        colour = _mix(far, near, t)
        _fill_below(draw, heights, colour)
        if scene == "cloud-forest" and n >= 2:  # noqa: PLR2004 - from the third ridge on
            _canopy(draw, rng, heights, _mix(colour, (10, 60, 30), 0.3))
        if n in (1, 2):
            image = _mist(image, rng, base + 40, _mix(sky_bottom, (255, 255, 255), 0.4))
            draw = ImageDraw.Draw(image)
    if scene in ("valley", "river"):
        _river(draw, rng, (150, 190, 200) if scene == "river" else (170, 196, 196), 640)
    if scene == "mining":
        for _ in range(9):
            cx, cy = rng.uniform(100, WIDTH - 100), rng.uniform(780, 960)
            rx, ry = rng.uniform(50, 130), rng.uniform(14, 32)
            draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=(150, 140, 96))
            draw.ellipse(
                (cx - rx * 0.8, cy - ry * 0.7, cx + rx * 0.8, cy + ry * 0.7), fill=(126, 150, 128)
            )
    if scene == "village":
        for _ in range(7):
            x, y = rng.uniform(200, WIDTH - 200), rng.uniform(800, 930)
            w = rng.uniform(50, 80)
            draw.rectangle((x, y, x + w, y + w * 0.6), fill=(214, 196, 160))
            draw.polygon(
                [(x - 10, y), (x + w / 2, y - w * 0.45), (x + w + 10, y)], fill=(140, 70, 44)
            )
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue()
