"""The site's own settings plus one trivial view, the baseline the webhook is compared to."""

from campaign.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.bench_urls"
