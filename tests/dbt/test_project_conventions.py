"""The dbt project's conventions, checked over the manifest of ``dbt parse`` (no database needed).

Stands in for dbt-project-evaluator (it needs the dbt hub): model prefix per folder, descriptions,
primary-key tests, relationships on foreign keys, enforced contracts on marts, unit tests on
measure marts, ``source()`` only in staging, and a parse free of deprecation warnings.
The conventions themselves are written down in the README ("Conventions").
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ProjectParse

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT = PROJECT_ROOT / "dbt_project"
PACKAGE = "vawg"

# Folder (below models/) -> the prefix its models carry.
FOLDER_PREFIXES = {
    "staging": ("stg_",),
    "intermediate": ("int_",),
    "marts": ("dim_", "fct_"),
    "marts/measures": ("mart_",),
    "lineage": ("lineage_",),
    "publication": ("pub_mart_",),
    "bi": ("bi_",),
}


@pytest.fixture(scope="module")
def manifest(dbt_parse: ProjectParse) -> dict[str, Any]:
    """What ``dbt parse`` writes as target/manifest.json, of the session's one full parse."""
    return dbt_parse.manifest_json


def _models(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["package_name"] == PACKAGE
    ]


# Business areas: intermediate/ and marts/ have one folder per area (and `shared` for what several
# areas read); marts/measures/ holds one mart per plan measure.
AREAS = {
    "crime",
    "outcomes",
    "marac",
    "victims_code",
    "orders",
    "funding",
    "public",
    "cps",
    "services",
    "shared",
}


def _folder(model: dict[str, Any]) -> str:
    """models/marts/measures/x.sql -> marts/measures; models/staging/force/x.sql -> staging;
    models/marts/crime/x.sql -> marts; models/intermediate/crime/x.sql -> intermediate."""
    parts = Path(model["original_file_path"]).parts[1:-1]
    if parts[:2] == ("marts", "measures"):
        return "marts/measures"
    return parts[0] if parts else ""


def _area(model: dict[str, Any]) -> str | None:
    """The business-area folder of an intermediate model or a mart (None elsewhere)."""
    parts = Path(model["original_file_path"]).parts[1:-1]
    if parts and parts[0] in ("intermediate", "marts") and parts[1:2] != ("measures",):
        return parts[1] if len(parts) == 2 else ""
    return None


def _marts(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in _models(manifest) if _folder(m).startswith("marts")]


