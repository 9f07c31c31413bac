{#-
    The outcome history: every outcome event a crime received (0 -> 16, 15 -> 1, 1 -> 1A ...), never
    overwritten by a later one. Incremental like fct_recorded_crime: each run takes the events
    (int_outcomes_deduplicated) of a load batch newer than the newest in the table, or published
    since it was last built; delete+insert on the event key replaces an event a later file restated.
    Run with --full-refresh after a change to the dimensions' keys or to its columns.
-#}
{{
    config(
        materialized='incremental',
        unique_key='crime_outcome_event_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

with

outcome_events as (

    select * from {{ ref('int_outcomes_deduplicated') }}
    {%- if is_incremental() %}
    where {{ rows_published_since_last_build() }}
    {%- endif %}

),

dates as (

    select * from {{ ref('dim_date') }}

),

outcomes as (

    select * from {{ ref('dim_outcome') }}

),

outcome_events_keyed as (

    -- Keys to the dimensions, falling back to each one's unknown member. crime_key is the key
    -- fct_recorded_crime gives the crime (md5 of crime_id), so an event whose crime has not
    -- arrived yet joins it once it does.
    select
        -- ids
        {{ surrogate_key(['outcome_events.crime_id', 'outcome_events.outcome_sequence']) }}
            as crime_outcome_event_key,
        {{ surrogate_key(['outcome_events.crime_id']) }} as crime_key,
        coalesce(outcomes.outcome_key, {{ unknown_member_key() }}) as outcome_key,
        coalesce(dates.date_key, -1) as outcome_date_key,
        outcome_events.crime_id,

        -- strings
        outcome_events.outcome_code,

        -- numerics
        outcome_events.outcome_sequence,

        -- dates
        outcome_events.outcome_date,

        -- timestamps
        outcome_events.extracted_at,

        -- load lineage
        outcome_events._batch_id,
        outcome_events._row_number,
        outcome_events._published_at

    from outcome_events
    left join outcomes
        on outcome_events.outcome_code = outcomes.outcome_code
    left join dates
        on outcome_events.outcome_date = dates.calendar_date

)

select * from outcome_events_keyed
