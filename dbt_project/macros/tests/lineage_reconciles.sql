{#-
    A singular test's body (tests/lineage/): every row of a measure mart against its lineage view.
    `mart_count` is the mart's count of fact rows in a row; `lineage_count` the same worked out
    from the lineage view's rows of `fact_model`. Returns the keys where they differ, so a lineage
    view that misses (or invents) a fact row behind a figure fails.
-#}
{% macro lineage_reconciles(mart, lineage, keys, mart_count, fact_model,
                            lineage_count='sum(fact_row_count)') -%}
with

mart as (

    select * from {{ ref(mart) }}

),

lineage as (

    select * from {{ ref(lineage) }}

),

mart_counts as (

    select
        {% for key in keys %}{{ key }},
        {% endfor %}{{ mart_count }} as mart_count
    from mart

),

lineage_counts as (

    select
        {% for key in keys %}{{ key }},
        {% endfor %}{{ lineage_count }} as lineage_count
    from lineage
    where fact_model = '{{ fact_model }}'
    group by {{ keys | join(', ') }}

),

differences as (

    select
        {% for key in keys %}coalesce(mart_counts.{{ key }}, lineage_counts.{{ key }}) as {{ key }},
        {% endfor %}coalesce(mart_counts.mart_count, 0) as mart_count,
        coalesce(lineage_counts.lineage_count, 0) as lineage_count,
        mart_counts.mart_count is null as is_missing_from_mart
    from mart_counts
    full outer join lineage_counts
        on
            {% for key in keys %}mart_counts.{{ key }} = lineage_counts.{{ key }}
            {% if not loop.last %}and {% endif %}{% endfor %}
    where
        mart_counts.mart_count is null
        or coalesce(mart_counts.mart_count, 0) <> coalesce(lineage_counts.lineage_count, 0)

)

select * from differences
{%- endmacro %}
