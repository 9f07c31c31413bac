{#-
    The home force: the force_code (seed forces, a data.police.uk force id) the warehouse is for,
    as a SQL literal. From the dbt var home_force, else the environment's VAWG_HOME_FORCE, else
    lancashire. Models keep the home force's rows of the seeds that hold several forces
    (local_authorities, service_areas, services, most_similar_groups).
-#}
{% macro home_force() -%}
    {%- set code = var('home_force', env_var('VAWG_HOME_FORCE', 'lancashire')) | string | trim | lower -%}
    {%- if not modules.re.fullmatch('[a-z][a-z-]*', code) -%}
        {{ exceptions.raise_compiler_error("home force " ~ code ~ " is not a data.police.uk force id (lower case, hyphens)") }}
    {%- endif -%}
    '{{ code }}'
{%- endmacro %}
