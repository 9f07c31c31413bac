{#-
    Incremental: each run takes the current versions (int_victims_code_records_deduplicated) that
    came in a load batch newer than the newest in the table, or were published since it was last
    built (a batch published late), and the records of crimes restated (or first loaded) since:
    the local authority comes from the crime's current version. delete+insert on the record's key
    replaces a restated record. Run with --full-refresh after a change to the dimensions' keys or
    to its columns (on_schema_change fail).
-#}
{{
    config(
        materialized='incremental',
        unique_key='victims_code_record_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

with

crimes as (

    select * from {{ ref('int_crimes_deduplicated') }}

),

records as (

    select * from {{ ref('int_victims_code_records_deduplicated') }}
    {%- if is_incremental() %}
    where
        {{ rows_published_since_last_build() }}
        or crime_id in (
            select crimes.crime_id
            from crimes
            where crimes._batch_id > (select coalesce(max(crime_batch_id), 0) from {{ this }})
        )
    {%- endif %}

),

dates as (

    select * from {{ ref('dim_date') }}

),

geographies as (

    select * from {{ ref('dim_geography') }}

),

rights as (

    select * from {{ ref('dim_victims_code_right') }}

),

records_keyed as (

    -- Keys to the dimensions, falling back to each one's unknown member. The local authority is
    -- the crime's (where the offence took place); unknown when the crime is not in the extract.
    select
        -- ids
        {{ surrogate_key(['records.record_id']) }} as victims_code_record_key,
        records.record_id,
        records.crime_id,
        coalesce(
            rights.victims_code_right_key, {{ unknown_member_key() }}
        ) as victims_code_right_key,
        coalesce(geographies.geography_key, {{ unknown_member_key() }}) as geography_key,
        coalesce(due_dates.date_key, -1) as due_date_key,
        coalesce(completed_dates.date_key, -1) as completed_date_key,

        -- strings
        records.victim_pseudonym,
        records.status,
        records.recorded_by_unit,
        crimes.local_authority_code,

        -- numerics
        records.right_number,

        -- booleans
        -- as recorded (a record with no status yet is none of them; the measure's rules are in
        -- int_victims_code_rights_assessed)
        coalesce(records.status = 'met', false) as is_met,
        coalesce(records.status = 'not_met', false) as is_not_met,
        coalesce(records.status in ('met', 'not_met'), false) as is_applicable,
        coalesce(records.completed_date > records.due_date, false) as is_completed_late,

        -- dates
        records.due_date,
        records.completed_date,

        -- timestamps
        records.extracted_at,

        -- load lineage
        records._batch_id,
        records._row_number,
        records._published_at,
        crimes._batch_id as crime_batch_id

    from records
    left join crimes
        on records.crime_id = crimes.crime_id
    left join geographies
        on crimes.local_authority_code = geographies.local_authority_code
    left join rights
        on records.right_number = rights.right_number
    left join dates as due_dates
        on records.due_date = due_dates.calendar_date
    left join dates as completed_dates
        on records.completed_date = completed_dates.calendar_date

)

select * from records_keyed
