{#-
    Measure 6 of bi.measure_headlines: additional Government funding (the headline) and all
    Government funding (context) by financial year, force-wide (sums of money awarded to the
    office: nothing to suppress). Measures 1 to 5 are bi_measure_headlines_force;
    bi.measure_headlines is the union of the two (macro bi_measure_headlines_union).
-#}

{#- An exception to folder-level config: after this view, remake bi.measure_headlines, the union
    of both parts (macros/bi.sql), so the last family to finish shows every measure. -#}
{{ config(post_hook=[{"sql": "{{ bi_measure_headlines_union() }}", "transaction": false}]) }}

with

funding as (

    select * from {{ ref('mart_funding_secured_yearly') }}

),

series as (

    select * from {{ ref('measure_headline_series') }}

),

local_authorities as (

    select * from {{ ref('local_authorities') }}
    where force_code = {{ home_force() }}  -- the home force's (seed forces)

),

publication_parameters as (

    select * from {{ ref('publication_parameters') }}

),

{{ measure_headlines_force_and_threshold() }},

funding_figures as (

    -- Measure 6: Government funders only (seed funders). Additional funding needs the
    -- baseline of each core allocation: a year where one is unknown lacks full history.
    select
        'funding' as measure_id,
        series_id,
        make_date(financial_year_start_year, 4, 1) as period_start_date,
        sum(
            case
                when series_id = 'additional_government' then additional_amount_awarded
                else amount_awarded
            end
        ) as amount,
        bool_and(is_complete_period) as is_complete_period,
        bool_and(
            series_id = 'government_total'
            or additional_amount_awarded is not null
            or amount_awarded = 0
        ) as has_full_history,
        max(data_as_of_date) as data_as_of_date
    from funding
    cross join (
        values ('additional_government'), ('government_total')
    ) as funding_series (series_id)
    where is_government_funding
    group by series_id, financial_year_start_year

),

force_rows as (

    select
        funding_figures.measure_id,
        funding_figures.series_id,
        'force' as area_level,
        force_area.area_code,
        force_area.area_name,
        funding_figures.period_start_date,
        funding_figures.amount as numerator,
        cast(null as bigint) as denominator,
        false as numerator_is_suppressed,
        false as denominator_is_suppressed,
        funding_figures.is_complete_period,
        funding_figures.has_full_history,
        funding_figures.data_as_of_date
    from funding_figures
    cross join force_area

),

all_rows as (

    -- Sums of money awarded to the office: force-wide only, nothing to suppress.
    select * from force_rows

),

{{ measure_headlines_final() }}

select * from headlines
