{#-
    Crimes a correction removed (vawg_warehouse/ingest/corrections.py says the same rules for the audit
    trail): the current version of the crime is cancelled by its status, or it came from an
    earlier file of a name that a whole later file (no row set aside) restated without it.
-#}
with

crimes as (

    select * from {{ ref('stg_force__crimes') }}

),

load_batches as (

    select * from {{ ref('stg_audit__load_batches') }}
    {{- as_of_filter('published_at') }}

),

record_statuses as (

    select * from {{ ref('crime_record_statuses') }}

),

versions_ranked as (

    -- The current version of each crime, as int_crimes_deduplicated takes it.
    select
        crimes.crime_id,
        crimes.record_status,
        crimes._batch_id,
        load_batches.file_name,
        {{ version_rank(['crimes.crime_id'], 'crimes._batch_id desc, crimes._row_number desc') }}
    from crimes
    inner join load_batches
        on crimes._batch_id = load_batches.batch_id

),

current_versions as (

    select * from versions_ranked
    where version_rank = 1

),

whole_restatements as (

    -- For each crimes file name, the newest batch of it published whole: the day as the force
    -- now holds it.
    select
        file_name,
        max(batch_id) as restating_batch_id
    from load_batches
    where
        dataset_name = 'force_crimes'
        and published_at is not null
        and coalesce(rows_rejected, 0) = 0
    group by file_name

),

cancelled as (

    select
        current_versions.crime_id,
        cast('cancelled' as text) as withdrawal_reason,
        current_versions.record_status,
        current_versions._batch_id as withdrawn_by_batch_id
    from current_versions
    inner join record_statuses
        on current_versions.record_status = record_statuses.record_status
    where record_statuses.is_withdrawn

),

left_out as (

    select
        current_versions.crime_id,
        cast('left out of a restated file' as text) as withdrawal_reason,
        current_versions.record_status,
        whole_restatements.restating_batch_id as withdrawn_by_batch_id
    from current_versions
    inner join whole_restatements
        on current_versions.file_name = whole_restatements.file_name
    where current_versions._batch_id < whole_restatements.restating_batch_id

),

withdrawn as (

    select * from cancelled
    union all
    select * from left_out
    where crime_id not in (select crime_id from cancelled)

)

select * from withdrawn
