{#-
    Measure 3's repeat rule, once: each MARAC case, whether it is a repeat (SafeLives, seed
    marac_measure_parameters) and the month it was heard. mart_marac_repeat_monthly counts it;
    lineage_marac_repeat_monthly lists its batches.
-#}
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

measure_parameters as (

    select * from {{ ref('marac_measure_parameters') }}
    where force_code = {{ home_force() }}  -- the home force's settings (seed forces)

),

parameters_typed as (

    select
        cast(
            max(case when parameter = 'window_months' then parameter_value end) as integer
        ) as window_months,
        max(case when parameter = 'date_basis' then parameter_value end) as date_basis,
        cast(
            max(case when parameter = 'match_perpetrator' then parameter_value end) as boolean
        ) as match_perpetrator
    from measure_parameters

),

cases_compared as (

    -- Each case with the date the window compares and who it must match to be a repeat: the
    -- same victim, and (only when match_perpetrator) the same perpetrator, unknown matching unknown.
    select
        marac_cases.marac_case_key,
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
        parameters_typed.window_months,
        marac_cases._batch_id
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
        cases_with_last_referral.marac_case_key,
        cases_with_last_referral.geography_key,
        geographies.local_authority_code,
        dates.month_start_date,
        cases_with_last_referral.compared_date,
        cases_with_last_referral.last_referral_date,
        cases_with_last_referral.window_months,
        coalesce(
            cases_with_last_referral.compared_date
            <= cast(
                cases_with_last_referral.last_referral_date
                + make_interval(months => cases_with_last_referral.window_months) as date
            ),
            false
        ) as is_repeat,
        cases_with_last_referral._batch_id
    from cases_with_last_referral
    inner join dates
        on cases_with_last_referral.heard_date_key = dates.date_key
    inner join geographies
        on cases_with_last_referral.geography_key = geographies.geography_key
    where dates.month_start_date is not null

)

select * from cases_flagged
