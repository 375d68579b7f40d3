"""The sentences the page scripts write (static/js), translated for the page's language.

base.html puts them in a JSON script element (``json_script``, allowed by the
Content-Security-Policy); static/js/i18n.js looks a sentence up by its English text and
fills its ``%(name)s`` placeholders. gettext_noop marks them for makemessages.
The acres calculator has none here: it shows the server's own sentence and messages
(projects.views.acres_json).
"""

from __future__ import annotations

from django.utils.translation import gettext, gettext_noop

JS_MSGIDS = (
    gettext_noop("Enter the amount as a number, e.g. 50 or 25.50."),
    gettext_noop("%(currency)s amounts have at most %(digits)s decimal places."),
    gettext_noop("%(currency)s amounts are whole numbers."),
    gettext_noop("The smallest gift is %(amount)s %(currency)s."),
    gettext_noop(
        "Online gifts are limited to %(amount)s %(currency)s; please contact us for larger gifts."
    ),
    gettext_noop("(adds %(percent)s%% + %(fixed)s %(currency)s)"),
    gettext_noop("(adds %(fee)s)"),
    gettext_noop("Matched %(label)s at the rate Stripe settles it (up to %(left)s of match left)."),
    gettext_noop("Your %(gift)s becomes %(total)s with the match."),
    gettext_noop("Link copied."),
    gettext_noop("Select the link and copy it."),
)


def js_strings() -> dict[str, str]:
    """{English: translation} for the active language ("%%" written as "%")."""
    return {msgid.replace("%%", "%"): gettext(msgid).replace("%%", "%") for msgid in JS_MSGIDS}
