"""A gift's share code: made once, when its thank-you page first offers share links."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from donations.models import Donation
from projects.sharing import share_code_new


def share_code_ensure(*, donation: Donation) -> str:
    """The gift's share code, made on first use. Two tabs opening the thank-you page at once
    must not give the donor two codes: the code is written only where none is yet
    (a conditional update), and whoever loses that race reads the winner's."""
    if donation.share_code:
        return donation.share_code
    for _attempt in range(5):
        code = share_code_new()
        try:
            with transaction.atomic():
                written = Donation.objects.filter(pk=donation.pk, share_code="").update(
                    share_code=code
                )
        except IntegrityError:
            continue  # another gift has this code (the partial unique index): draw again
        if not written:
            code = Donation.objects.values_list("share_code", flat=True).get(pk=donation.pk)
        donation.share_code = code
        return code
    raise RuntimeError("Could not draw an unused share code in five attempts")
