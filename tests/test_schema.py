"""schema.graphql is generated from the code; clients and reviewers read the file."""

from pathlib import Path

from graphql import GraphQLScalarType, build_schema

from soilapi.graphql.schema import schema

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schema.graphql"


def test_schema_file_matches_code() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema.as_str() + "\n", (
        "schema.graphql is out of date: run `make schema` and commit the result"
    )


def test_every_type_field_argument_and_enum_value_is_described() -> None:
    parsed = build_schema(SCHEMA_FILE.read_text(encoding="utf-8"))
    missing: list[str] = []
    for name, gql_type in parsed.type_map.items():
        if name.startswith("__") or name in {"String", "Int", "Float", "Boolean", "ID"}:
            continue
        if not gql_type.description:
            missing.append(name)
        for field_name, field in getattr(gql_type, "fields", {}).items():
            if not field.description:
                missing.append(f"{name}.{field_name}")
            for arg_name, arg in getattr(field, "args", {}).items():
                if not arg.description:
                    missing.append(f"{name}.{field_name}({arg_name})")
        for value_name, value in getattr(gql_type, "values", {}).items():
            if not value.description:
                missing.append(f"{name}.{value_name}")
    assert not missing, f"undocumented schema elements: {missing}"


def test_custom_scalars_say_how_they_are_written() -> None:
    """Code generators type a scalar by its @specifiedBy; without one, clients get `unknown`."""
    parsed = build_schema(SCHEMA_FILE.read_text(encoding="utf-8"))
    builtin = {"String", "Int", "Float", "Boolean", "ID"}
    custom = {
        name: gql_type.specified_by_url
        for name, gql_type in parsed.type_map.items()
        if isinstance(gql_type, GraphQLScalarType) and name not in builtin
    }
    assert custom == {
        "Date": "https://www.rfc-editor.org/rfc/rfc3339#section-5.6",
        "DateTime": "https://www.rfc-editor.org/rfc/rfc3339#section-5.6",
        # Strawberry's JSON scalar (a write's diff values): any JSON value.
        "JSON": "https://ecma-international.org/wp-content/uploads/ECMA-404_2nd_edition_december_2017.pdf",
    }


def test_every_kind_has_one_model_and_one_record_type() -> None:
    """The kind is declared on the model (polymorphic_identity) and the type's name follows
    from it: neither table is kept by hand, so a new kind without either fails here."""
    from soilapi.db.models import DETAIL_MODELS  # noqa: PLC0415 - only this test needs them
    from soilapi.graphql.types.node import ENTITY_TYPES, TYPE_NAMES  # noqa: PLC0415
    from soilapi.vocab import EntityKind  # noqa: PLC0415

    assert set(DETAIL_MODELS) == set(EntityKind)
    declared = [record_type.__name__ for record_type in ENTITY_TYPES]
    assert sorted(declared) == sorted(TYPE_NAMES.values())
    assert SCHEMA_FILE.read_text(encoding="utf-8").count("implements Entity & Node") == len(
        EntityKind
    )
