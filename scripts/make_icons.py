"""Draw the site's icons and default social card (run once; the files are committed).

    .venv/bin/python scripts/make_icons.py

The same drawing as static/favicon.svg (which, with static/favicon.ico, is drawn by hand): a
mountain under a sun on the site's dark green.
"""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
GREEN, SUN, HILL, SHADE = (23, 63, 44), (240, 162, 68), (140, 199, 154), (95, 165, 116)
WHITE, MIST = (255, 255, 255), (230, 242, 234)


def icon(size: int, *, rounded: bool = True) -> Image.Image:
    scale = 8  # draw large, then downsample: smooth edges without an SVG renderer
    s = size * scale / 64
    image = Image.new("RGBA", (size * scale, size * scale), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    box = (0, 0, size * scale - 1, size * scale - 1)
    if rounded:
        draw.rounded_rectangle(box, radius=14 * s, fill=GREEN)
    else:
        draw.rectangle(box, fill=GREEN)
    hill = [(6, 50), (24, 24), (33, 37), (40, 28), (58, 50)]
    draw.polygon([(x * s, y * s) for x, y in hill], fill=HILL)
    shade = [(6, 50), (24, 24), (30, 33), (20, 50)]
    draw.polygon([(x * s, y * s) for x, y in shade], fill=SHADE)
    draw.ellipse((40 * s, 11 * s, 52 * s, 23 * s), fill=SUN)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def social_card() -> Image.Image:
    card = Image.new("RGB", (1200, 630), GREEN)
    card.paste(icon(240), (120, 195), icon(240))
    draw = ImageDraw.Draw(card)
    draw.text((420, 230), "Protect land", font=ImageFont.load_default(size=84), fill=WHITE)
    draw.text((420, 340), "for wildlife", font=ImageFont.load_default(size=84), fill=MIST)
    return card


def main() -> None:
    static = ROOT / "static"
    # iOS draws its own rounded corners and shows transparency as black: a full square.
    icon(180, rounded=False).convert("RGB").save(static / "root" / "apple-touch-icon.png")
    for size in (192, 512):
        icon(size).save(static / "img" / f"icon-{size}.png", optimize=True)
    social_card().save(static / "img" / "social-default.png", optimize=True)
    manifest = {
        "name": "Conservation campaigns",
        "short_name": "Campaigns",
        "start_url": "/projects/",
        "display": "browser",
        "background_color": "#fbfbf8",
        "theme_color": "#1f5e3b",
        "icons": [
            {"src": f"/static/img/icon-{n}.png", "sizes": f"{n}x{n}", "type": "image/png"}
            for n in (192, 512)
        ]
        + [{"src": "/static/favicon.svg", "sizes": "any", "type": "image/svg+xml"}],
    }
    (static / "root" / "site.webmanifest").write_text(json.dumps(manifest, indent=2) + "\n")


if __name__ == "__main__":
    main()
