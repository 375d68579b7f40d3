"""The demo project: every fact of ../shared/seed/andes-amazon-corridor.txt.

The real photos are not ours to ship, so each is a landscape illustration drawn with Pillow
(projects/services/illustrations.py), labelled as one in its caption, credit and alt text.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import translation
from djmoney.money import Money

from projects.models import FundingTotals, KeySpecies, Photo, Project, Section, Threat
from projects.services import demo_es
from projects.services.illustrations import landscape
from projects.services.images import image_clean, photo_renditions_refresh, project_hero_refresh

SEED_SLUG = "andes-amazon-corridor"

SUMMARY = """The Tropical Andes, stretching from Argentina to Colombia, is one of the most biodiverse regions in the world, but less than 25 percent of its habitat remains intact. Despite being considered a biodiversity hotspot with a high number of endemic species, the region is largely threatened by habitat destruction and fragmentation.

In Peru’s southern Andes region, there is a major network of protected areas that spans from the high Andes to the lowland Amazon along the border with Brazil. This network collectively protects over 6 million acres. However, there is one key missing piece that consolidates these protected areas and strengthens the entire network, ensuring a full corridor of protection from the Amazon to the Andes of Peru.

To create this missing piece, Rainforest Trust and local partner Pronaturaleza seek $303,600 to designate 285,288 acres as a Regional Conservation Area. The region has already been identified as a Key Biodiversity Area by the International Union for Conservation of Nature, and the establishment of this Regional Conservation Area will contribute to the protection of the headwaters of the Madre de Dios River basin and more than 50 endemic species."""

SPECIES = [
    ("Trueb’s Cochran Frog", "Nymphargus truebae", "CR"),
    ("Andean Cat", "Leopardus jacobita", "EN"),
    ("Cusco Andes Frog", "Bryophryne cophites", "EN"),
    ("Geoffroy’s Woolly Monkey", "Lagothrix cana", "EN"),
]

THREATS = [
    (
        "Illegal gold mining",
        "Accelerated growth in illegal gold mining on land belonging to the local communities "
        "in the highlands of the Paucartambo district.",
    ),
    (
        "Alluvial mining moving upstream",
        "Alluvial mining in the Madre de Dios River is expanding from the lower river into "
        "the headwaters.",
    ),
    (
        "Settlement and highway projects",
        "Settlement and highway projects in the area (i.e. Pilcopata - Quincemil) could "
        "cause habitat conversion and fragmentation.",
    ),
    (
        "Mining interests in local elections",
        "The elections for regional and local authorities in October 2019 could cause "
        "increased publicity for those invested in mining.",
    ),
]

SECTIONS = [
    (
        "Habitat and species",
        "This territory is critical for biological connectivity as it will bridge the nearly "
        "5 million-acre Manu National Park with the nearly 1 million-acre Amarakaeri Communal "
        "Reserve...",
        "<p>This territory is critical for biological connectivity as it will bridge the nearly 5 million-acre Manu National Park with the nearly 1 million-acre Amarakaeri Communal Reserve, which are comprised of diverse habitats that include humid puna grasslands, cloud forests and highland forests. Such an array of habitat types varying in elevation greatly contributes to the vast amount of unique species found in the area. One such species is the Critically Endangered Trueb’s Cochran Frog, which is endemic to the Kosñipata Valley. The species is thought to be extinct as a result of chytridiomycosis, a fungal disease, but this has yet to be confirmed. Therefore, the local partner will undertake the surveys that are urgently needed to verify the frog’s existence. Another threatened species that can be found in the area is the Endangered Andean Cat, which is considered a sacred animal according to local traditions of indigenous communities that reside in the Tropical Andes region. It is estimated that less than 3,000 Andean Cat individuals remain in the wild.</p>",
    ),
    (
        "Threats",
        "The most important threat in the area is the accelerated growth in illegal gold "
        "mining on land belonging to the local communities, located in the highlands of the "
        "Paucartambo district.",
        "<p>The mineral resources in the area have stimulated alluvial mining in the Madre de Dios River, which is now expanding from the lower river into the headwaters. Other potential threats are the settlement and highway projects taking place in the area that could generate negative impacts from habitat conversion and fragmentation (i.e. Pilcopata - Quincemil). The area also contains several local communities, and their cooperative involvement will be key to the success of conservation efforts in the area. Additionally, the elections for regional and local authorities in October 2019 could cause increased publicity for those invested in mining as a strategy to increase economic profits.</p>",
    ),
    (
        "Communities",
        "No local communities are present within the proposed designation of the Regional "
        "Conservation Area.",
        "<p>However, there are several indigenous communities located in the surrounding areas. In the high Andean slope, there is a Quechua population referred to as “Q’eros” who, through time, have adapted to sustainably use their natural resources. Conversations to gauge interest and cooperation with the Q’eros have already occured with very positive results. Other indigenous communities that have been identified in the surrounding area include the Pilcopata, Chontachaca and Patria local communities, and the Harakbut indigenous population. Therefore, capacity building is considered an integral part of this proposal.</p>",
    ),
    (
        "Solution",
        "Rainforest Trust and local partner seek $303,600 for the designation of 285,288 acres "
        "as a Regional Conservation Area to protect the biological and cultural richness of the "
        "Tropical Andes region.",
        "<p>To accomplish this, the local partner will work with the regional government of Cusco and the local government of Kosñipata to overcome challenges of public land management. Additionally, the partner will work to strengthen capacities of local stakeholders and actively address their concerns, especially with the indigenous communities in the area. This new land designation will establish a corridor of protection from Peru’s Tropical Andes region to its Amazon rainforests. It will connect national parks with community reserves resulting in a network of protection spanning millions of acres.</p>",
    ),
]

# The seed page's photographs are not ours: the demo draws an illustration for each
# (projects/services/illustrations.py) and says so in its caption, credit and alt text,
# naming the photo it stands in for.
ILLUSTRATION_CREDIT = "Illustration by the demo loader"
HERO = (
    "Illustration of the Kosñipata Valley, in place of the seed page’s photo “Landscape "
    "view.” (Michell Leon/PRONATURALEZA).",
    ILLUSTRATION_CREDIT,
    "Illustration: misty mountain ridges above a winding river valley",
    "valley",
)
PHOTOS = [
    (
        "Illustration of the lizard’s cloud-forest habitat, in place of the seed page’s photo "
        "“A recently discovered new species of Andean Lizard (Proctoporus machupicchu).”",
        "Illustration: layered cloud-forest ridges in mist",
        "cloud-forest",
    ),
    (
        "Illustration of gold mining waste pits, in place of the seed page’s photo "
        "“Gold mining waste pits.”",
        "Illustration: bare brown ground pitted with pools below misty hills",
        "mining",
    ),
    (
        "Illustration of a highland village, in place of the seed page’s photo “Local "
        "indigenous community members.”",
        "Illustration: small houses with red roofs on a green slope below the mountains",
        "village",
    ),
    (
        "Illustration of intact forest along a river, in place of the seed page’s photo "
        "“Beautiful intact forests.” (Michell Leon/PRONATURALEZA).",
        "Illustration: a river winding through forested hills",
        "river",
    ),
]


def _clean_upload(data: bytes, name: str) -> ContentFile[bytes]:
    return image_clean(io.BytesIO(data), name=name).content


@transaction.atomic
def demo_project_load() -> Project:
    """Create or refresh the seed project, in English and Spanish; safe to run any number
    of times."""
    with translation.override("en"):
        return _demo_project_load()


def _spanish(**fields: str) -> dict[str, str]:
    return {f"{name}_es": value for name, value in fields.items()}


def _demo_project_load() -> Project:
    project, _ = Project.objects.update_or_create(
        slug=SEED_SLUG,
        defaults={
            "title": "Securing the Cornerstone of Andes-Amazon Conservation Corridor",
            "status": Project.Status.PUBLISHED,
            "summary": SUMMARY,
            "place": "Kosñipata Valley",
            "region": "Kosnipata",
            "country": "Peru",
            "cost": Money(Decimal("303600"), "USD"),
            "acres": Decimal("285288"),
            "price_per_acre_override": Money(Decimal("1.17"), "USD"),
            "habitat": "The Tropical Andes; humid puna grasslands, cloud forests and highland forests",
            "conservation_action": "Designation of new regional reserve",
            "main_threat": "Growth in illegal mining operations",
            "partner_name": "Pronaturaleza",
            "partner_url": "https://www.pronaturaleza.org/",
            "carbon_storage_mt": None,
            "hero_alt": HERO[2],
            "hero_caption": HERO[0],
            "hero_credit": HERO[1],
            "after_goal": Project.AfterGoal.KEEP_ACCEPTING,
            **_spanish(**demo_es.PROJECT),
        },
    )
    if project.published_at is None:
        project.published_at = datetime(2019, 9, 1, tzinfo=UTC)
        project.save(update_fields=["published_at"])
    FundingTotals.objects.get_or_create(
        project=project,
        defaults={"raised": Money(0, "USD"), "matched": Money(0, "USD")},
    )

    project.species.all().delete()
    KeySpecies.objects.bulk_create(
        KeySpecies(
            project=project,
            common_name=c,
            scientific_name=s,
            iucn_category=i,
            order=n,
            **_spanish(common_name=demo_es.SPECIES[n]),
        )
        for n, (c, s, i) in enumerate(SPECIES)
    )
    project.threats.all().delete()
    Threat.objects.bulk_create(
        Threat(
            project=project,
            title=t,
            description=d,
            order=n,
            **_spanish(title=demo_es.THREATS[n][0], description=demo_es.THREATS[n][1]),
        )
        for n, (t, d) in enumerate(THREATS)
    )
    project.sections.all().delete()
    for n, (title, lead, body) in enumerate(SECTIONS):
        es_title, es_lead, es_body = demo_es.SECTIONS[n]
        Section.objects.create(
            project=project,
            title=title,
            lead=lead,
            body=body,
            order=n,
            **_spanish(title=es_title, lead=es_lead, body=es_body),
        )

    if not project.hero_image:
        data = landscape(HERO[3], seed=1)
        project.hero_image.save("andes-valley.jpg", _clean_upload(data, "andes-valley"))
        project_hero_refresh(project=project)
    elif "social" not in (project.hero_renditions or {}):  # made before WebP and social cards
        project_hero_refresh(project=project)

    captions = [caption for caption, _alt, _scene in PHOTOS]
    project.photos.exclude(caption_en__in=captions).delete()  # older demo images
    for photo in project.photos.all():
        if "webp" not in (photo.renditions or {}):  # made before WebP
            photo_renditions_refresh(photo=photo)
    existing = set(project.photos.values_list("caption_en", flat=True))
    for n, (caption, alt, scene) in enumerate(PHOTOS):
        es_caption, es_alt = demo_es.PHOTOS[n]
        if caption in existing:
            # Photos are kept (their files too); their Spanish texts are refreshed.
            project.photos.filter(caption_en=caption).update(
                caption_es=es_caption, alt_text_es=es_alt
            )
            continue
        photo = Photo(
            project=project,
            caption=caption,
            credit=ILLUSTRATION_CREDIT,
            alt_text=alt,
            order=n,
            **_spanish(caption=es_caption, alt_text=es_alt),
        )
        data = landscape(scene, seed=n + 2)
        photo.image.save(f"andes-{scene}.jpg", _clean_upload(data, f"andes-{scene}"), save=True)
        photo_renditions_refresh(photo=photo)
    return project
