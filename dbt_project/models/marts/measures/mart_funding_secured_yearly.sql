with

grants as (

    select * from {{ ref('int_grants_classified') }}

),

funders as (

    select * from {{ ref('dim_funder') }}

),

schemes as (

    select * from {{ ref('dim_funding_scheme') }}

),

additionality_rules as (

    select * from {{ ref('funding_additionality_rules') }}

),

measure_parameters as (

    select * from {{ ref('funding_measure_parameters') }}
    where force_code = {{ home_force() }}  -- the home force's settings (seed forces)

),

dates as (

    select * from {{ ref('dim_date') }}

),

yearly_totals as (

    -- Money of the grants for each financial year (the year the money is for), as the latest
    -- register snapshot records it. A declined bid counts in applied only; an allocation (no bid)
    -- in awarded and received only.
    select
        financial_year_start_year,
        funder_key,
        funding_scheme_key,
        count(*) as grant_count,
        count(amount_awarded) as awarded_grant_count,
        coalesce(sum(amount_applied), 0) as amount_applied,
        coalesce(sum(amount_awarded), 0) as amount_awarded,
        coalesce(sum(amount_received), 0) as amount_received
    from grants
    group by financial_year_start_year, funder_key, funding_scheme_key

),

register_as_of as (

    -- The data are as of the latest register snapshot; a financial year is complete once a
    -- snapshot is dated on or after its last day (31 March).
    select max(register_date) as data_as_of_date
    from grants

),

baseline_rule as (

    -- The baseline of a core allocation (seed funding_measure_parameters): the previous
    -- financial year's award, or the award of a fixed financial year (e.g. 2024/25).
    select
        max(parameter_value) = 'previous_financial_year' as is_previous_year,
        cast(
            case
                when max(parameter_value) ~ '^20[0-9]{2}/[0-9]{2}$'
                    then left(max(parameter_value), 4)
            end as integer
        ) as baseline_start_year
    from measure_parameters
    where parameter = 'core_allocation_baseline'

),

