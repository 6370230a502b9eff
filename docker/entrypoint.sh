#!/bin/sh
# One image, three roles:  web (default) | worker | beat | manage ARGS | any command.
set -eu

wait_for_database() {
    # The owner URL: it is the one migrations need, and it exists before the app role does.
    python - <<'PY'
import os, sys, time
import psycopg
url = os.environ.get("DATABASE_OWNER_URL") or os.environ["DATABASE_URL"]
for attempt in range(60):
    try:
        psycopg.connect(url, connect_timeout=3).close()
        sys.exit(0)
    except psycopg.OperationalError as exc:
        error = exc
        time.sleep(1)
sys.exit(f"database not reachable after 60s: {error}")
PY
}

command=${1:-web}
case "$command" in
    web)
        wait_for_database
        if [ "${SMS_MIGRATE:-1}" = 1 ]; then
            # As the owner: migrations create tables, RLS policies and the app role's grants.
            SMS_DB_OWNER=1 python manage.py migrate --noinput
        fi
        exec gunicorn sms.wsgi:application \
            --bind 0.0.0.0:8000 \
            --workers "${WEB_CONCURRENCY:-3}" \
            --timeout "${GUNICORN_TIMEOUT:-60}" \
            --access-logfile - \
            --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-*}"
        ;;
    worker)
        wait_for_database
        exec celery -A sms worker -l "${CELERY_LOG_LEVEL:-info}"
        ;;
    beat)
        wait_for_database
        exec celery -A sms beat -l "${CELERY_LOG_LEVEL:-info}" -s /tmp/celerybeat-schedule
        ;;
    manage)
        shift
        exec python manage.py "$@"
        ;;
    *)
        exec "$@"
        ;;
esac
