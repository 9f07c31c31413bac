{#-
    Dimension (the rights of the Victims' Code) for BI tools: dim_victims_code_right with display
    names (macros/bi.sql), and right 0, "All rights", the headline row of
    victims_code_compliance_monthly (named as the mart names it), so no row of the view falls
    under "(Blank)" when it is related by "Right number".
-#}
with

rights as (

    {{ bi_view(ref('dim_victims_code_right')) }}

),

all_rights as (

    select
        md5('0') as "Victims code right key",
        0 as "Right number",
        'All rights of the Victims'' Code together (each applicable right counted once)'
            as "Right title",
        'All rights' as "Right",
        'C' as "Classification status",
        0 as "Sort order"

),

rights_and_all as (

    select * from rights
    union all
    select * from all_rights

)

select * from rights_and_all
