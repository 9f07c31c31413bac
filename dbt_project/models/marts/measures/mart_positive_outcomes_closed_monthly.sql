with

closed_crimes as (

    select * from {{ ref('int_closed_crimes_classified') }}

),

categorised_crimes as (

    select * from {{ ref('int_crimes_categorised') }}

),

outcome_events as (

    select * from {{ ref('fct_crime_outcome_event') }}

),

extracts as (

    select * from {{ ref('int_force_extracts_dated') }}

),

month_local_authorities as (

    select * from {{ ref('int_month_local_authority_grid') }}

),

reporting_categories as (

    select * from {{ ref('reporting_categories') }}

),

outcome_measure_categories as (

    select * from {{ ref('outcome_measure_categories') }}

),

measure_parameters as (

    select * from {{ ref('outcome_measure_parameters') }}
    where force_code = {{ home_force() }}  -- the home force's settings (seed forces)

),

measured_categories as (

    -- The categories measure 2 reports (seed outcome_measure_categories), with their headline
    -- rate.
    select
        reporting_categories.reporting_category,
        reporting_categories.category_label,
        outcome_measure_categories.headline_rate
    from reporting_categories
    inner join outcome_measure_categories
        on reporting_categories.reporting_category = outcome_measure_categories.reporting_category

),

monthly_counts as (

    select
        geography_key,
        reporting_category,
        month_start_date,
        count(*) as assigned_outcome_count,
        count(*) filter (where is_positive) as positive_count,
        count(*) filter (where is_charge_summons) as charge_summons_count,
        count(*) filter (where is_diversion) as diversion_count,
        count(*) filter (where is_evidential_difficulties) as evidential_difficulties_count,
        -- The three evidential difficulties outcomes PCCs scrutinise for VAWG (HO codes, C).
        count(*) filter (where outcome_code = '14') as outcome_14_count,
        count(*) filter (where outcome_code = '15') as outcome_15_count,
        count(*) filter (where outcome_code = '16') as outcome_16_count,
        count(*) filter (
            where not (is_positive or is_diversion or is_evidential_difficulties)
        ) as other_outcome_count,
        count(*) filter (where had_earlier_assigned_outcome) as changed_outcome_count
    from closed_crimes
    group by geography_key, reporting_category, month_start_date

),

history as (

    -- Outcomes assigned to crimes recorded before the crimes extract starts are not here: a
    -- month has the history it needs when it starts at least closed_basis_history_months after
    -- the extract's first recorded month (seed outcome_measure_parameters).
    select
        cast(
            (select min(month_start_date) from categorised_crimes)
            + make_interval(months => cast(max(parameter_value) as integer))
            as date
        ) as full_history_from_month
    from measure_parameters
    where parameter = 'closed_basis_history_months'

),

