#!/bin/sh
# Runs once, when the postgres container initialises an empty data directory, in the
# database named by POSTGRES_DB (sms, owned by postgres). Creates the application role:
# it may log in, but is no superuser, cannot bypass row-level security and owns nothing.
# The migrations (run as postgres) grant it DML on every table and force RLS.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v app_password="$SMS_APP_DB_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE sms_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD %L',
              :'app_password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sms_app')
\gexec
GRANT CONNECT ON DATABASE sms TO sms_app;
SQL
