"""Share links for a project: plain links (email, WhatsApp, Facebook, X) and a copy-link
button, with no third-party script. Each shared link carries a referral code, so staff can
see how many gifts and how much money each channel brought.

A referral code is the channel, and, when a donor shares from the thank-you page, their
gift's share code: ``whatsapp`` (shared from the project page) or ``whatsapp-k3j9x2ab``.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

from django.utils.translation import gettext, gettext_noop

from projects.seo import absolute_url

if TYPE_CHECKING:
    from projects.models import Project

REFERRAL_PARAM = "ref"
# Channel code → what staff and donors read (translated where shown: share_links). The codes
# are stored on gifts: never rename one.
CHANNELS: dict[str, str] = {
    "email": gettext_noop("Email"),
    "whatsapp": "WhatsApp",
    "facebook": "Facebook",
    "x": "X",
    "link": gettext_noop("Copied link"),
}
SHARE_CODE_LENGTH = 8
_SHARE_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
_REFERRAL = re.compile(
    rf"^({'|'.join(CHANNELS)})(?:-([{_SHARE_CODE_ALPHABET}]{{{SHARE_CODE_LENGTH}}}))?$"
)
REFERRAL_MAX_LENGTH = max(map(len, CHANNELS)) + 1 + SHARE_CODE_LENGTH


@dataclass(frozen=True)
class Referral:
    channel: str
    share_code: str = ""  # the sharing gift's code, when a donor shared it

    @property
    def code(self) -> str:
        return f"{self.channel}-{self.share_code}" if self.share_code else self.channel


def referral_parse(value: str | None) -> Referral | None:
    """The referral a link carried, or None for anything that is not one of ours (a mangled
    or invented code is ignored: it is not the donor's input, and must not stop a gift)."""
    match = _REFERRAL.match((value or "").strip().lower())
    if not match:
        return None
    return Referral(channel=match.group(1), share_code=match.group(2) or "")


def share_code_new() -> str:
    return "".join(secrets.choice(_SHARE_CODE_ALPHABET) for _ in range(SHARE_CODE_LENGTH))


@dataclass(frozen=True)
class ShareLink:
    channel: str
    label: str
    href: str  # where the link goes (the service's share page, or mailto:)
    url: str  # the project's address it shares, with its referral code


def shared_url(project: Project, referral: Referral) -> str:
    return (
        absolute_url(project.get_absolute_url()) + "?" + urlencode({REFERRAL_PARAM: referral.code})
    )


def share_links(project: Project, *, text: str, share_code: str = "") -> list[ShareLink]:
    """One link per channel, each carrying its own referral code."""

    def url(channel: str) -> str:
        return shared_url(project, Referral(channel=channel, share_code=share_code))

    def q(value: str) -> str:
        return quote(value, safe="")

    hrefs = {
        "email": f"mailto:?subject={q(project.title)}&body={q(text + chr(10) * 2 + url('email'))}",
        "whatsapp": f"https://wa.me/?text={q(text + ' ' + url('whatsapp'))}",
        "facebook": f"https://www.facebook.com/sharer/sharer.php?u={q(url('facebook'))}",
        "x": f"https://x.com/intent/post?text={q(text)}&url={q(url('x'))}",
        "link": url("link"),
    }
    return [
        ShareLink(channel=c, label=gettext(label), href=hrefs[c], url=url(c))
        for c, label in CHANNELS.items()
    ]
