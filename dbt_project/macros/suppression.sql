{#-
    Small-number suppression for the publication layer (DOMAIN.md section 10). The marts stay
    exact; a pub_<mart> model publishes a mart through these CTEs:

      with
      mart as (select * from {{ ref('mart_x') }}),
      publication_parameters as (select * from {{ ref('publication_parameters') }}),
      {{ suppression_ctes(source_cte='mart', ...) }}
      select * from published

    The rules (the threshold and the switches are rows of seed publication_parameters):
      primary     a count below suppression_threshold is suppressed (0 too, unless
                  suppress_zero_counts is false). The layer fails closed: a missing threshold
                  suppresses every count, one that is not an integer fails the build.
      secondary   (secondary_suppression = next_smallest; 'none' turns it off)
                  across cells: within each group of group_columns (the cells that add up to a
                  published total, e.g. month x category across local authorities), when exactly
                  one cell of a count column is suppressed, the smallest unsuppressed cell of that
                  column is suppressed too (a non-zero one first; ties: the lowest key_columns);
                  within a row: for each row_totals entry [total, [parts]] (total = sum of parts),
                  when exactly one of its cells is suppressed, the smallest other one is too.
                  Both passes repeat `rounds` times (8: 3 left a lone cell in the integration
                  test's data), since one pass can leave a new lone cell for the other; test
                  no_lone_suppressed_cell fails the build if one is left.
      rates       a rate is suppressed when any count it is computed from is
                  (rates: {rate: [counts]}).
    A suppressed value is null and its <column>_is_suppressed flag is true; a report shows "[c]".
    Every step is a materialized CTE: inlined, each pass would repeat the previous passes'
    expressions several times over, and the plan grows exponentially with the rounds.

    Arguments:
      source_cte          the CTE holding the mart
      key_columns         the mart's key, published as is (also the tie-break order)
      group_columns       the columns that fix a group of cells with a published total, or a
                          list of such lists (each grouping is applied to every count column)
      count_columns       counts to suppress
      rates               {rate column: [count columns it is computed from]}
      row_totals          [[total column, [part columns]], ...]
      passthrough_columns labels and other columns published as is (never a count or a rate)
      trailing_columns    published as is, last (dates)
      rounds              how many times the secondary passes repeat
-#}
{% macro suppression_ctes(
    source_cte,
    key_columns,
    group_columns,
    count_columns,
    rates={},
    row_totals=[],
    passthrough_columns=[],
    trailing_columns=[],
    rounds=8
) -%}

{%- set plain_columns = key_columns + passthrough_columns + trailing_columns
    + count_columns + (rates.keys() | list) -%}
{%- set carried = plain_columns + ["is_secondary_on"] -%}

suppression_parameters as (

    -- One row: the seed's parameters, typed. A missing value fails closed.
    select
        max(
            case when parameter = 'suppression_threshold' then cast(parameter_value as integer) end
        ) as suppression_threshold,
        coalesce(
            bool_or(
                case
                    when parameter = 'suppress_zero_counts' then cast(parameter_value as boolean)
                end
            ),
            true
        ) as suppress_zero_counts,
        coalesce(
            max(case when parameter = 'secondary_suppression' then parameter_value end),
            'next_smallest'
        ) <> 'none' as is_secondary_on
    from publication_parameters

),

suppression_primary as materialized (

    -- Primary suppression: counts below the threshold.
    select
        {%- for column in plain_columns %}
        {{ source_cte }}.{{ column }},
        {%- endfor %}
        suppression_parameters.is_secondary_on,
        {%- for column in count_columns %}
        case
            when {{ source_cte }}.{{ column }} is null then false
            when
                {{ source_cte }}.{{ column }} = 0
                and not suppression_parameters.suppress_zero_counts
                then false
            else not coalesce(
                {{ source_cte }}.{{ column }} >= suppression_parameters.suppression_threshold, false
            )
        end as {{ column }}__suppressed{{ "," if not loop.last }}
        {%- endfor %}
    from {{ source_cte }}
    cross join suppression_parameters

),

{%- set groupings = [group_columns] if group_columns[0] is string else group_columns %}
{%- set ns = namespace(previous="suppression_primary") %}
{%- for round in range(1, rounds + 1) %}
{%- for grouping in groupings %}
{%- set step = "suppression_round_" ~ round ~ "_group_" ~ loop.index %}

{{ step }}_ranked as materialized (

    -- Secondary suppression, round {{ round }}, across {{ grouping | join(" x ") }}: for each
    -- count, how many cells of its group are suppressed, and which unsuppressed cell is the
    -- smallest (a non-zero one first).
    select
        *,
        {%- for column in count_columns %}
        count(*) filter (where {{ column }}__suppressed) over (
            partition by {{ grouping | join(", ") }}
        ) as {{ column }}__group_suppressed,
        row_number() over (
            partition by {{ grouping | join(", ") }}
            order by
                {{ column }}__suppressed,
                {{ column }} = 0,
                {{ column }} nulls last,
                {{ key_columns | join(", ") }}
        ) as {{ column }}__group_rank{{ "," if not loop.last }}
        {%- endfor %}
    from {{ ns.previous }}

),

{{ step }} as materialized (

    -- A lone suppressed cell in its group takes the group's smallest other cell with it.
    select
        {%- for column in carried %}
        {{ column }},
        {%- endfor %}
        {%- for column in count_columns %}
        {{ column }}__suppressed or (
            is_secondary_on
            and {{ column }}__group_suppressed = 1
            and {{ column }}__group_rank = 1
            and {{ column }} is not null
        ) as {{ column }}__suppressed{{ "," if not loop.last }}
        {%- endfor %}
    from {{ step }}_ranked

),
{%- set ns.previous = step %}
{%- endfor %}

{%- for total, parts in row_totals %}
{%- set cells = [total] + parts %}

suppression_round_{{ round }}_row_{{ loop.index }} as materialized (

    -- Within the row: {{ total }} = {{ parts | join(" + ") }}; a lone suppressed cell among
    -- them takes the smallest other one with it.
    select
        {%- for column in carried %}
        {{ column }},
        {%- endfor %}
        {%- for column in count_columns %}
        {%- if column in cells %}
        {{ column }}__suppressed or (
            is_secondary_on
            and {{ _suppressed_cell_count(cells) }} = 1
            and coalesce({{ _smallest_unsuppressed_cell(cells) }} = '{{ column }}', false)
        ) as {{ column }}__suppressed{{ "," if not loop.last }}
        {%- else %}
        {{ column }}__suppressed{{ "," if not loop.last }}
        {%- endif %}
        {%- endfor %}
    from {{ ns.previous }}

),
{%- set ns.previous = "suppression_round_" ~ round ~ "_row_" ~ loop.index %}
{%- endfor %}
{%- endfor %}

published as (

    -- Suppressed values become null; each count and rate says whether it was suppressed.
    {%- set expressions = key_columns + passthrough_columns %}
    {%- for column in count_columns %}
    {%- do expressions.append(
        "case when not " ~ column ~ "__suppressed then " ~ column ~ " end as " ~ column
    ) %}
    {%- endfor %}
    {%- for rate, counts in rates.items() %}
    {%- do expressions.append(
        "case when not (" ~ _any_suppressed(counts) ~ ") then " ~ rate ~ " end as " ~ rate
    ) %}
    {%- endfor %}
    {%- for column in count_columns %}
    {%- do expressions.append(column ~ "__suppressed as " ~ column ~ "_is_suppressed") %}
    {%- endfor %}
    {%- for rate, counts in rates.items() %}
    {%- do expressions.append(
        "(" ~ _any_suppressed(counts) ~ ") as " ~ rate ~ "_is_suppressed"
    ) %}
    {%- endfor %}
    {%- set expressions = expressions + trailing_columns %}
    select
        {{ expressions | join(",\n        ") }}
    from {{ ns.previous }}

)
{%- endmacro %}


{#- How many of the cells are suppressed (an integer expression). -#}
{% macro _suppressed_cell_count(cells) -%}
    (
        {%- for cell in cells %}
        cast({{ cell }}__suppressed as integer){{ " +" if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}


{#-
    The name of the smallest unsuppressed cell, a non-zero one if there is one (hiding a 0 beside
    the lone cell would hide nothing); the first in list order on a tie; null if none.
-#}
{% macro _smallest_unsuppressed_cell(cells) -%}
    {%- set smallest -%}
        coalesce(
            least(
                {%- for cell in cells %}
                case when not {{ cell }}__suppressed and {{ cell }} <> 0 then {{ cell }} end
                {{- ", " if not loop.last }}
                {%- endfor %}
            ),
            least(
                {%- for cell in cells %}
                case when not {{ cell }}__suppressed then {{ cell }} end{{ ", " if not loop.last }}
                {%- endfor %}
            )
        )
    {%- endset -%}
    case
        {%- for cell in cells %}
        when not {{ cell }}__suppressed and {{ cell }} = {{ smallest }} then '{{ cell }}'
        {%- endfor %}
    end
{%- endmacro %}


{#- True when any of the counts is suppressed. -#}
{% macro _any_suppressed(counts) -%}
    {% for count in counts %}{{ count }}__suppressed{{ " or " if not loop.last }}{% endfor %}
{%- endmacro %}
