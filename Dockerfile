FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY . .
# Compile the translation catalogues (locale/*/LC_MESSAGES/*.po) with GNU gettext.
RUN apt-get update && apt-get install -y --no-install-recommends gettext \
    && python manage.py compilemessages --ignore=.venv \
    && apt-get purge -y gettext && apt-get autoremove -y && rm -rf /var/lib/apt/lists/*
# Build-time placeholders only: collectstatic needs production settings to write the manifest.
RUN DJANGO_ENV=production SECRET_KEY=build-only ALLOWED_HOSTS=build STRIPE_SECRET_KEY=sk_build \
    STRIPE_WEBHOOK_SECRET=whsec_build python manage.py collectstatic --noinput
# The static volume is filled from the image, then refreshed by collectstatic at each start.
RUN useradd --create-home app && mkdir -p /app/media /app/exports \
    && chown -R app /app/media /app/exports /app/staticfiles
USER app
EXPOSE 8000
# Bind, 2 workers per core (or WEB_CONCURRENCY), timeout and logs: campaign/gunicorn_conf.py.
CMD ["gunicorn", "-c", "python:campaign.gunicorn_conf", "campaign.wsgi:application"]
