#!/bin/sh
# Runs once, when the compose warehouse PostgreSQL (warehouse-db) starts with an empty data volume
# (docker-entrypoint-initdb.d): the warehouse's roles, database and logins as README "Pointing
# it at a real PostgreSQL and Airflow" describes. Airflow's metadata is on another server
# (airflow-db, deploy/init-metadata-db.sh). Passwords come from the environment
# (docker-compose.yml, from .env); none has a default.
set -eu

for name in VAWG_MIGRATOR_PASSWORD VAWG_LOADER_PASSWORD VAWG_METABASE_DB_PASSWORD; do
    eval "value=\${$name:-}"
    case "$value" in
        "" | change-me*)
            echo "init-databases: set $name in .env (a random value, not the example's)" >&2
            exit 1
            ;;
    esac
done

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v migrator_password="$VAWG_MIGRATOR_PASSWORD" \
    -v loader_password="$VAWG_LOADER_PASSWORD" \
    -v metabase_password="$VAWG_METABASE_DB_PASSWORD" <<'SQL'
-- The warehouse's group roles (migration 012 says what each may do).
create role vawg_owner nologin;
create role vawg_pipeline nologin;
grant vawg_pipeline to vawg_owner;
create role vawg_bi_reader nologin;
create role vawg_auditor nologin;
create role vawg_dbt_recorder nologin;
create database vawg owner vawg_owner;

-- Who runs `vawg migrate`: a member of the owner, with CREATEROLE and admin of the roles the
-- first migrations comment on.
create role vawg_migrator login createrole in role vawg_owner;
grant vawg_bi_reader, vawg_auditor, vawg_dbt_recorder to vawg_migrator with admin option;

-- The pipeline: Airflow's tasks and dbt. Never a member of vawg_owner.
create role vawg_loader login in role vawg_pipeline;

-- Metabase's connection: a member of vawg_bi_reader, which reads schema bi only.
create role vawg_metabase login in role vawg_bi_reader;

-- Each login's password, from the psql variables above (the environment, i.e. .env), quoted by
-- format(); the script itself holds none.
select format('alter role %I password %L', login, secret)
from (values
    ('vawg_migrator', :'migrator_password'),
    ('vawg_loader', :'loader_password'),
    ('vawg_metabase', :'metabase_password')
) as logins (login, secret) \gexec
SQL
