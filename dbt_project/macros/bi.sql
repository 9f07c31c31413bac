{#-
    The BI layer (schema bi, models/bi): one view per published table with display names, for
    Power BI and Metabase. vawg_bi_reader reads this schema only (migration 015).

    bi_view(relation) selects every column of the relation as it stands when the view is built,
    each under its display name (bi_display_name), so a column added upstream reaches BI tools
    with a readable name and its upstream description (bi_describe_columns), without an edit
    here. A display name must be unique in its view and fit PostgreSQL's 63 bytes: the build
    fails otherwise, naming the column.
-#}

{#- Display names of the columns that many views share; any other column is humanised. -#}
{% macro bi_display_names() -%}
    {{ return({
        'month_start_date': 'Month',
        'quarter_start_date': 'Quarter start',
        'financial_year': 'Financial year',
        'financial_year_start_year': 'Financial year start year',
        'financial_quarter': 'Financial quarter',
        'local_authority_code': 'Local authority code',
        'local_authority_name': 'Local authority',
        'division_name': 'Division',
        'reporting_category': 'Category code',
        'category_label': 'Category',
        'crime_count': 'Crimes',
        'crime_count_same_month_last_year': 'Crimes same month last year',
        'rate_per_1000': 'Rate per 1,000',
        'change_on_last_year': 'Change on last year',
        'change_on_last_year_pct': 'Change on last year (%)',
        'population_basis': 'Population basis',
        'population_reference_year': 'Population reference year',
        'trend_break_note': 'Trend break',
        'is_change_across_trend_break': 'Change spans a trend break',
        'outcome_code': 'Outcome code',
        'outcome_description': 'Outcome',
        'outcome_group': 'Outcome group',
        'order_type': 'Order type code',
        'order_type_name': 'Order type',
        'right_number': 'Right number',
        'right_label': 'Right',
        'area_name': 'Area',
        'area_level': 'Area level',
        'funder_name': 'Funder',
        'scheme_name': 'Scheme',
        'headline_rate': 'Headline rate',
        'outcomes_as_of_date': 'Outcomes as of',
        'data_as_of_date': 'Data as of',
    }) }}
{%- endmacro %}


{#- snake_case -> "Sentence case", "_pct" -> " (%)", "x_is_suppressed" -> "<x> suppressed". -#}
{% macro bi_display_name(column_name) -%}
    {%- set known = bi_display_names() -%}
    {%- if column_name in known -%}
        {{ return(known[column_name]) }}
    {%- elif column_name.endswith('_is_suppressed') -%}
        {{ return(bi_display_name(column_name[:-14]) ~ ' suppressed') }}
    {%- else -%}
        {%- set words = column_name.split('_') -%}
        {%- set parts = [] -%}
        {%- for word in words -%}
            {%- do parts.append('(%)' if word == 'pct' else word) -%}
        {%- endfor -%}
        {%- set text = parts | join(' ') -%}
        {{ return(text[:1] | upper ~ text[1:]) }}
    {%- endif -%}
{%- endmacro %}


{#-
    part: 'all' (every column), 'values' (every column but the <x>_is_suppressed flags) or
    'flags' (the key columns, then the flags): a long published table is shown as a view of its
    figures and a companion view of its suppression flags, related by the keys.
-#}
{% macro bi_view(relation, part='all', keys=[]) -%}
    {%- set all_columns = adapter.get_columns_in_relation(relation) if execute else [] -%}
    {%- set columns = [] -%}
    {%- for column in all_columns -%}
        {%- set is_flag = column.name.endswith('_is_suppressed') -%}
        {%- if part == 'all'
            or (part == 'values' and not is_flag)
            or (part == 'flags' and (is_flag or column.name in keys)) -%}
            {%- do columns.append(column) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not columns %}
select * from {{ relation }}
    {%- else -%}
        {%- set seen = {} %}
select
        {%- for column in columns %}
            {%- set display = bi_display_name(column.name) -%}
            {%- if display in seen -%}
                {{ exceptions.raise_compiler_error(
                    "bi view over " ~ relation ~ ": columns " ~ seen[display] ~ " and "
                    ~ column.name ~ " share the display name '" ~ display ~ "'") }}
            {%- endif -%}
            {%- if display | length > 63 -%}
                {{ exceptions.raise_compiler_error(
                    "bi view over " ~ relation ~ ": display name of " ~ column.name
                    ~ " is longer than 63 bytes: '" ~ display ~ "'") }}
            {%- endif -%}
            {%- do seen.update({display: column.name}) %}
    {{ adapter.quote(column.name) }} as {{ adapter.quote(display) }}{{ "," if not loop.last }}
        {%- endfor %}
from {{ relation }}
    {%- endif -%}
{%- endmacro %}


{#-
    post-hook of every bi view: each column the view's own yml does not describe gets the
    description of the column it shows (the one model the view reads), as a PostgreSQL comment,
    so Metabase and Power BI show the same words as dbt docs. persist_docs has already written
    the relation's comment and the columns the yml describes.
-#}
{% macro bi_describe_columns() -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set parents = model.depends_on.nodes | select('in', graph.nodes) | list -%}
    {%- if parents | length != 1 -%}{{ return('') }}{%- endif -%}
    {%- set parent = graph.nodes[parents[0]] -%}
    {%- set by_display = {} -%}
    {%- for name, column in parent.columns.items() -%}
        {%- do by_display.update({bi_display_name(name): column.description}) -%}
    {%- endfor -%}
    {%- set statements = [] -%}
    {%- for column in adapter.get_columns_in_relation(this) -%}
        {%- set documented = model.columns.get(column.name) -%}
        {%- if not (documented and documented.description) and by_display.get(column.name) -%}
            {%- do statements.append(
                "comment on column " ~ this ~ "." ~ adapter.quote(column.name) ~ " is "
                ~ postgres_escape_comment(by_display[column.name] | trim)) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(statements | join(";\n")) }}
{%- endmacro %}


{#- on-run-end: usage on schema bi for BI tools and auditors (migration 015 grants it too). -#}
{% macro grant_usage_on_bi_schema(schema_name="bi") -%}
    {{ grant_schema_usage_where_missing(schema_name, ["vawg_bi_reader", "vawg_auditor"]) }}
{%- endmacro %}


{#-
    post-hook of bi_measure_headlines_force and bi_measure_headlines_funding (outside their
    transaction): (re)make bi.measure_headlines, the union of the parts, and grant it to BI tools
    and auditors. Each family's dbt group builds its own part, so a family never waits for
    another and a failed extract leaves only its own part as it was. The union is a view over a
    function that reads, when queried, whichever parts exist: it holds no dependency on the
    parts, so rebuilding one never touches it (a view over both would be dropped with either,
    and two groups rebuilding at once would deadlock). An advisory lock serialises the remake.
-#}
{% macro bi_measure_headlines_union() -%}
    do $do$
    declare
        schema_name text := '{{ this.schema }}';
        part regclass;
        columns text;
    begin
        perform pg_advisory_xact_lock(hashtext(schema_name || '.measure_headlines'));
        part := coalesce(
            to_regclass(format('%I.measure_headlines_force', schema_name)),
            to_regclass(format('%I.measure_headlines_funding', schema_name))
        );
        select string_agg(
            format('%I %s', attname, format_type(atttypid, atttypmod)), ', ' order by attnum
        )
        into columns
        from pg_catalog.pg_attribute
        where attrelid = part and attnum > 0 and not attisdropped;
        execute format('drop view if exists %I.measure_headlines', schema_name);
        execute format('drop function if exists %I.measure_headlines_rows()', schema_name);
        execute format(
            $f$
            create function %1$I.measure_headlines_rows() returns table (%2$s)
            language plpgsql stable as $body$
            declare
                query text;
            begin
                select string_agg(format('select * from %1$I.%%I', p), ' union all ')
                into query
                from unnest(array['measure_headlines_force', 'measure_headlines_funding']) as p
                where to_regclass(format('%1$I.%%I', p)) is not null;
                return query execute query;
            end
            $body$
            $f$,
            schema_name, columns
        );
        execute format(
            'create view %I.measure_headlines as select * from %I.measure_headlines_rows()',
            schema_name, schema_name
        );
        execute format(
            'comment on view %I.measure_headlines is %L', schema_name,
            'The plan''s six measures for every reader (scorecard, Metabase, Power BI): '
            || 'measure_headlines_force (measures 1-5) and measure_headlines_funding (measure 6) '
            || 'together. One row per measure_id x series_id x period_start_date x area_code.'
        );
        -- each column carries the description of the part's column (what BI tools show)
        execute (
            select string_agg(
                format(
                    'comment on column %I.measure_headlines.%I is %L',
                    schema_name, attname, col_description(part, attnum)
                ),
                '; '
            )
            from pg_catalog.pg_attribute
            where attrelid = part and attnum > 0 and not attisdropped
                and col_description(part, attnum) is not null
        );
        execute format(
            'grant execute on function %I.measure_headlines_rows() to vawg_bi_reader, vawg_auditor',
            schema_name
        );
        execute format(
            'grant select on %I.measure_headlines to vawg_bi_reader, vawg_auditor', schema_name
        );
    end
    $do$;
{%- endmacro %}
