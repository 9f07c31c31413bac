{#- The force (seed local_authorities) and the publication threshold (seed publication_parameters,
    failing closed), for bi_measure_headlines_*. Reads the CTEs local_authorities and
    publication_parameters. -#}
{% macro measure_headlines_force_and_threshold() -%}

force_area as (

    -- The force the local authorities belong to (one row).
    select
        min(police_force_area_code) as area_code,
        min(police_force_area_name) as area_name
    from local_authorities

),

threshold as (

    -- A missing threshold fails closed (every force-wide count suppressed), as the
    -- publication layer does.
    select
        coalesce(
            max(
                case
                    when parameter = 'suppression_threshold'
                        then cast(parameter_value as integer)
                end
            ),
            2147483647
        ) as suppression_threshold,
        coalesce(
            bool_or(
                case
                    when parameter = 'suppress_zero_counts' then cast(parameter_value as boolean)
                end
            ),
            true
        ) as suppress_zero_counts
    from publication_parameters

)

{%- endmacro %}


{#- The common end of bi_measure_headlines_*: each row with its series and expectation (seed
    measure_headline_series) and its status. Reads the CTEs all_rows and series. -#}
{% macro measure_headlines_final() -%}

valued as (

    -- A suppressed numerator or denominator is not shown, and a rate over either is not either;
    -- the other count shows as published.
    select
        all_rows.measure_id,
        all_rows.series_id,
        series.series_label,
        series.value_kind,
        all_rows.area_level,
        all_rows.area_code,
        all_rows.area_name,
        case when not all_rows.numerator_is_suppressed then all_rows.numerator end as numerator,
        case when not all_rows.denominator_is_suppressed then all_rows.denominator end
            as denominator,
        case
            when all_rows.numerator_is_suppressed or all_rows.denominator_is_suppressed then null
            when series.value_kind = 'proportion'
                then {{ pct('all_rows.numerator', 'all_rows.denominator') }}
            else all_rows.numerator
        end as value,
        series.expectation_kind,
        series.expectation_low,
        series.expectation_high,
        case series.value_kind when 'proportion' then '%' when 'money' then ' GBP' else '' end
            as unit,
        series.is_graded,
        series.expectation_note,
        series.source as expectation_source,
        series.is_headline,
        series.sort_order as series_order,
        all_rows.numerator_is_suppressed or all_rows.denominator_is_suppressed as is_suppressed,
        all_rows.numerator_is_suppressed,
        all_rows.denominator_is_suppressed,
        all_rows.is_complete_period,
        all_rows.has_full_history,
        all_rows.period_start_date,
        all_rows.data_as_of_date
    from all_rows
    inner join series
        on
            all_rows.measure_id = series.measure_id
            and all_rows.series_id = series.series_id

),

headlines as (

    select
        -- ids
        measure_id,
        series_id,
        area_code,

        -- strings
        series_label,
        value_kind,
        area_level,
        area_name,
        case expectation_kind
            when 'at_least' then 'at least ' || expectation_low || unit
            when 'at_most' then 'at most ' || expectation_high || unit
            when 'between'
                then 'between ' || expectation_low || unit || ' and ' || expectation_high || unit
            else 'none agreed'
        end
            as expectation,
        case
            when not is_graded then 'not graded: no target agreed'
            when not is_complete_period then 'not graded: incomplete period'
            when is_suppressed or value is null then 'not graded: no figure published'
            when expectation_kind = 'at_least' and value >= expectation_low
                then 'meets the expectation'
            when expectation_kind = 'at_most' and value <= expectation_high
                then 'meets the expectation'
            when
                expectation_kind = 'between' and value between expectation_low and expectation_high
                then 'meets the expectation'
            else 'misses the expectation'
        end as status,
        expectation_kind,
        expectation_note,
        expectation_source,

        -- numerics
        cast(value as numeric(16, 2)) as value,
        cast(numerator as numeric(16, 2)) as numerator,
        cast(denominator as bigint) as denominator,
        cast(expectation_low as numeric(16, 2)) as expectation_low,
        cast(expectation_high as numeric(16, 2)) as expectation_high,
        series_order,

        -- booleans
        is_headline,
        is_graded,
        is_suppressed,
        numerator_is_suppressed,
        denominator_is_suppressed,
        is_complete_period,
        has_full_history,

        -- dates
        period_start_date,
        data_as_of_date

    from valued

)

{%- endmacro %}
