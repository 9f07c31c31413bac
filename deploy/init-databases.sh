#!/bin/sh
# Runs once, when the compose warehouse PostgreSQL (warehouse-db) starts with an empty data volume
# (docker-entrypoint-initdb.d): the warehouse's roles, database and logins as README "Pointing
# it at a real PostgreSQL and Airflow" describes. Airflow's metadata is on another server
# (airflow-db, deploy/init-metadata-db.sh). Passwords come from the environment
# (docker-compose.yml, from .env), the loader's from the file VAWG_LOADER_PASSWORD_FILE names (a
# compose secret); none has a default.
set -eu

if [ -n "${VAWG_LOADER_PASSWORD_FILE:-}" ]; then
    if ! VAWG_LOADER_PASSWORD=$(cat "$VAWG_LOADER_PASSWORD_FILE"); then
        echo "init-databases: VAWG_LOADER_PASSWORD_FILE cannot be read" >&2
        exit 1
    fi
fi

for name in VAWG_MIGRATOR_PASSWORD VAWG_LOADER_PASSWORD VAWG_METABASE_DB_PASSWORD POSTGRES_PASSWORD; do
    eval "value=\${$name:-}"
    case "$value" in
        "" | *change-me*)
            echo "init-databases: set $name in .env (a random value, not the example's)" >&2
            exit 1
            ;;
    esac
done

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v migrator_password="$VAWG_MIGRATOR_PASSWORD" \
    -v loader_password="$VAWG_LOADER_PASSWORD" \
    -v metabase_password="$VAWG_METABASE_DB_PASSWORD" <<'SQL'
-- The warehouse's group roles (migration 012 says what each may do). Roles belong to the
-- cluster: a role another database of the same server already made is kept.
select format('create role %I nologin', wanted)
from unnest(array[
    'vawg_owner', 'vawg_pipeline', 'vawg_bi_reader', 'vawg_auditor', 'vawg_dbt_recorder'
]) as wanted
where not exists (select from pg_roles where rolname = wanted) \gexec
grant vawg_pipeline to vawg_owner;
create database vawg owner vawg_owner;

-- Who runs `vawg migrate`: a member of the owner and nothing more. No CREATEROLE and no admin of
-- any role: before PostgreSQL 16, CREATEROLE lets a login grant itself pg_execute_server_program
-- (a shell on this server) or make the pipeline's login an owner. The roles are made here, by the
-- superuser (`vawg migrate` as this login skips the migrations' comments on roles).
create role vawg_migrator login nocreaterole in role vawg_owner;

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
