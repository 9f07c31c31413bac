{#-
    The incremental filter of the fact tables: rows of load batches this table has not seen.
    A batch newer than any in the table, or rows published after the table's newest (a batch
    re-published after a failure, or quarantined rows an operator released, keep their older
    batch id but get a new _published_at). Use inside `{% if is_incremental() %}`.
-#}
{% macro rows_published_since_last_build() -%}
    (
        _batch_id > (select coalesce(max(_batch_id), 0) from {{ this }})
        or _published_at > (
            select coalesce(max(_published_at), '-infinity'::timestamptz) from {{ this }}
        )
    )
{%- endmacro %}