financial_years as (

    -- Every financial year from the first in the register to the last, so a year without a
    -- grant from a scheme shows 0 (and next year's change is against 0, not missing).
    select distinct
        financial_year_start_year,
        financial_year
    from dates
    where
        financial_year_start_year
        between (select min(financial_year_start_year) from yearly_totals)
        and (select max(financial_year_start_year) from yearly_totals)

),

funder_schemes as (

    select distinct
        funder_key,
        funding_scheme_key
    from yearly_totals

),

grid as (

    select
        financial_years.financial_year_start_year,
        financial_years.financial_year,
        funder_schemes.funder_key,
        funder_schemes.funding_scheme_key,
        cast(coalesce(yearly_totals.grant_count, 0) as integer) as grant_count,
        cast(coalesce(yearly_totals.awarded_grant_count, 0) as integer) as awarded_grant_count,
        coalesce(yearly_totals.amount_applied, 0) as amount_applied,
        coalesce(yearly_totals.amount_awarded, 0) as amount_awarded,
        coalesce(yearly_totals.amount_received, 0) as amount_received
    from financial_years
    cross join funder_schemes
    left join yearly_totals
        on
            financial_years.financial_year_start_year = yearly_totals.financial_year_start_year
            and funder_schemes.funder_key = yearly_totals.funder_key
            and funder_schemes.funding_scheme_key = yearly_totals.funding_scheme_key

),

compared_with_previous_year as (

    -- The previous financial year: null when it is before the first year in the register. The
    -- baseline of a core allocation: the previous year's award, or the fixed year's (null when
    -- that year is not in the register). A year is complete once the register covers its end.
    select
        this_year.*,
        previous_year.amount_applied as amount_applied_previous_year,
        previous_year.amount_awarded as amount_awarded_previous_year,
        previous_year.amount_received as amount_received_previous_year,
        case
            when baseline_rule.is_previous_year then previous_year.amount_awarded
            else fixed_year.amount_awarded
        end as baseline_amount_awarded,
        {{ is_complete_period(
            'make_date(this_year.financial_year_start_year, 4, 1)',
            'register_as_of.data_as_of_date',
            period='1 year',
        ) }} as is_complete_period,
        register_as_of.data_as_of_date
    from grid as this_year
    cross join baseline_rule
    cross join register_as_of
    left join grid as previous_year
        on
            this_year.funder_key = previous_year.funder_key
            and this_year.funding_scheme_key = previous_year.funding_scheme_key
            and previous_year.financial_year_start_year = this_year.financial_year_start_year - 1
    left join grid as fixed_year
        on
            this_year.funder_key = fixed_year.funder_key
            and this_year.funding_scheme_key = fixed_year.funding_scheme_key
            and baseline_rule.baseline_start_year = fixed_year.financial_year_start_year

),

measured as (

    select
        -- ids
        compared_with_previous_year.financial_year,
        funders.funder_name,
        schemes.scheme_name,

        -- strings
        funders.funder_type,
        funders.classification_status as funder_type_status,
        schemes.allocation_type,
        additionality_rules.additional_rule,

        -- numerics
        compared_with_previous_year.financial_year_start_year,
        compared_with_previous_year.grant_count,
        compared_with_previous_year.awarded_grant_count,
        cast(compared_with_previous_year.amount_applied as numeric(14, 2)) as amount_applied,
        cast(compared_with_previous_year.amount_awarded as numeric(14, 2)) as amount_awarded,
        cast(compared_with_previous_year.amount_received as numeric(14, 2)) as amount_received,
        cast(compared_with_previous_year.amount_applied_previous_year as numeric(14, 2))
            as amount_applied_previous_year,
        cast(compared_with_previous_year.amount_awarded_previous_year as numeric(14, 2))
            as amount_awarded_previous_year,
        cast(compared_with_previous_year.amount_received_previous_year as numeric(14, 2))
            as amount_received_previous_year,
        cast(
            case
                when compared_with_previous_year.is_complete_period
                    then
                        compared_with_previous_year.amount_applied
                        - compared_with_previous_year.amount_applied_previous_year
            end as numeric(14, 2)
        ) as change_in_applied,
        cast(
            case
                when compared_with_previous_year.is_complete_period
                    then
                        compared_with_previous_year.amount_awarded
                        - compared_with_previous_year.amount_awarded_previous_year
            end as numeric(14, 2)
        ) as change_in_awarded,
        cast(
            case
                when compared_with_previous_year.is_complete_period
                    then
                        compared_with_previous_year.amount_received
                        - compared_with_previous_year.amount_received_previous_year
            end as numeric(14, 2)
        ) as change_in_received,
        case
            when compared_with_previous_year.is_complete_period
                then {{ pct(
                    'compared_with_previous_year.amount_awarded'
                    ~ ' - compared_with_previous_year.amount_awarded_previous_year',
                    'compared_with_previous_year.amount_awarded_previous_year',
                    data_type='numeric(12, 1)',
                ) }}
        end as change_in_awarded_pct,
        -- Additional (seed funding_additionality_rules): the whole award of a competitive or new
        -- award; of a core allocation, only its uplift on the baseline (never below 0; null when
        -- the baseline year is not in the register).
        cast(compared_with_previous_year.baseline_amount_awarded as numeric(14, 2))
            as baseline_amount_awarded,
        cast(
            case additionality_rules.additional_rule
                when 'whole_award' then compared_with_previous_year.amount_awarded
                when 'uplift_on_baseline'
                    -- (greatest ignores a null: the baseline must be there)
                    then case
                        when compared_with_previous_year.baseline_amount_awarded is not null
                            then greatest(
                                compared_with_previous_year.amount_awarded
                                - compared_with_previous_year.baseline_amount_awarded,
                                0
                            )
                    end
            end as numeric(14, 2)
        ) as additional_amount_awarded,

        -- booleans
        funders.is_government_funder as is_government_funding,
        schemes.is_competitive,
        compared_with_previous_year.is_complete_period,

        -- dates
        compared_with_previous_year.data_as_of_date

    from compared_with_previous_year
    inner join funders
        on compared_with_previous_year.funder_key = funders.funder_key
    inner join schemes
        on compared_with_previous_year.funding_scheme_key = schemes.funding_scheme_key
    left join additionality_rules
        on schemes.allocation_type = additionality_rules.allocation_type

)

select * from measured
