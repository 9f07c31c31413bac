{#-
    One suppression for every cell of the publication tables of macro publication_table_specs
    (MARAC repeats, closed-basis outcomes, protective orders, Victims' Code): macro
    suppress_cells, to a fixed point, from the primary cells and those the publication audit
    added. Each table's components (prefixed with its name) are its own: no equation crosses
    tables. The publication tables read their flags here; the audit reads the equations.
-#}
with recursive

{{ publication_table_cells() }}

select * from final