def _tests_by_model(manifest: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    tests: dict[str, list[dict[str, Any]]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "test" and node.get("test_metadata"):
            tests.setdefault(node.get("attached_node") or "", []).append(node)
    return tests


def _unquoted(column: str | None) -> str | None:
    """A column with display name (quote: true, the bi views) is tested as '"Month"'."""
    return column.strip('"') if column else column


def _column_tests(tests: list[dict[str, Any]], column: str) -> set[str]:
    return {
        t["test_metadata"]["name"]
        for t in tests
        if _unquoted(t.get("column_name") or t["test_metadata"]["kwargs"].get("column_name"))
        == column
    }


def _grain_tests(tests: list[dict[str, Any]]) -> list[list[str]]:
    return [
        [_unquoted(c) for c in t["test_metadata"]["kwargs"]["combination_of_columns"]]
        for t in tests
        if t["test_metadata"]["name"] == "unique_combination_of_columns"
    ]


def _primary_key_constraint(model: dict[str, Any]) -> list[str]:
    for constraint in model.get("constraints") or []:
        if constraint["type"] == "primary_key":
            return list(constraint["columns"])
    for name, column in model["columns"].items():
        if any(c["type"] == "primary_key" for c in column.get("constraints") or []):
            return [name]
    return []


def _enforced_table(model: dict[str, Any]) -> bool:
    """A table built whole on every run under an enforced contract: PostgreSQL enforces its
    columns' not_null constraints as it is built. Not an incremental fact: a constraint added to
    its yml never reaches the table already there, so its columns keep not_null data tests."""
    return model["config"]["materialized"] == "table" and bool(
        model["config"].get("contract", {}).get("enforced")
    )


def _not_null_constraint(model: dict[str, Any], column: str) -> bool:
    """The column is NOT NULL in the table the model builds (a primary key implies it)."""
    if not _enforced_table(model):
        return False
    types = {c["type"] for c in model["columns"].get(column, {}).get("constraints") or []}
    keys = [c for c in model.get("constraints") or [] if c["type"] == "primary_key"]
    return bool(types & {"not_null", "primary_key"}) or any(column in c["columns"] for c in keys)


def _column_checks(model: dict[str, Any], tests: list[dict[str, Any]], column: str) -> set[str]:
    """The column's data tests, with not_null also when the table enforces it."""
    found = _column_tests(tests, column)
    return found | {"not_null"} if _not_null_constraint(model, column) else found


def _has_key_tests(model: dict[str, Any], tests: list[dict[str, Any]], key: list[str]) -> bool:
    """unique + not_null on a one-column key; the grain test + not_null on each column otherwise
    (not_null a data test, or a constraint of an enforced table: _not_null_constraint)."""
    if len(key) == 1 and {"unique", "not_null"} <= _column_checks(model, tests, key[0]):
        return True
    return sorted(key) in [sorted(g) for g in _grain_tests(tests)] and all(
        "not_null" in _column_checks(model, tests, column) for column in key
    )


def test_parse_has_no_deprecation_warnings(dbt_parse: ProjectParse) -> None:
    # dbt's log of the parse at every level; the debug lines echo the command line, not findings
    flagged = [
        line
        for line in dbt_parse.log.splitlines()
        if re.search(r"deprecat", line, re.I) and "[debug]" not in line
    ]
    assert not flagged, "\n".join(flagged)


def test_every_model_sits_in_a_known_folder_with_its_prefix(manifest: dict[str, Any]) -> None:
    wrong = []
    for model in _models(manifest):
        prefixes = FOLDER_PREFIXES.get(_folder(model))
        if prefixes is None or not model["name"].startswith(prefixes):
            wrong.append(f"{model['original_file_path']}: expected {prefixes}")
    assert not wrong, wrong


def test_intermediate_models_and_marts_sit_in_a_business_area_folder(
    manifest: dict[str, Any],
) -> None:
    """intermediate/<area>/ and marts/<area>/ (crime, outcomes, marac, ...), one level deep, so
    a newcomer finds a model in one guess; the measure marts sit in marts/measures/."""
    wrong = [
        model["original_file_path"]
        for model in _models(manifest)
        if _area(model) is not None and _area(model) not in AREAS
    ]
    assert not wrong, f"expected models/intermediate|marts/<one of {sorted(AREAS)}>/: {wrong}"


def test_staging_models_are_named_for_their_source_folder(manifest: dict[str, Any]) -> None:
    wrong = []
    for model in _models(manifest):
        parts = Path(model["original_file_path"]).parts
        if _folder(model) == "staging":
            source_folder = parts[2]
            if not re.fullmatch(rf"stg_{source_folder}__[a-z0-9_]+s", model["name"]):
                wrong.append(model["name"])
    assert not wrong, f"expected stg_<source folder>__<entity>s: {wrong}"


def test_source_is_used_in_staging_only(manifest: dict[str, Any]) -> None:
    wrong = [
        model["name"]
        for model in _models(manifest)
        if _folder(model) != "staging"
        and any(n.startswith("source.") for n in model["depends_on"]["nodes"])
    ]
    assert not wrong, wrong


def test_every_model_has_its_own_yml_beside_it(manifest: dict[str, Any]) -> None:
    wrong = []
    for model in _models(manifest):
        expected = str(Path(model["original_file_path"]).with_suffix(".yml"))
        if model.get("patch_path", "").split("://")[-1] != expected:
            wrong.append(f"{model['name']}: {model.get('patch_path')}")
    assert not wrong, wrong


def test_every_model_and_column_is_described(manifest: dict[str, Any]) -> None:
    missing = []
    for model in _models(manifest):
        if not model["description"].strip():
            missing.append(model["name"])
        if not model["columns"]:
            missing.append(f"{model['name']}: no columns documented")
        missing += [
            f"{model['name']}.{name}"
            for name, column in model["columns"].items()
            if not column["description"].strip()
        ]
    assert not missing, missing


def test_every_model_description_states_its_grain(manifest: dict[str, Any]) -> None:
    missing = [m["name"] for m in _models(manifest) if "grain" not in m["description"].lower()]
    assert not missing, missing


def test_seeds_and_sources_are_described(manifest: dict[str, Any]) -> None:
    missing = []
    for node in list(manifest["nodes"].values()) + list(manifest["sources"].values()):
        if node["resource_type"] not in ("seed", "source") or node["package_name"] != PACKAGE:
            continue
        if not node["description"].strip():
            missing.append(node["unique_id"])
        missing += [
            f"{node['unique_id']}.{name}"
            for name, column in node["columns"].items()
            if not column["description"].strip()
        ]
    assert not missing, missing


def test_sources_have_loader_and_freshness(manifest: dict[str, Any]) -> None:
    missing = []
    for source in manifest["sources"].values():
        if not source["loader"]:
            missing.append(f"{source['unique_id']}: loader")
        if source["source_name"] == "force" and not (
            source["loaded_at_field"]
            and (source["freshness"] or {}).get("warn_after", {}).get("count")
        ):
            missing.append(f"{source['unique_id']}: loaded_at_field and freshness")
    assert not missing, missing


def test_every_model_has_primary_key_tests(manifest: dict[str, Any]) -> None:
    tests = _tests_by_model(manifest)
    missing = []
    for model in _models(manifest):
        model_tests = tests.get(model["unique_id"], [])
        key = _primary_key_constraint(model)
        if key:
            if not _has_key_tests(model, model_tests, key):
                missing.append(f"{model['name']}: primary key {key}")
            continue
        # No primary key constraint: some column, or the grain test, must be a tested key.
        single = any(
            {"unique", "not_null"} <= _column_checks(model, model_tests, name)
            for name in model["columns"]
        )
        if not single and not any(
            _has_key_tests(model, model_tests, g) for g in _grain_tests(model_tests)
        ):
            missing.append(f"{model['name']}: no unique + not_null key")
    assert not missing, missing


def test_a_column_is_kept_non_null_one_way_only(manifest: dict[str, Any]) -> None:
    """On a table built whole under an enforced contract, NOT NULL is a constraint (PostgreSQL
    refuses the build, and the old table stays), never also a data test that could not fail.
    On an incremental fact or a view it is a data test: a constraint would never reach an
    incremental table already built, and a view cannot hold one."""
    tests = _tests_by_model(manifest)
    as_tests, unchecked = [], []
    for model in _models(manifest):
        for name, column in model["columns"].items():
            tested = "not_null" in _column_tests(tests.get(model["unique_id"], []), name)
            declared = any(c["type"] == "not_null" for c in column.get("constraints") or [])
            if _enforced_table(model) and tested:
                as_tests.append(f"{model['name']}.{name}")
            if declared and not _enforced_table(model) and not tested:
                unchecked.append(f"{model['name']}.{name}")
    assert not as_tests, (
        f"not_null data tests on enforced tables (make each a constraint): {as_tests}"
    )
    assert not unchecked, f"not_null constraint that no build enforces, and no test: {unchecked}"


def test_every_fact_and_measure_mart_has_a_grain_test(manifest: dict[str, Any]) -> None:
    tests = _tests_by_model(manifest)
    missing = [
        m["name"]
        for m in _models(manifest)
        if m["name"].startswith(("fct_", "mart_"))
        and not _grain_tests(tests.get(m["unique_id"], []))
    ]
    assert not missing, missing


def test_every_foreign_key_of_a_fact_has_a_relationships_test(manifest: dict[str, Any]) -> None:
    tests = _tests_by_model(manifest)
    missing = []
    for model in _models(manifest):
        if not model["name"].startswith("fct_"):
            continue
        key = _primary_key_constraint(model)
        for name in model["columns"]:
            if name.endswith("_key") and name not in key:
                if "relationships" not in _column_tests(tests.get(model["unique_id"], []), name):
                    missing.append(f"{model['name']}.{name}")
    assert not missing, missing


def test_every_mart_has_an_enforced_contract_with_a_primary_key(manifest: dict[str, Any]) -> None:
    wrong = []
    for model in _marts(manifest):
        if not model["config"].get("contract", {}).get("enforced"):
            wrong.append(f"{model['name']}: contract not enforced")
        untyped = [n for n, c in model["columns"].items() if not c.get("data_type")]
        if untyped:
            wrong.append(f"{model['name']}: no data_type for {untyped}")
        if not _primary_key_constraint(model):
            wrong.append(f"{model['name']}: no primary_key constraint")
        if model["config"]["materialized"] not in ("table", "incremental"):
            wrong.append(f"{model['name']}: materialized {model['config']['materialized']}")
    assert not wrong, wrong


def test_measure_marts_have_unit_tests(manifest: dict[str, Any]) -> None:
    tested = {u["model"] for u in manifest.get("unit_tests", {}).values()}
    missing = [
        m["name"]
        for m in _models(manifest)
        if _folder(m) == "marts/measures" and m["name"] not in tested
    ]
    assert not missing, missing


def test_schemas_follow_the_folders(manifest: dict[str, Any]) -> None:
    expected = {
        "staging": "staging",
        "intermediate": "intermediate",
        "marts": "marts",
        "marts/measures": "marts",
        "lineage": "lineage",
        "publication": "publication",
        "bi": "bi",
    }
    wrong = [
        f"{m['name']}: {m['schema']}"
        for m in _models(manifest)
        if m["schema"] != expected[_folder(m)]
    ]
    wrong += [
        f"{n['name']}: {n['schema']}"
        for n in manifest["nodes"].values()
        if n["resource_type"] == "seed" and n["schema"] != "reference"
    ]
    assert not wrong, wrong


def test_every_measure_mart_has_a_lineage_view_auditors_read(manifest: dict[str, Any]) -> None:
    """Lineage (models/lineage): one view per measure mart, with the mart's key, built after the
    mart's family, readable by vawg_auditor only, reconciled with the mart by a singular test."""
    models = {m["name"]: m for m in _models(manifest)}
    tests = {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "test"}
    wrong = []
    for mart in (m for m in models.values() if _folder(m) == "marts/measures"):
        name = "lineage_" + mart["name"].removeprefix("mart_")
        lineage = models.get(name)
        if lineage is None:
            wrong.append(f"{mart['name']}: no {name}")
            continue
        missing_keys = set(_primary_key_constraint(mart)) - set(lineage["columns"])
        if missing_keys or not {"fact_model", "batch_id"} <= set(lineage["columns"]):
            wrong.append(f"{name}: columns {sorted(lineage['columns'])}")
        if lineage["tags"] != mart["tags"]:
            wrong.append(f"{name}: tags {lineage['tags']} (mart: {mart['tags']})")
        if lineage["config"].get("grants") != {"select": ["vawg_auditor"]}:
            wrong.append(f"{name}: grants {lineage['config'].get('grants')}")
        if f"assert_{name}_reconciles_with_mart" not in tests:
            wrong.append(f"{name}: no reconciliation test")
    assert not wrong, wrong


def _group_of(node: dict[str, Any]) -> str | None:
    """The transform group of a model or seed (vawg_warehouse.dbt_run.transform): its one group
    tag."""
    from vawg_warehouse.ingest.datasets import SOURCES

    groups = [t for t in node["tags"] if t == "shared" or t.removeprefix("source_") in SOURCES]
    return groups[0].removeprefix("source_") if len(groups) == 1 else None


def test_every_model_and_seed_is_in_exactly_one_transform_group(manifest: dict[str, Any]) -> None:
    """The nightly DAG builds dbt by group (tag shared or source_<family>): a node without one,
    or with two, would be built never or twice."""
    wrong = [
        f"{n['name']}: tags {n['tags']}"
        for n in manifest["nodes"].values()
        if n["resource_type"] in ("model", "seed") and _group_of(n) is None
    ]
    assert not wrong, wrong


def test_no_model_or_test_spans_two_source_families(manifest: dict[str, Any]) -> None:
    """A family's group reads only its own nodes and shared ones, so a family whose extract
    failed leaves only its own marts unbuilt, and the groups partition every data test (each
    runs in one group's invocation: once per run)."""
    nodes = manifest["nodes"]
    wrong = []
    for node in nodes.values():
        if node["resource_type"] not in ("model", "test"):
            continue
        parents = [nodes[p] for p in node["depends_on"]["nodes"] if p in nodes]
        families = {_group_of(p) for p in parents} - {"shared"}
        if node["resource_type"] == "model":
            families |= {_group_of(node)} - {"shared"}
            if _group_of(node) == "shared" and families:
                wrong.append(f"shared model {node['name']} reads {sorted(families)}")
        if len(families) > 1:
            wrong.append(f"{node['name']}: {sorted(families)}")
    assert not wrong, wrong


def test_bi_readers_are_granted_the_bi_views_only(manifest: dict[str, Any]) -> None:
    """vawg_bi_reader (grants config) on every view of schema bi and on nothing else: not a mart,
    a dimension or a publication table (it reads those through bi). tests/dbt/
    test_roles_after_build.py checks the catalog."""
    models = _models(manifest)
    granted = {
        m["name"]
        for m in models
        if "vawg_bi_reader" in (m["config"].get("grants") or {}).get("select", [])
    }
    bi = {m["name"] for m in models if _folder(m) == "bi"}
    assert bi and granted == bi, (sorted(granted - bi), sorted(bi - granted))
    assert all(m["config"]["materialized"] == "view" for m in models if _folder(m) == "bi")


def test_every_publication_table_public_and_funding_mart_has_a_bi_view(
    manifest: dict[str, Any],
) -> None:
    models = {m["unique_id"]: m for m in _models(manifest)}
    read_by_bi = {
        models[p]["name"]
        for m in models.values()
        if _folder(m) == "bi"
        for p in m["depends_on"]["nodes"]
        if p in models
    }
    wanted = {m["name"] for m in models.values() if _folder(m) == "publication"}
    wanted |= {"mart_funding_secured_yearly", "mart_peer_comparison_yearly", "dim_date"}
    assert wanted <= read_by_bi, sorted(wanted - read_by_bi)
    for m in models.values():  # a bi view is built in the group of what it reads
        if _folder(m) == "bi":
            parents = [models[p] for p in m["depends_on"]["nodes"] if p in models]
            assert {_group_of(p) for p in parents} - {"shared"} <= {_group_of(m)}, m["name"]


def test_descriptions_are_persisted_as_comments(manifest: dict[str, Any]) -> None:
    wrong = [
        m["name"]
        for m in _models(manifest)
        if (m["config"].get("persist_docs") or {}) != {"relation": True, "columns": True}
    ]
    assert not wrong, wrong


def test_exposures_name_the_scorecard_and_the_dashboards(manifest: dict[str, Any]) -> None:
    exposures = {e["name"]: e for e in manifest["exposures"].values()}
    assert {
        "measures_scorecard",
        "metabase_measures_dashboard",
        "power_bi_measures_report",
    } <= set(exposures)
    for exposure in exposures.values():
        assert exposure["description"].strip() and exposure["owner"]["name"]
        assert exposure["depends_on"]["nodes"], exposure["name"]
    bi_only = ("metabase_measures_dashboard", "power_bi_measures_report")
    for name in bi_only:  # BI tools read schema bi only
        assert all(".bi_" in n for n in exposures[name]["depends_on"]["nodes"]), name


def test_docs_measures_covers_every_mart_and_each_mart_links_to_it(
    manifest: dict[str, Any],
) -> None:
    """docs/measures.md defines every measure mart and names its lineage and publication tables;
    each mart's yml points to it, and nothing cites a document outside the repository."""
    doc = (PROJECT_ROOT / "docs" / "measures.md").read_text()
    models = {m["name"]: m for m in _models(manifest)}
    wrong = []
    for mart in (m for m in models.values() if _folder(m) == "marts/measures"):
        related = [mart["name"], "lineage_" + mart["name"].removeprefix("mart_")]
        if "pub_" + mart["name"] in models:
            related.append("pub_" + mart["name"])
        wrong += [f"docs/measures.md lacks {name}" for name in related if f"`{name}`" not in doc]
        if "docs/measures.md" not in mart["description"]:
            wrong.append(f"{mart['name']}: its description does not link docs/measures.md")
    cited = [
        f"{path.relative_to(PROJECT_ROOT)} cites {name}"
        for path in DBT_PROJECT.rglob("*")
        if path.suffix in {".sql", ".yml", ".csv"} and "target" not in path.parts
        for name in re.findall(r"[\w./-]+\.md\b", path.read_text(encoding="utf-8"))
        if ".." in Path(name).parts or not (PROJECT_ROOT / name).is_file()
    ]
    assert not wrong and not cited, (wrong, cited)


def test_each_measure_s_logic_is_written_once(manifest: dict[str, Any]) -> None:
    """Issue 12: a lineage table reads the intermediate model its mart counts (never a fact
    table, where it would repeat the mart's selection), and that model carries _batch_id; the
    mart reads it too (directly or through the mart it is built on)."""
    models = {m["unique_id"]: m for m in _models(manifest)}
    by_name = {m["name"]: m for m in models.values()}

    def parents(model: dict[str, Any]) -> set[str]:
        return {models[p]["name"] for p in model["depends_on"]["nodes"] if p in models}

    def upstream(name: str) -> set[str]:
        seen, todo = set(), [name]
        while todo:
            for parent in parents(by_name[todo.pop()]):
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        return seen

    wrong = []
    for mart in (m for m in models.values() if _folder(m) == "marts/measures"):
        lineage = by_name["lineage_" + mart["name"].removeprefix("mart_")]
        read = parents(lineage)
        if any(p.startswith("fct_") for p in read):
            wrong.append(f"{lineage['name']} reads a fact: {sorted(read)}")
        shared = {p for p in read if p.startswith(("int_", "lineage_"))}
        if not shared:
            wrong.append(f"{lineage['name']} reads no intermediate model")
        batched = False
        for name in (p for p in shared if p.startswith("int_")):
            if name not in upstream(mart["name"]):
                wrong.append(f"{mart['name']} does not read {name}, its lineage's model")
            batched |= any(c.endswith("batch_id") for c in by_name[name]["columns"])
        if shared and not batched and not any(p.startswith("lineage_") for p in shared):
            wrong.append(f"{lineage['name']}: no intermediate model it reads carries _batch_id")
    assert not wrong, wrong


def _macro_arguments(macro_sql: str) -> list[str]:
    """The argument names of a macro or generic test, from its opening tag (Python-like)."""
    tag = re.search(r"\{%-?\s*(?:macro|test)\s+\w+\s*(\(.*?\))\s*-?%\}", macro_sql, re.S)
    assert tag, macro_sql[:200]
    function = ast.parse(f"def f{tag.group(1)}: pass").body[0]
    assert isinstance(function, ast.FunctionDef)
    return [a.arg for a in function.args.args]


def test_every_macro_is_documented_in_macros_yml(manifest: dict[str, Any]) -> None:
    """dbt_project/macros/_macros.yml describes every macro of the project and each of its
    arguments, so dbt docs shows what a macro does and takes without reading its Jinja."""
    wrong = []
    for macro in manifest["macros"].values():
        if macro["package_name"] != PACKAGE:
            continue
        name = macro["name"]
        if (macro.get("patch_path") or "").split("://")[-1] != "macros/_macros.yml":
            wrong.append(f"{name}: no entry in macros/_macros.yml")
            continue
        if not macro["description"].strip():
            wrong.append(f"{name}: no description")
        documented = {a["name"]: a for a in macro.get("arguments") or []}
        expected = _macro_arguments(macro["macro_sql"])
        missing = [a for a in expected if a and a not in documented]
        undescribed = [a for a, arg in documented.items() if not (arg.get("description") or "")]
        if missing or undescribed:
            wrong.append(f"{name}: arguments not documented {missing + undescribed}")
        unknown = [a for a in documented if a not in expected]
        if unknown:
            wrong.append(f"{name}: documented arguments it does not take {unknown}")
    assert not wrong, wrong


def test_shared_columns_are_described_by_their_doc_block() -> None:
    """A column with a doc block in models/docs.md (``_batch_id``, ``data_as_of_date``,
    ``month_start_date``, ``is_complete_period``, ...) is described through it in every yml:
    ``{{ doc('<column>') }}``, then what is particular to the model, never free text alone."""
    import yaml

    blocks = set(
        re.findall(r"\{%\s*docs\s+(\w+)\s*%\}", (DBT_PROJECT / "models" / "docs.md").read_text())
    )
    assert {"_batch_id", "data_as_of_date", "month_start_date", "is_complete_period"} <= blocks
    wrong = []
    for path in sorted((DBT_PROJECT / "models").rglob("*.yml")):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models") or []:
            for column in model.get("columns") or []:
                name = column["name"]
                if name in blocks and f"doc('{name}')" not in (column.get("description") or ""):
                    wrong.append(f"{path.relative_to(DBT_PROJECT)}: {model['name']}.{name}")
    assert not wrong, wrong


def test_the_month_by_local_authority_grid_is_built_once(manifest: dict[str, Any]) -> None:
    """Only int_month_local_authority_grid cross joins the local authorities (dim_geography)
    with months; the monthly marts take their months of it (macro reporting_months)."""
    wrong = []
    for model in _models(manifest):
        code = model["raw_code"]
        imports = re.findall(
            r"(\w+) as \(\s*select \* from \{\{ ref\('dim_geography'\) \}\}", code, re.I
        )
        if model["name"] != "int_month_local_authority_grid" and any(
            re.search(rf"cross join {name}\b", code, re.I) for name in imports
        ):
            wrong.append(model["name"])
    assert not wrong, wrong
    readers = [
        m["name"]
        for m in _models(manifest)
        if "model.vawg.int_month_local_authority_grid" in m["depends_on"]["nodes"]
    ]
    assert len(readers) >= 6, readers


def test_every_model_reading_a_seed_of_several_forces_keeps_the_home_forces_rows(
    manifest: dict[str, Any],
) -> None:
    """A seed with a force_code column holds several forces' rows (vawg_warehouse.forces): each
    model that reads it filters on the home force (macro home_force), so a second force's
    settings, authorities or services never mix with the home force's."""
    from vawg_warehouse.forces import FORCE_SEEDS

    own_rows = {"forces", "police_forces"}  # force_code there is each row's own id
    # models that want every force's rows, and why
    every_force = {
        ("int_force_populations", "local_authorities"),  # peer forces' areas, summed
        ("int_populations_unpivoted", "local_authorities"),  # any authority's estimate; the
        # marts keep the home force's through dim_geography
    }
    seeds = {
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "seed" and "force_code" in node["columns"]
    }
    assert seeds - own_rows == FORCE_SEEDS
    unfiltered = [
        f"{node['name']} reads {seed}"
        for node in _models(manifest)
        for seed in FORCE_SEEDS
        if f"seed.{PACKAGE}.{seed}" in node["depends_on"]["nodes"]
        and "home_force()" not in node["raw_code"]
        and (node["name"], seed) not in every_force
    ]
    assert not unfiltered, unfiltered
