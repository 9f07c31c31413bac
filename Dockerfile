# The project's Airflow image: Airflow 3 with dbt and Great Expectations from uv.lock, the package
# installed, the DAGs, dbt project, suites and the UI plugin copied in; the build fails if the dbt
# project does not parse (tasks parse it again, per warehouse, on first use). The official image
# brings the FAB auth manager and the Celery provider the compose file uses. Chromium (Debian)
# prints the measures scorecard to PDF.
FROM apache/airflow:3.3.2-python3.11

USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium fonts-dejavu-core \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
# The code belongs to root and is read-only to the runtime user (airflow): a task that is taken
# over cannot rewrite the DAGs, the package or the suites. Only the state folder (a volume) is
# the runtime user's.
COPY --chown=root:root . /opt/vawg
RUN chmod -R a-w,a+rX /opt/vawg \
 && mkdir -p /opt/vawg/state && chown airflow:0 /opt/vawg/state && chmod 0700 /opt/vawg/state
USER airflow
WORKDIR /opt/vawg
# devtools/ (the sample generator, the benchmarks, the demo) stays in the build context because
# uv's workspace names it, but is never installed: it is only in the dev group (--no-dev).
RUN pip install --no-cache-dir uv==0.13.9 \
 && uv export --frozen --no-dev --no-emit-project --no-hashes -o /tmp/requirements.txt \
 && uv pip install --no-cache --python "$(which python)" -r /tmp/requirements.txt \
 && uv pip install --no-cache --python "$(which python)" --no-deps -e /opt/vawg \
 && VAWG_DB_HOST=unused VAWG_DB_PORT=5432 VAWG_DB_USER=unused VAWG_DB_PASSWORD=unused \
    VAWG_DB_NAME=unused DBT_SEND_ANONYMOUS_USAGE_STATS=False dbt parse --project-dir dbt_project \
    --profiles-dir dbt_project --target-path /tmp/dbt-target --log-path /tmp/dbt-logs \
 && rm -rf /tmp/dbt-target /tmp/dbt-logs /tmp/requirements.txt
