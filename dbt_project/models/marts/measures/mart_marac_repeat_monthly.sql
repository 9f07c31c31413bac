with

marac_cases as (

    select * from {{ ref('fct_marac_case') }}

),

dates as (

    select * from {{ ref('dim_date') }}

),

geographies as (

    select * from {{ ref('dim_geography') }}

),

populations as (

    select * from {{ ref('int_populations_unpivoted') }}

),

measure_parameters as (

    select * from {{ ref('marac_measure_parameters') }}

),

parameters_typed as (

    -- One row: the seed's parameters (window, date compared, perpetrator matching, population).
    select
        cast(
            max(case when parameter = 'window_months' then parameter_value end) as integer
        ) as window_months,
        max(case when parameter = 'date_basis' then parameter_value end) as date_basis,
        cast(
            max(case when parameter = 'match_perpetrator' then parameter_value end) as boolean
        ) as match_perpetrator,
        max(case when parameter = 'population_basis' then parameter_value end) as population_basis
    from measure_parameters

),

cases_compared as (

    -- Each case with the date the window compares and who it must match to be a repeat: the
    -- same victim, and (only when match_perpetrator) the same perpetrator, unknown matching unknown.
    select
        marac_cases.case_id,
        marac_cases.geography_key,
        marac_cases.heard_date_key,
        marac_cases.victim_pseudonym,
        case
            when parameters_typed.match_perpetrator
                then coalesce(marac_cases.perpetrator_pseudonym, '')
            else ''
        end as perpetrator_match,
        case
            when parameters_typed.date_basis = 'date_heard' then marac_cases.heard_date
            else marac_cases.referred_date
        end as compared_date,
        marac_cases.heard_date,
        parameters_typed.window_months
    from marac_cases
    cross join parameters_typed

),

cases_with_last_referral as (

    -- The victim's LAST referral before this one, over the whole history of cases (a repeat in
    -- January can follow a referral of last March), not only the month heard.
    select
        *,
        lag(compared_date) over (
            partition by victim_pseudonym, perpetrator_match
            order by compared_date, heard_date, case_id
        ) as last_referral_date
    from cases_compared

),

cases_flagged as (

    -- SafeLives: a repeat is a case referred again within window_months of the last referral.
    select
        geography_key,
        heard_date_key,
        window_months,
        coalesce(
            compared_date
            <= cast(last_referral_date + make_interval(months => window_months) as date),
            false
        ) as is_repeat
    from cases_with_last_referral

),

monthly_counts as (

    select
        cases_flagged.geography_key,
        dates.month_start_date,
        count(*) as cases_heard,
        count(*) filter (where cases_flagged.is_repeat) as repeat_cases
    from cases_flagged
    inner join dates
        on cases_flagged.heard_date_key = dates.date_key
    where dates.month_start_date is not null
    group by cases_flagged.geography_key, dates.month_start_date

),

reporting_months as (

    -- Every month from the first month heard to the last, so months without cases show 0.
    select
        dates.financial_year,
        dates.month_start_date
    from dates
    where
        dates.calendar_date = dates.month_start_date
        and dates.month_start_date >= (select min(month_start_date) from monthly_counts)
        and dates.month_start_date <= (select max(month_start_date) from monthly_counts)

),

grid as (

    -- month x local authority (the unknown member too, so totals reconcile with the fact).
    select
        geographies.geography_key,
        geographies.local_authority_code,
        geographies.local_authority_name,
        geographies.division_name,
        reporting_months.financial_year,
        reporting_months.month_start_date
    from reporting_months
    cross join geographies

),

grid_counted as (

    -- The population is the estimate of the seed's basis that applies to the month's year.
    select
        grid.*,
        cast(coalesce(monthly_counts.cases_heard, 0) as integer) as cases_heard,
        cast(coalesce(monthly_counts.repeat_cases, 0) as integer) as repeat_cases,
        populations.population,
        populations.reference_year as population_reference_year,
        parameters_typed.window_months
    from grid
    cross join parameters_typed
    left join monthly_counts
        on
            grid.geography_key = monthly_counts.geography_key
            and grid.month_start_date = monthly_counts.month_start_date
    left join populations
        on
            grid.local_authority_code = populations.local_authority_code
            and parameters_typed.population_basis = populations.population_basis
            and extract(year from grid.month_start_date)
            between populations.applies_from_year and populations.applies_to_year

),

measures as (

    select
        -- ids
        local_authority_code,

        -- strings
        local_authority_name,
        division_name,
        financial_year,

        -- numerics
        cases_heard,
        repeat_cases,
        cast(
            round(cast(repeat_cases as numeric) / nullif(cases_heard, 0), 4) as numeric(6, 4)
        ) as repeat_rate,
        population as population_women,
        population_reference_year,
        cast(
            round(10000.0 * cases_heard / nullif(population, 0), 4) as numeric(12, 4)
        ) as cases_per_10000_women,
        window_months as repeat_window_months,

        -- dates
        month_start_date

    from grid_counted

)

select * from measures
