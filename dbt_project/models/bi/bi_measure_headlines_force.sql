{#-
    Measures 1 to 5 of bi.measure_headlines, one figure per measure x series x period x area
    (measure 6 is bi_measure_headlines_funding; bi.measure_headlines is the union of the two,
    made by macro bi_measure_headlines_union after each is built, so neither family's build
    waits for the other's).

    Force-wide rows (area_level 'force', the force named in seed local_authorities) are computed
    from the exact figures of the measure marts (totals over every local authority, the unknown
    one included): the figure the Panel sees. A force-wide count below the publication threshold
    (seed publication_parameters) is suppressed, and so is a rate whose numerator or denominator
    is. Local-authority rows come from the publication tables as published: a suppressed cell
    stays suppressed (null, is_suppressed), and a figure summed over several published cells
    (police orders over order types) is suppressed when any of them is. Which series stand for
    each measure, and what is expected of them, is seed measure_headline_series.
-#}

{#- An exception to folder-level config: after this view, remake bi.measure_headlines, the union
    of both parts (macros/bi.sql), so the last family to finish shows every measure. -#}
{{ config(post_hook=[{"sql": "{{ bi_measure_headlines_union() }}", "transaction": false}]) }}

with

reporting as (

    select * from {{ ref('mart_reporting_monthly') }}

),

reporting_published as (

    select * from {{ ref('pub_mart_reporting_monthly') }}

),

outcomes as (

    select * from {{ ref('mart_positive_outcomes_closed_monthly') }}

),

outcomes_published as (

    select * from {{ ref('pub_mart_positive_outcomes_closed_monthly') }}

),

marac as (

    select * from {{ ref('mart_marac_repeat_monthly') }}

),

marac_published as (

    select * from {{ ref('pub_mart_marac_repeat_monthly') }}

),

victims_code as (

    select * from {{ ref('mart_victims_code_compliance_monthly') }}

),

victims_code_published as (

    select * from {{ ref('pub_mart_victims_code_compliance_monthly') }}

),

orders as (

    select * from {{ ref('mart_protective_orders_monthly') }}

),

orders_published as (

    select * from {{ ref('pub_mart_protective_orders_monthly') }}

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

force_figures as (

    select
        'reporting' as measure_id,
        reporting_category as series_id,
        month_start_date as period_start_date,
        sum(crime_count) as numerator,
        cast(null as bigint) as denominator,
        bool_and(is_complete_period) as is_complete_period,
        true as has_full_history,
        max(data_as_of_date) as data_as_of_date
    from reporting
    group by reporting_category, month_start_date

    union all

    -- Measure 2: the category's headline rate (seed outcome_measure_categories) over the
    -- outcomes assigned in the month.
    select
        'positive_outcomes',
        reporting_category,
        month_start_date,
        sum(
            case headline_rate when 'positive' then positive_count else charge_summons_count end
        ),
        sum(assigned_outcome_count),
        bool_and(is_complete_period),
        bool_and(has_full_history),
        max(data_as_of_date)
    from outcomes
    group by reporting_category, month_start_date

    union all

    select
        'marac_repeat',
        'all_cases',
        month_start_date,
        sum(repeat_cases),
        sum(cases_heard),
        bool_and(is_complete_period),
        bool_and(has_full_history),
        max(data_as_of_date)
    from marac
    group by month_start_date

    union all

    select
        'victims_code',
        'all_rights',
        month_start_date,
        sum(met_count),
        sum(applicable_count),
        bool_and(is_complete_period),
        true,
        max(data_as_of_date)
    from victims_code
    where right_number = 0
    group by month_start_date

    union all

    -- Measure 5: orders the police apply for (after a notice, or on their own application)
    -- apart from the orders courts make on a victim's application or at sentence (seed
    -- order_types, order_category 'order').
    select
        'protective_orders',
        case when order_category = 'order' then 'court_orders' else 'police_orders' end,
        month_start_date,
        sum(orders_granted),
        null,
        bool_and(is_complete_period),
        true,
        max(data_as_of_date)
    from orders
    group by
        case when order_category = 'order' then 'court_orders' else 'police_orders' end,
        month_start_date

),

force_rows as (

    select
        force_figures.measure_id,
        force_figures.series_id,
        'force' as area_level,
        force_area.area_code,
        force_area.area_name,
        force_figures.period_start_date,
        force_figures.numerator,
        force_figures.denominator,
        force_figures.numerator < threshold.suppression_threshold
        and (force_figures.numerator > 0 or threshold.suppress_zero_counts)
            as numerator_is_suppressed,
        coalesce(
            force_figures.denominator < threshold.suppression_threshold
            and (force_figures.denominator > 0 or threshold.suppress_zero_counts),
            false
        ) as denominator_is_suppressed,
        force_figures.is_complete_period,
        force_figures.has_full_history,
        force_figures.data_as_of_date
    from force_figures
    cross join force_area
    cross join threshold

),

local_authority_cells as (

    select
        'reporting' as measure_id,
        reporting_category as series_id,
        local_authority_code as area_code,
        local_authority_name as area_name,
        month_start_date as period_start_date,
        crime_count as numerator,
        cast(null as bigint) as denominator,
        crime_count_is_suppressed as numerator_is_suppressed,
        false as denominator_is_suppressed
    from reporting_published

    union all

    select
        'positive_outcomes',
        reporting_category,
        local_authority_code,
        local_authority_name,
        month_start_date,
        case headline_rate when 'positive' then positive_count else charge_summons_count end,
        assigned_outcome_count,
        case headline_rate
            when 'positive' then positive_count_is_suppressed
            else charge_summons_count_is_suppressed
        end,
        assigned_outcome_count_is_suppressed
    from outcomes_published

    union all

    select
        'marac_repeat',
        'all_cases',
        local_authority_code,
        local_authority_name,
        month_start_date,
        repeat_cases,
        cases_heard,
        repeat_cases_is_suppressed,
        cases_heard_is_suppressed
    from marac_published

    union all

    select
        'victims_code',
        'all_rights',
        local_authority_code,
        local_authority_name,
        month_start_date,
        met_count,
        applicable_count,
        met_count_is_suppressed,
        applicable_count_is_suppressed
    from victims_code_published
    where right_number = 0

),

local_authority_orders as (

    -- A sum of published cells: published only when every cell in it is.
    select
        'protective_orders' as measure_id,
        case when order_category = 'order' then 'court_orders' else 'police_orders' end
            as series_id,
        local_authority_code as area_code,
        local_authority_name as area_name,
        month_start_date as period_start_date,
        case
            when not bool_or(orders_granted_is_suppressed) then sum(orders_granted)
        end as numerator,
        cast(null as bigint) as denominator,
        bool_or(orders_granted_is_suppressed) as numerator_is_suppressed,
        false as denominator_is_suppressed
    from orders_published
    group by
        case when order_category = 'order' then 'court_orders' else 'police_orders' end,
        local_authority_code,
        local_authority_name,
        month_start_date

),

local_authority_rows as (

    select
        cells.measure_id,
        cells.series_id,
        'local_authority' as area_level,
        cells.area_code,
        cells.area_name,
        cells.period_start_date,
        cells.numerator,
        cells.denominator,
        cells.numerator_is_suppressed,
        cells.denominator_is_suppressed,
        force_rows.is_complete_period,
        force_rows.has_full_history,
        force_rows.data_as_of_date
    from (
        select * from local_authority_cells
        union all
        select * from local_authority_orders
    ) as cells
    inner join force_rows
        on
            cells.measure_id = force_rows.measure_id
            and cells.series_id = force_rows.series_id
            and cells.period_start_date = force_rows.period_start_date

),

all_rows as (

    select * from force_rows
    union all
    select * from local_authority_rows

),

{{ measure_headlines_final() }}

select * from headlines
