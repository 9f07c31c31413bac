#!/bin/sh
# Runs once, when the compose metadata PostgreSQL (airflow-db) starts with an empty data volume
# (docker-entrypoint-initdb.d): Airflow's metadata database and Metabase's application database,
# each with its own login. The warehouse is on another server (warehouse-db). Passwords come
# from the environment (docker-compose.yml, from .env); none has a default.
set -eu

for name in AIRFLOW_DB_PASSWORD METABASE_DB_PASSWORD POSTGRES_PASSWORD; do
    eval "value=\${$name:-}"
    case "$value" in
        "" | *change-me*)
            echo "init-metadata-db: set $name in .env (a random value, not the example's)" >&2
            exit 1
            ;;
    esac
done

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v airflow_password="$AIRFLOW_DB_PASSWORD" \
    -v metabase_password="$METABASE_DB_PASSWORD" <<'SQL'
create role airflow login;
create database airflow owner airflow;
create role metabase login;
create database metabase owner metabase;
-- The passwords from the psql variables above (the environment, i.e. .env), quoted by format().
select format('alter role %I password %L', login, secret)
from (values ('airflow', :'airflow_password'), ('metabase', :'metabase_password'))
    as logins (login, secret) \gexec
SQL
