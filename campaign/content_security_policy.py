"""The Content-Security-Policy django-csp sends on every response (settings'
CONTENT_SECURITY_POLICY).

No inline <script> and no inline event handlers anywhere: JavaScript lives in static/js
(data goes through json_script, which is not executed). Styles: stylesheets from our own
origin only, no <style> blocks, but style="" attributes are allowed (style-src-attr), because
the thermometer draws its bars with inline widths and IUCN badges carry their colours; a
style attribute cannot load anything (url() falls under img-src) or select other elements.
style-src keeps 'unsafe-inline' only as the fallback for browsers without CSP level 3
(style-src-elem/-attr); current browsers apply the stricter two. The donate form posts to
us and we redirect to Stripe Checkout, which form-action must allow.
"""

from __future__ import annotations

from typing import Any


def content_security_policy(*, img_src: list[str]) -> dict[str, Any]:
    """The policy; ``img_src`` adds image origins (CSP_IMG_SRC) to our own and data: URLs."""
    return {
        "DIRECTIVES": {
            "default-src": ["'self'"],
            "script-src": ["'self'"],
            "style-src": ["'self'", "'unsafe-inline'"],
            "style-src-elem": ["'self'"],
            "style-src-attr": ["'unsafe-inline'"],
            "img-src": ["'self'", "data:", *img_src],
            "font-src": ["'self'"],
            "connect-src": ["'self'"],
            "form-action": ["'self'", "https://checkout.stripe.com"],
            "frame-ancestors": ["'none'"],
            "base-uri": ["'none'"],
            "object-src": ["'none'"],
        }
    }
