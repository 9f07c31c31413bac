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
    -- extract date is the YYYY-MM-DD in its name, the last day of a YYYY-MM (police.uk), or the
    -- last day of a financial quarter YYYYQn (n = 1 for April-June of financial year YYYY/YY+1:
    -- cps_2024Q4.csv covers to 31 March 2025, a service return ..._2025Q1.xlsx to 30 June 2025),
    -- as the marts date them.
    select
        dataset_name,
        split_part(dataset_name, '_', 1) as source_family,
        published_at,
        coalesce(
            cast(substring(file_name from '(\d{4}-\d{2}-\d{2})') as date),
            cast(
                to_date(substring(file_name from '(\d{4}-\d{2})(?:[^-0-9]|$)'), 'YYYY-MM')
                + interval '1 month' - interval '1 day'
                as date
            ),
            cast(
                make_date(cast(substring(file_name from '(\d{4})[Qq][1-4]') as integer), 4, 1)
                + make_interval(
                    months => 3 * cast(substring(file_name from '\d{4}[Qq]([1-4])') as integer)
                )
                - interval '1 day'
                as date
            )
        ) as extract_date
    from load_batches
    where batch_status = 'published'

),

datasets as (

    -- How far each dataset's data reach: its newest extract.
    select
        source_family,
        dataset_name,
        max(extract_date) as data_complete_to_date,
        count(*) as published_file_count,
        max(published_at) as last_published_at,
        dataset_name in (
            'public_ons_mid_year_estimates', 'public_nomis_population_estimates'
        ) as is_denominator
    from published_files
    group by source_family, dataset_name

),

families as (

    -- A family is complete only as far as its least recent dataset (the marts date each
    -- dataset's figures by its own extract: one new crimes file does not bring MARAC forward).
    -- Population estimates (ONS workbooks, Nomis downloads) are denominators of a reference
    -- year, not a period of events: they neither bound nor date the public family (their own
    -- staleness is the ons sources' freshness check).
    select
        source_family,
        case
            when bool_and(data_complete_to_date is not null) filter (where not is_denominator)
                then min(data_complete_to_date) filter (where not is_denominator)
        end as data_complete_to_date,
        max(data_complete_to_date) filter (where not is_denominator) as newest_extract_date,
        sum(published_file_count) as published_file_count,
        max(last_published_at) as last_published_at
    from datasets
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
        families.newest_extract_date as "Newest extract",
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
