{#- Dimension (the rights of the Victims' Code) for BI tools: dim_victims_code_right with display names (macros/bi.sql). -#}
{{ bi_view(ref('dim_victims_code_right')) }}
