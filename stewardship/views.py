"""The updates' public pages, the unsubscribe page (RFC 8058 one-click POST) and the donor's
choice on My gifts."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from campaign.pagecache import public_page
from donations.views import donor_private
from donations.views_donor import signed_in_email
from projects.models import Project
from projects.selectors import project_detail_get
from projects.seo import site_meta
from stewardship import selectors
from stewardship.models import UpdateConsent
from stewardship.seo import update_meta
from stewardship.services import consent
from stewardship.services.progress import legal_status_line, progress_shown

LIST_LIMIT = 50


def _donor(request: HttpRequest, project: Project) -> bool:
    """A donor of this project signed in through My gifts. Only asked when the visitor has a
    session: an anonymous visitor's page is the shared, cached one."""
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False
    return selectors.is_donor(project, signed_in_email(request))


def _private(response: HttpResponse) -> HttpResponse:
    patch_cache_control(response, private=True, no_store=True, max_age=0)
    return response


@public_page
def update_list(request: HttpRequest, slug: str) -> HttpResponse:
    project = project_detail_get(slug=slug, user=request.user)
    donor = _donor(request, project)
    updates = list(selectors.updates_listed(project, donor=donor)[:LIST_LIMIT])
    meta = site_meta(
        title=gettext("Updates: %(project)s") % {"project": project.title},
        path=reverse("stewardship:list", kwargs={"slug": slug}),
        description=gettext("What your gifts did: news from %(project)s.")
        % {"project": project.title},
    )
    response = render(
        request,
        "stewardship/list.html",
        {"project": project, "updates": updates, "meta": meta, "donor": donor},
    )
    return _private(response) if donor else response


@public_page
def update_detail(request: HttpRequest, slug: str, update_slug: str) -> HttpResponse:
    project = project_detail_get(slug=slug, user=request.user)
    update = selectors.published(project).filter(slug=update_slug).first()
    if update is None:
        raise Http404(gettext("No such update."))
    public = update.is_public()
    if not public and not _donor(request, project):
        # The same answer as for no update at all: a stranger learns nothing.
        raise Http404(gettext("No such update."))
    response = render(
        request,
        "stewardship/detail.html",
        {
            "project": project,
            "update": update,
            "progress": progress_shown(update.progress),
            "legal_status": legal_status_line(update.legal_status),
            "meta": update_meta(update),
            "donors_only": not public,
        },
    )
    return response if public else _private(response)


@csrf_exempt  # mail clients POST the one-click form without a token; the URL is signed
@donor_private
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET: the page that confirms the choice (this project or all updates), with a way
    back; a link scanner opening it changes nothing. POST: records the opt-out and answers
    200. A POST whose body is ``List-Unsubscribe=One-Click`` is the mail client's RFC 8058
    one-click request (this project)."""
    try:
        who = consent.unsubscribe_read(token)
    except consent.TokenInvalid as exc:
        raise Http404(gettext("This unsubscribe link is not valid.")) from exc
    context = {"project": who.project, "email": who.email, "token": token}
    if request.method == "GET":
        return render(request, "stewardship/unsubscribe.html", context)
    one_click = request.POST.get("List-Unsubscribe") == "One-Click"
    every = request.POST.get("scope") == "all" and not one_click
    consent.choice_record(
        email=who.email,
        project=None if every else who.project,
        subscribed=False,
        source=UpdateConsent.Source.ONE_CLICK if one_click else UpdateConsent.Source.LINK_PAGE,
    )
    return render(request, "stewardship/unsubscribed.html", {**context, "every": every}, status=200)


@donor_private
@require_POST
def my_gifts_choice(request: HttpRequest) -> HttpResponse:
    """My gifts: the donor's choice of update emails, for all projects and for each one."""
    email = signed_in_email(request)
    if email is None:
        return HttpResponseRedirect(reverse("donations:my_gifts"), status=303)
    given = set(selectors.given_projects(email).values_list("pk", flat=True))
    state = selectors.choices_for(email)
    wanted_all = request.POST.get("all") == "on"
    if wanted_all != state.all:
        consent.choice_record(
            email=email, project=None, subscribed=wanted_all, source=UpdateConsent.Source.MY_GIFTS
        )
    chosen = {int(p) for p in request.POST.getlist("project") if p.isdigit()}
    for project in Project.objects.filter(pk__in=given):
        wanted = project.pk in chosen
        if wanted != state.projects.get(project.pk, True):
            consent.choice_record(
                email=email,
                project=project,
                subscribed=wanted,
                source=UpdateConsent.Source.MY_GIFTS,
            )
    request.session["my_gifts_notice"] = gettext("Your choice of update emails is saved.")
    return HttpResponseRedirect(reverse("donations:my_gifts") + "#updates", status=303)
