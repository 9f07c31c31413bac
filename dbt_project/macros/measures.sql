{#-
    Formulas the measure marts share, written once (docs/measures.md says which mart uses which).
-#}


{#-
    A percentage: 100 x numerator / denominator, rounded; null when the denominator is 0 or null.
    Every rate of a measure mart is a percentage (a _pct column), never a fraction.
-#}
{% macro pct(numerator, denominator, places=1, data_type='numeric(5, 1)') -%}
    cast(round(100.0 * ({{ numerator }}) / nullif({{ denominator }}, 0), {{ places }}) as {{ data_type }})
{%- endmacro %}


{#-
    A rate per `per` of a population: per x count / population, rounded; null when the population
    is 0 or unknown.
-#}
{% macro rate_per(count, population, per, places=4, data_type='numeric(12, 4)') -%}
    cast(round({{ per }}.0 * ({{ count }}) / nullif({{ population }}, 0), {{ places }}) as {{ data_type }})
{%- endmacro %}


{#-
    The latest version of each row of a source that restates rows: in a window over the rows of
    one key, the row of the highest load batch (then the last row of the file) is version 1.
    Gives version_rank and version_count; keep `where version_rank = 1`.
-#}
{% macro version_rank(key_columns, order_by='_batch_id desc, _row_number desc') -%}
        row_number() over (
            partition by {{ key_columns | join(', ') }}
            order by {{ order_by }}
        ) as version_rank,
        count(*) over (partition by {{ key_columns | join(', ') }}) as version_count
{%- endmacro %}


{#-
    The reporting grid of a monthly measure mart: the rows of int_month_local_authority_grid
    (every month x every local authority, built once) from `first_month` to `last_month` (SQL
    expressions giving first days of months), so a month without events shows 0 rather than
    being missing. `grid` is the CTE that selects that model.
-#}
{% macro reporting_months(first_month, last_month, grid='month_local_authorities') -%}
    select {{ grid }}.*
    from {{ grid }}
    where
        {{ grid }}.month_start_date >= ({{ first_month }})
        and {{ grid }}.month_start_date <= ({{ last_month }})
{%- endmacro %}


{#-
    The data's as-of date of a force extract: the last whole day it covers, the day before its
    latest extraction (a file extracted at 01:15 on the 2nd holds what was recorded by the end of
    the 1st). From every version of every row (a staging model), so a restated row does not hide
    a later extract.
-#}
{% macro extract_as_of_date(relation, column='extracted_at') -%}
    (select cast(max({{ column }} at time zone 'UTC') as date) - 1 from {{ relation }})
{%- endmacro %}


{#-
    Whether a period is complete: the data's as-of date is on or after the period's last day.
-#}
{% macro is_complete_period(period_start, as_of_date, period='1 month') -%}
    coalesce(
        cast(({{ period_start }}) + interval '{{ period }}' as date) - 1 <= ({{ as_of_date }}),
        false
    )
{%- endmacro %}
