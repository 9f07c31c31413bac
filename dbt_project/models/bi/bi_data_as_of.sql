{#-
    "Data as of" for BI logins: per source family, how recent its data is and when its marts
    were last rebuilt, from the audit trail (which BI logins cannot read). Only dates and counts:
    no file name leaves the audit schema.
-#}
with

load_batches as (

    select * from {{ ref('stg_audit__load_batches') }}

),

group_builds as (

    select * from {{ ref('stg_audit__dbt_group_builds') }}

),

pipeline_runs as (

    select * from {{ ref('stg_audit__pipeline_runs') }}

),

published_files as (

    -- The family is the dataset's first word (force_crimes -> force; datasets.py). A file's
    -- extract date is the YYYY-MM-DD in its name, or the last day of a YYYY-MM (police.uk).
    select
        split_part(dataset_name, '_', 1) as source_family,
        published_at,
        coalesce(
            cast(substring(file_name from '(\d{4}-\d{2}-\d{2})') as date),
            cast(
                to_date(substring(file_name from '(\d{4}-\d{2})(?:[^-0-9]|$)'), 'YYYY-MM')
                + interval '1 month' - interval '1 day'
                as date
            )
        ) as extract_date
    from load_batches
    where batch_status = 'published'

),

families as (

    select
        source_family,
        max(extract_date) as data_complete_to_date,
        count(*) as published_file_count,
        max(published_at) as last_published_at
    from published_files
    group by source_family

),

builds as (

    select
        group_name as source_family,
        max(finished_at) filter (where dbt_command = 'build') as marts_rebuilt_at,
        max(finished_at) as marts_checked_at
    from group_builds
    where is_success
    group by group_name

),

last_run as (

    select max(finished_at) as last_run_finished_at from pipeline_runs

),

data_as_of as (

    select
        families.source_family as "Source family",
        families.data_complete_to_date as "Data complete to",
        families.published_file_count as "Files published",
        families.last_published_at as "Last file published at",
        builds.marts_rebuilt_at as "Marts rebuilt at",
        builds.marts_checked_at as "Marts last tested at",
        last_run.last_run_finished_at as "Last nightly run finished at"
    from families
    left join builds on families.source_family = builds.source_family
    cross join last_run

)

select * from data_as_of
