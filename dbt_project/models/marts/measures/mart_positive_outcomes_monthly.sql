with

outcomes_by_type as (

    select * from {{ ref('mart_outcomes_by_type_monthly') }}

),

outcome_measure_categories as (

    select * from {{ ref('outcome_measure_categories') }}

),

monthly_counts as (

    -- One row per month, local authority and category, adding up the outcome types by the seed's
    -- flags. Each crime sits on exactly one outcome type (its current one), so nothing is counted
    -- twice: a crime charged (1) then amended to 1A counts once, under 1A.
    select
        local_authority_code,
        reporting_category,
        category_label,
        local_authority_name,
        division_name,
        financial_year,
        month_start_date,
        outcomes_as_of_date,
        data_as_of_date,
        is_complete_period,
        sum(crime_count) as crime_count,
        sum(crime_count) filter (where is_open) as awaiting_outcome_count,
        sum(without_outcome_event_count) as without_outcome_event_count,
        sum(crime_count) filter (where not is_open) as assigned_outcome_count,
        sum(crime_count) filter (where is_positive) as positive_count,
        sum(crime_count) filter (where is_charge_summons) as charge_summons_count,
        sum(crime_count) filter (where is_diversion) as diversion_count,
        sum(crime_count) filter (where is_evidential_difficulties) as evidential_difficulties_count,
        -- The three evidential difficulties outcomes PCCs scrutinise for VAWG (HO codes, C).
        sum(crime_count) filter (where outcome_code = '14') as outcome_14_count,
        sum(crime_count) filter (where outcome_code = '15') as outcome_15_count,
        sum(crime_count) filter (where outcome_code = '16') as outcome_16_count,
        sum(crime_count) filter (
            where not (is_open or is_positive or is_diversion or is_evidential_difficulties)
        ) as other_outcome_count
    from outcomes_by_type
    group by
        local_authority_code,
        reporting_category,
        category_label,
        local_authority_name,
        division_name,
        financial_year,
        month_start_date,
        outcomes_as_of_date,
        data_as_of_date,
        is_complete_period

),

counts_typed as (

    select
        monthly_counts.local_authority_code,
        monthly_counts.reporting_category,
        monthly_counts.category_label,
        monthly_counts.local_authority_name,
        monthly_counts.division_name,
        monthly_counts.financial_year,
        outcome_measure_categories.headline_rate,
        cast(coalesce(monthly_counts.crime_count, 0) as integer) as crime_count,
        cast(coalesce(monthly_counts.awaiting_outcome_count, 0) as integer)
            as awaiting_outcome_count,
        cast(coalesce(monthly_counts.without_outcome_event_count, 0) as integer)
            as without_outcome_event_count,
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
        monthly_counts.is_complete_period,
        monthly_counts.month_start_date,
        monthly_counts.outcomes_as_of_date,
        monthly_counts.data_as_of_date
    from monthly_counts
    inner join outcome_measure_categories
        on monthly_counts.reporting_category = outcome_measure_categories.reporting_category

),

rates as (

    -- Percentages rounded to 1 decimal place (macro pct); null when the denominator is 0. "rate"
    -- is over every crime of the cohort (positive / crimes in the cohort), "rate_assigned" and
    -- "share_assigned" over the crimes whose outcome is assigned (never the open ones).
    select
        *,
        {{ pct('awaiting_outcome_count', 'crime_count') }} as awaiting_outcome_pct,
        {{ pct('positive_count', 'crime_count') }} as positive_rate_pct,
        {{ pct('positive_count', 'assigned_outcome_count') }} as positive_rate_assigned_pct,
        {{ pct('charge_summons_count', 'crime_count') }} as charge_summons_rate_pct,
        {{ pct('charge_summons_count', 'assigned_outcome_count') }}
            as charge_summons_rate_assigned_pct,
        {{ pct('diversion_count', 'assigned_outcome_count') }} as diversion_share_assigned_pct,
        {{ pct('evidential_difficulties_count', 'assigned_outcome_count') }}
            as evidential_difficulties_share_assigned_pct,
        {{ pct('outcome_14_count', 'assigned_outcome_count') }} as outcome_14_share_assigned_pct,
        {{ pct('outcome_15_count', 'assigned_outcome_count') }} as outcome_15_share_assigned_pct,
        {{ pct('outcome_16_count', 'assigned_outcome_count') }} as outcome_16_share_assigned_pct
    from counts_typed

),

measures as (

    select
        -- ids
        local_authority_code,
        reporting_category,

        -- strings
        category_label,
        local_authority_name,
        division_name,
        financial_year,
        headline_rate,

        -- numerics
        crime_count,
        awaiting_outcome_count,
        without_outcome_event_count,
        assigned_outcome_count,
        positive_count,
        charge_summons_count,
        diversion_count,
        evidential_difficulties_count,
        outcome_14_count,
        outcome_15_count,
        outcome_16_count,
        other_outcome_count,
        awaiting_outcome_pct,
        positive_rate_pct,
        positive_rate_assigned_pct,
        charge_summons_rate_pct,
        charge_summons_rate_assigned_pct,
        -- The seed names each category's headline rate (outcome_measure_categories.headline_rate).
        case headline_rate
            when 'charge_summons' then charge_summons_rate_pct
            when 'positive' then positive_rate_pct
        end as headline_rate_pct,
        diversion_share_assigned_pct,
        evidential_difficulties_share_assigned_pct,
        outcome_14_share_assigned_pct,
        outcome_15_share_assigned_pct,
        outcome_16_share_assigned_pct,

        -- booleans
        is_complete_period,

        -- dates
        month_start_date,
        outcomes_as_of_date,
        data_as_of_date

    from rates

)

select * from measures