outcome_months as (

    {#- Every month from the first month an outcome was assigned in to the last, so months
        without outcomes show 0. -#}
    {{ reporting_months(
        "select min(date_trunc('month', outcome_date)) from outcome_events",
        "select max(date_trunc('month', outcome_date)) from outcome_events",
    ) }}

),

outcomes_as_of as (

    -- The latest outcome date in the data (a crime's outcome may still change after it) and the
    -- outcomes extract's as-of date (a month is complete when it covers the month's last day).
    select
        (select max(outcome_date) from outcome_events) as outcomes_as_of_date,
        (select data_as_of_date from extracts where dataset_name = 'force_outcomes')
            as data_as_of_date

),

grid as (

    -- month x local authority (the unknown member too) x measured category.
    select
        outcome_months.geography_key,
        outcome_months.local_authority_code,
        outcome_months.local_authority_name,
        outcome_months.division_name,
        measured_categories.reporting_category,
        measured_categories.category_label,
        measured_categories.headline_rate,
        outcome_months.financial_year,
        outcome_months.month_start_date
    from outcome_months
    cross join measured_categories

),

counts_typed as (

    select
        grid.*,
        cast(coalesce(monthly_counts.assigned_outcome_count, 0) as integer)
            as assigned_outcome_count,
        cast(coalesce(monthly_counts.positive_count, 0) as integer) as positive_count,
        cast(coalesce(monthly_counts.charge_summons_count, 0) as integer) as charge_summons_count,
        cast(coalesce(monthly_counts.diversion_count, 0) as integer) as diversion_count,
        cast(coalesce(monthly_counts.evidential_difficulties_count, 0) as integer)
            as evidential_difficulties_count,
        cast(coalesce(monthly_counts.outcome_14_count, 0) as integer) as outcome_14_count,
        cast(coalesce(monthly_counts.outcome_15_count, 0) as integer) as outcome_15_count,
        cast(coalesce(monthly_counts.outcome_16_count, 0) as integer) as outcome_16_count,
        cast(coalesce(monthly_counts.other_outcome_count, 0) as integer) as other_outcome_count,
        cast(coalesce(monthly_counts.changed_outcome_count, 0) as integer)
            as changed_outcome_count
    from grid
    left join monthly_counts
        on
            grid.geography_key = monthly_counts.geography_key
            and grid.reporting_category = monthly_counts.reporting_category
            and grid.month_start_date = monthly_counts.month_start_date

),

rates as (

    -- Percentages of the outcomes assigned in the month, rounded to 1 decimal place (macro pct);
    -- null when none was assigned. Open crimes (outcome 0) are never in this denominator.
    select
        *,
        {{ pct('positive_count', 'assigned_outcome_count') }} as positive_rate_pct,
        {{ pct('charge_summons_count', 'assigned_outcome_count') }} as charge_summons_rate_pct,
        {{ pct('diversion_count', 'assigned_outcome_count') }} as diversion_share_pct,
        {{ pct('evidential_difficulties_count', 'assigned_outcome_count') }}
            as evidential_difficulties_share_pct,
        {{ pct('outcome_14_count', 'assigned_outcome_count') }} as outcome_14_share_pct,
        {{ pct('outcome_15_count', 'assigned_outcome_count') }} as outcome_15_share_pct,
        {{ pct('outcome_16_count', 'assigned_outcome_count') }} as outcome_16_share_pct
    from counts_typed

),

measures as (

    select
        -- ids
        rates.local_authority_code,
        rates.reporting_category,

        -- strings
        rates.category_label,
        rates.local_authority_name,
        rates.division_name,
        rates.financial_year,
        rates.headline_rate,

        -- numerics
        rates.assigned_outcome_count,
        rates.positive_count,
        rates.charge_summons_count,
        rates.diversion_count,
        rates.evidential_difficulties_count,
        rates.outcome_14_count,
        rates.outcome_15_count,
        rates.outcome_16_count,
        rates.other_outcome_count,
        rates.changed_outcome_count,
        rates.positive_rate_pct,
        rates.charge_summons_rate_pct,
        -- The seed names each category's headline rate (outcome_measure_categories.headline_rate).
        case rates.headline_rate
            when 'charge_summons' then rates.charge_summons_rate_pct
            when 'positive' then rates.positive_rate_pct
        end as headline_rate_pct,
        rates.diversion_share_pct,
        rates.evidential_difficulties_share_pct,
        rates.outcome_14_share_pct,
        rates.outcome_15_share_pct,
        rates.outcome_16_share_pct,

        -- booleans
        {{ is_complete_period('rates.month_start_date', 'outcomes_as_of.data_as_of_date') }}
            as is_complete_period,
        coalesce(rates.month_start_date >= history.full_history_from_month, false)
            as has_full_history,

        -- dates
        rates.month_start_date,
        outcomes_as_of.outcomes_as_of_date,
        outcomes_as_of.data_as_of_date

    from rates
    cross join outcomes_as_of
    cross join history

)

select * from measures
