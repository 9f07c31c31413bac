{#-
    Measure 4's rules, once: each Victims' Code right due early enough to be measured, met or
    not met by the measure's own rule (docs/measures.md, measure 4).
    mart_victims_code_compliance_monthly counts it; its lineage lists its batches.
-#}
with

records as (

    select * from {{ ref('fct_victims_code_right') }}

),

extracts as (

    select * from {{ ref('int_force_extracts_dated') }}

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

measure_parameters as (

    select * from {{ ref('victims_code_measure_parameters') }}
    where force_code = {{ home_force() }}  -- the home force's settings (seed forces)

),

measured_through as (

    -- A right is measured when it fell due at least the recording lag before the extract's
    -- as-of date (seed victims_code_measure_parameters): its status could have been recorded.
    select
        extracts.data_as_of_date,
        extracts.data_as_of_date - cast(max(measure_parameters.parameter_value) as integer)
            as measured_through_date
    from extracts
    cross join measure_parameters
    where
        extracts.dataset_name = 'force_victims_code'
        and measure_parameters.parameter = 'recording_lag_days'
    group by extracts.data_as_of_date

),

rights_assessed as (

    -- Met: recorded met AND delivered on or before the due date (a late delivery, or none dated,
    -- is not met). Not met: recorded not met, met too late, or still without a status.
    -- Not applicable records are kept, flagged, and out of the denominator.
    select
        records.victims_code_record_key,
        records.geography_key,
        geographies.local_authority_code,
        rights.right_number,
        dates.month_start_date,
        records.due_date,
        records.completed_date,
        records.status,
        coalesce(records.status = 'met' and records.completed_date <= records.due_date, false)
            as is_met,
        coalesce(records.status = 'not_met', false) as is_recorded_not_met,
        coalesce(
            records.status = 'met'
            and (records.completed_date is null or records.completed_date > records.due_date),
            false
        ) as is_met_late,
        records.status is null as is_overdue_without_status,
        coalesce(records.status = 'not_applicable', false) as is_not_applicable,
        measured_through.measured_through_date,
        measured_through.data_as_of_date,
        records._batch_id,
        records.crime_batch_id
    from records
    cross join measured_through
    inner join dates
        on records.due_date_key = dates.date_key
    inner join geographies
        on records.geography_key = geographies.geography_key
    inner join rights
        on records.victims_code_right_key = rights.victims_code_right_key
    where
        dates.month_start_date is not null
        and records.due_date <= measured_through.measured_through_date

)

select
    *,
    is_recorded_not_met or is_met_late or is_overdue_without_status as is_not_met
from rights_assessed
