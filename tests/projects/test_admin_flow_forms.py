"""The project admin's forms as editors meet them: a refused form's chosen files, what the
fields mean, a summary's paragraphs and the section body's rich text editor."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from projects.models import Photo, Project
from tests.conftest import jpeg_bytes
from tests.projects.admin_flow_helpers import ADD_URL, add_form, fill_project
from tests.projects.conftest import add_inline, form_errors


def test_a_refused_form_says_plainly_that_chosen_files_must_be_chosen_again(
    editor_client: Client,
) -> None:
    data = fill_project(add_form(editor_client), acres="")  # one error
    add_inline(
        data,
        "photos",
        {
            "image": SimpleUploadedFile(
                "frog.jpg", jpeg_bytes(800, 600), content_type="image/jpeg"
            ),
            "caption": "A glass frog.",
            "credit": "PRONATURALEZA",
            "alt_text": "A green frog on a leaf",
            "order": "0",
        },
    )
    response = editor_client.post(ADD_URL, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Nothing was saved, so the files you chose were not uploaded (frog.jpg)." in html
    assert "choose the files again before saving" in html
    assert not Project.objects.exists() and not Photo.objects.exists()
    # Without files, no such message.
    plain = editor_client.post(ADD_URL, fill_project(add_form(editor_client), acres=""))
    assert "were not uploaded" not in plain.content.decode()


def test_editors_are_told_what_the_credit_summary_and_fast_facts_fields_mean(
    editor_client: Client,
) -> None:
    html = editor_client.get(ADD_URL).content.decode()
    assert "the page adds “Photo courtesy of” itself" in html
    assert "Separate paragraphs with a blank line (press Enter twice)." in html
    assert "Filled in automatically the first time the project is published" in html
    assert "Fast facts. The main threat in a few words" in html


def test_a_summary_typed_in_the_admin_keeps_its_paragraphs(editor_client: Client) -> None:
    data = fill_project(
        add_form(editor_client), summary_en="First paragraph.\r\n\r\nSecond paragraph."
    )
    response = editor_client.post(ADD_URL, data)
    assert response.status_code == 302, form_errors(response.content.decode())
    html = Client().get("/projects/cloud-forest-corridor/").content.decode()
    assert "<p>First paragraph.</p><p>Second paragraph.</p>" in html


def test_section_bodies_get_the_rich_text_editor_allowed_by_hash_not_unsafe_inline(
    editor_client: Client,
) -> None:
    from projects.services.editor import TIPTAP_STYLE_HASH, prose_editor_importmap_hash

    response = editor_client.get(ADD_URL)
    html = response.content.decode()
    assert "data-django-prose-editor-default" in html  # the section body widget
    assert '<script type="importmap"' in html
    policy = response["Content-Security-Policy"]
    script_src = next(p for p in policy.split(";") if p.strip().startswith("script-src "))
    assert prose_editor_importmap_hash() in script_src and "unsafe-inline" not in script_src
    assert TIPTAP_STYLE_HASH in policy
    # Public pages keep the strict policy.
    public = Client().get("/projects/")["Content-Security-Policy"]
    assert "sha256-" not in public


def test_a_section_body_from_the_editor_is_still_cleaned_on_save(editor_client: Client) -> None:
    data = fill_project(add_form(editor_client))
    add_inline(
        data,
        "sections",
        {
            "title_en": "Habitat",
            "lead_en": "",
            "body_en": '<p onclick="x()">Cloud <strong>forest</strong><script>bad()</script>'
            '<span style="color:red">red</span></p>',
            "order": "0",
        },
    )
    response = editor_client.post(ADD_URL, data)
    assert response.status_code == 302, form_errors(response.content.decode())
    body = Project.objects.get(slug="cloud-forest-corridor").sections.get().body
    assert body == "<p>Cloud <strong>forest</strong>red</p>"
