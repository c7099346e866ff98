"""What a client sees when it asks for something that is not there or asks wrongly."""

from __future__ import annotations

import asyncio
import base64
import gc
import logging
import warnings
from typing import Any

import pytest
from graphql import GraphQLList, GraphQLNonNull, GraphQLScalarType, Undefined, get_named_type
from sqlalchemy.exc import SAWarning

from soilapi.graphql.schema import schema

UNKNOWN_SLUGS = """
{
  organization(slug: "no-such-organization") { name }
  entity(slug: "no-such-record") { slug }
  event(slug: "nope") { name }
  facility(code: "CF1") { name }
  strategicObjective(label: "Z9") { name }
  document(symbol: "CBD/NOPE/1") { name }
  sourceDocument(key: "999") { key }
  wrongKind: organization(slug: "recsoil") { name }
  right: initiative(slug: "recsoil") { name }
}
"""

NODE = """
query($id: ID!) {
  node(id: $id) { __typename id ... on Entity { slug } }
}
"""

NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"

ORGANIZATION_ID = '{ organization(slug: "gsp") { id } }'
EVENT_ID = '{ event(slug: "inser-launch-rabat-2025") { id } }'

BAD_DATE_LITERAL = '{ outputs(publishedFrom: "2020-13-45") { totalCount } }'
BAD_DATE_VARIABLE = "query($from: Date) { outputs(publishedFrom: $from) { totalCount } }"
BAD_INT_VARIABLE = "query($first: Int) { organizations(first: $first) { totalCount } }"
BAD_ENUM_VARIABLE = "query($o: OrganizationOrder) { organizations(orderBy: $o) { totalCount } }"

UNKNOWN_FIELD = '{ organization(slug: "gsp") { name foundingMotto } }'
SYNTAX_ERROR = '{ organization(slug: "gsp") { name '

FACILITY_BOTH = '{ facility(slug: "4p1000-cf5", code: "CF5") { code } }'
FACILITY_NEITHER = "{ facility { code } }"
DOCUMENT_BOTH = '{ document(slug: "cbd-sbstta-24-l7", symbol: "CBD/SBSTTA/24/L.7") { slug } }'

BAD_COUNTRIES = [
    '{ partnerAgreements(countries: ["de"]) { totalCount } }',
    '{ organizations(countries: ["DEU"]) { totalCount } }',
    '{ events(countries: ["D1"]) { totalCount } }',
]

WRONG_ORDER = "{ organizations(orderBy: CODE) { totalCount } }"
RIGHT_ORDER = "{ facilities(orderBy: CODE, first: 1) { nodes { code } } }"

FOUNDED_RANGE_REVERSED = """
{ organizations(foundedFrom: "2020-01-01", foundedTo: "2010-01-01") { totalCount } }
"""
START_RANGE_REVERSED = """
{ events(startFrom: "2020-01-01", startTo: "2010-01-01") { totalCount } }
"""

CLIENT_CODES = {"BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"}


def only_error(body: dict[str, Any]) -> dict[str, Any]:
    """The single error of a response."""
    errors = body.get("errors")
    assert errors, body
    assert len(errors) == 1, errors
    error: dict[str, Any] = errors[0]
    return error


def forge(type_name: str, raw_id: str) -> str:
    """A global ID in the API's format (for tests only: clients must not build IDs)."""
    return base64.urlsafe_b64encode(f"{type_name}:{raw_id}".encode()).decode().rstrip("=")


def raw_uuid(global_id: str) -> str:
    padded = global_id + "=" * (-len(global_id) % 4)
    return base64.urlsafe_b64decode(padded).decode().partition(":")[2]


async def post_raw(api: Any, query: str, variables: dict[str, Any] | None = None) -> Any:
    """POST without the fixture's status assertion, to check the status ourselves."""
    return await api.http.post("/graphql", json={"query": query, "variables": variables})


async def test_unknown_slugs_give_null_without_errors(api: Any) -> None:
    data = await api.data(UNKNOWN_SLUGS)
    assert data == {
        "organization": None,
        "entity": None,
        "event": None,
        "facility": None,
        "strategicObjective": None,
        "document": None,
        "sourceDocument": None,
        "wrongKind": None,
        "right": {"name": "RECSOIL"},
    }


async def test_malformed_id_is_invalid_id(api: Any) -> None:
    for bad in ("not-an-id!!", "Zm9vYmFy", forge("Organization", "not-a-uuid"), ""):
        body = await api.post(NODE, {"id": bad})
        error = only_error(body)
        assert error["extensions"]["code"] == "INVALID_ID", (bad, error)
        assert error["path"] == ["node"]
        assert body["data"] == {"node": None}


async def test_change_requests_without_a_key_are_unauthenticated_on_both_engines(
    api: Any,
) -> None:
    """Over HTTP without a key, and in-process without any request (the resolvers' run the
    client compares with): the same coded refusal, not an internal error."""
    body = await api.post("{ changeRequests(first: 1) { totalCount } }")
    error = only_error(body)
    assert error["extensions"]["code"] == "UNAUTHENTICATED", error
    assert error["path"] == ["changeRequests"]


async def test_well_formed_id_of_unknown_record_is_null(api: Any) -> None:
    for type_name in ("Organization", "SourceDocument", "NoSuchType"):
        missing = forge(type_name, "00000000-0000-0000-0000-000000000000")
        assert await api.data(NODE, {"id": missing}) == {"node": None}


async def test_node_resolves_whatever_type_the_id_names(api: Any) -> None:
    event_id = (await api.data(EVENT_ID))["event"]["id"]
    organization_id = (await api.data(ORGANIZATION_ID))["organization"]["id"]
    event = (await api.data(NODE, {"id": event_id}))["node"]
    assert event == {"__typename": "Event", "id": event_id, "slug": "inser-launch-rabat-2025"}
    organization = (await api.data(NODE, {"id": organization_id}))["node"]
    assert organization["__typename"] == "Organization"

    # The event's key under another type's name is not the event, nor an organisation.
    forged = forge("Organization", raw_uuid(event_id))
    assert forged != event_id
    assert await api.data(NODE, {"id": forged}) == {"node": None}


async def test_nodes_takes_at_most_100_ids(api: Any) -> None:
    organization_id = (await api.data(ORGANIZATION_ID))["organization"]["id"]
    body = await api.post(NODES, {"ids": [organization_id] * 101})
    error = only_error(body)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "ids"}
    assert "100" in error["message"]

    hundred = (await api.data(NODES, {"ids": [organization_id] * 100}))["nodes"]
    assert [n["id"] for n in hundred] == [organization_id] * 100


async def test_nodes_answers_null_for_an_unknown_id(api: Any) -> None:
    organization_id = (await api.data(ORGANIZATION_ID))["organization"]["id"]
    missing = forge("Organization", "00000000-0000-0000-0000-000000000000")
    body = await api.post(NODES, {"ids": [organization_id, missing]})
    assert "errors" not in body
    assert body["data"]["nodes"] == [{"id": organization_id}, None]


async def test_nodes_with_a_malformed_id_leaks_no_connection(
    api: Any, engine: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """One bad ID among good ones: INVALID_ID, and the request gives its connection back."""
    # A logged traceback would keep a leaked connection alive past the cleanup below.
    for logger in (None, "soilapi", "strawberry"):
        caplog.set_level(logging.CRITICAL, logger=logger)
    organization_id = (await api.data(ORGANIZATION_ID))["organization"]["id"]
    assert engine.pool.checkedout() == 0
    try:
        body = await api.post(NODES, {"ids": [organization_id, "garbage!"]})
        assert only_error(body)["extensions"]["code"] == "INVALID_ID"
        await asyncio.sleep(0.2)  # let anything the request left running finish
        assert engine.pool.checkedout() == 0, "a connection is still checked out"
    finally:
        # Reclaim a leaked connection now, while the loop runs, so later tests are unaffected.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SAWarning)
            gc.collect()


async def test_invalid_date_literal_is_a_client_error_not_a_500(api: Any) -> None:
    response = await post_raw(api, BAD_DATE_LITERAL)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"] is None
    error = only_error(body)
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", error
    assert "Date" in error["message"]


async def test_invalid_date_variable_is_a_client_error_not_a_500(api: Any) -> None:
    response = await post_raw(api, BAD_DATE_VARIABLE, {"from": "2020-13-45"})
    assert response.status_code == 200, response.text
    error = only_error(response.json())
    # The client sent a bad value: it must learn that, not get "Internal error".
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert "$from" in error["message"], error
    assert "YYYY-MM-DD" in error["message"], error


async def test_dates_are_rfc_3339_full_dates_only(api: Any) -> None:
    """ISO 8601's other forms, which Python's parser takes, are refused: a client's date
    library writes YYYY-MM-DD, and the schema's @specifiedBy promises exactly that."""
    wide_digits = "\uff12\uff10\uff12\uff10-01-01"  # fullwidth digits: a Unicode \d takes them
    for sent in ("20200101", "2020-W01-1", "2020-1-1", "2020-02-30", wide_digits):
        error = only_error(await api.post(BAD_DATE_VARIABLE, {"from": sent}))
        assert error["extensions"]["code"] == "BAD_USER_INPUT", (sent, error)
    body = await api.post(BAD_DATE_VARIABLE, {"from": "2020-01-01"})
    assert "errors" not in body, body
    assert body["data"]["outputs"]["totalCount"] > 0, body


async def test_wrongly_typed_variables_are_client_errors(api: Any) -> None:
    for query, variables in (
        (BAD_INT_VARIABLE, {"first": "ten"}),
        (BAD_ENUM_VARIABLE, {"o": "POPULARITY"}),
    ):
        response = await post_raw(api, query, variables)
        assert response.status_code == 200, response.text
        error = only_error(response.json())
        assert error["extensions"]["code"] == "BAD_USER_INPUT", (variables, error)
        assert error["locations"] == [{"line": 1, "column": 7}], "the variable's definition"


async def test_unknown_field_fails_validation(api: Any) -> None:
    body = await api.post(UNKNOWN_FIELD)
    error = only_error(body)
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "foundingMotto" in error["message"]
    assert body.get("data") is None


async def test_syntax_error_is_reported_not_crashed(api: Any) -> None:
    response = await post_raw(api, SYNTAX_ERROR)
    assert response.status_code < 500, response.text
    error = only_error(response.json())
    assert error["extensions"]["code"] == "GRAPHQL_PARSE_FAILED", error
    assert "Syntax Error" in error["message"]
    # Where the parser stopped, as an editor underlines it.
    assert error["locations"] == [{"line": 1, "column": len(SYNTAX_ERROR) + 1}], error


async def test_lookup_by_both_or_neither_key_is_bad_input(api: Any) -> None:
    cases = (
        (FACILITY_BOTH, "facility"),
        (FACILITY_NEITHER, "facility"),
        (DOCUMENT_BOTH, "document"),
    )
    for query, field in cases:
        body = await api.post(query)
        error = only_error(body)
        assert error["extensions"]["code"] == "BAD_USER_INPUT", query
        assert error["path"] == [field]
        assert "exactly one" in error["message"]
        assert body["data"] == {field: None}


async def test_bad_country_code_names_the_argument(api: Any) -> None:
    for query in BAD_COUNTRIES:
        error = only_error(await api.post(query))
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "countries"}, query
        assert "ISO 3166-1" in error["message"]


async def test_order_a_list_does_not_have_fails_validation(api: Any) -> None:
    """Each list has its own sort enum, so CODE on organisations never reaches a resolver."""
    body = await api.post(WRONG_ORDER)
    error = only_error(body)
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", error
    assert "CODE" in error["message"]
    assert "OrganizationOrder" in error["message"], "the message names the list's enum"
    assert body.get("data") is None, "nothing ran"
    assert (await api.data(RIGHT_ORDER))["facilities"]["nodes"] == [{"code": "CF2"}]


async def test_reversed_date_range_names_the_argument_sent(api: Any) -> None:
    error = only_error(await api.post(START_RANGE_REVERSED))
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "startFrom"}
    # organizations calls the same filter `foundedFrom`: the error must name that argument.
    error = only_error(await api.post(FOUNDED_RANGE_REVERSED))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "foundedFrom", error


def _string_arguments() -> list[tuple[str, str, str]]:
    """(root field, argument, its type) for every root argument that takes text: String and
    ID, alone or in a list. Read from the schema, so an argument added later is covered."""
    found = []
    for name, field in schema._schema.query_type.fields.items():
        for arg_name, arg in field.args.items():
            named = get_named_type(arg.type)
            if isinstance(named, GraphQLScalarType) and named.name in {"String", "ID"}:
                inner = arg.type.of_type if isinstance(arg.type, GraphQLNonNull) else arg.type
                shown = f"[{named.name}!]" if isinstance(inner, GraphQLList) else named.name
                found.append((name, arg_name, shown))
    return found


STRING_ARGUMENTS = _string_arguments()


def _with_required(field: str, arg: str) -> str:
    """`arg` preceded by the field's other required text arguments with a plain value
    (`search(query:)` beside its `countries`), so that only the value under test fails."""
    others = [
        f'{name}: "x", '
        for name, other in schema._schema.query_type.fields[field].args.items()
        if name != arg
        and isinstance(other.type, GraphQLNonNull)
        and other.default_value is Undefined
    ]
    return "".join(others) + arg


def test_the_text_arguments_include_those_users_type() -> None:
    """The sweep below covers the arguments that reached SQL and crashed before."""
    named = {f"{field}.{arg}" for field, arg, _ in STRING_ARGUMENTS}
    expected = {"organization.slug", "organizations.nameContains", "document.symbol"}
    expected |= {"facility.code", "strategicObjective.label", "node.id", "nodes.ids"}
    assert expected <= named


@pytest.mark.parametrize("char", ["\x00", "\ud800"])
@pytest.mark.parametrize(("field", "arg", "kind"), STRING_ARGUMENTS)
async def test_text_no_column_can_hold_is_bad_user_input(
    api: Any, field: str, arg: str, kind: str, char: str
) -> None:
    """NUL and lone surrogates, in any text variable, are refused before anything runs (they
    crashed the driver with INTERNAL_SERVER_ERROR and a traceback)."""
    value: Any = f"a{char}b"
    value = [value] if kind.startswith("[") else value
    query = f"query($v: {kind}) {{ x: {field}({_with_required(field, arg)}: $v) {{ __typename }} }}"
    body = await api.post_raw(query, {"v": value})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
    assert "Variable $v holds a" in body["errors"][0]["message"]
    assert body.get("data") is None


@pytest.mark.parametrize(("field", "arg", "kind"), STRING_ARGUMENTS)
async def test_nul_in_a_string_literal_is_bad_user_input(
    api: Any, field: str, arg: str, kind: str
) -> None:
    """A literal can smuggle NUL in as `\\u0000`; the lexer refuses surrogate escapes itself."""
    literal = '"a\\u0000b"'
    literal = f"[{literal}]" if kind.startswith("[") else literal
    argument = _with_required(field, arg)
    body = await api.post_raw(f"{{ x: {field}({argument}: {literal}) {{ __typename }} }}")
    codes = [e["extensions"]["code"] for e in body["errors"]]
    assert codes == ["BAD_USER_INPUT"], body
    assert body["errors"][0]["locations"]


async def test_text_deep_in_an_input_list_is_checked_too(api: Any) -> None:
    query = "query($c: [String!]) { organizations(countries: $c) { totalCount } }"
    body = await api.post_raw(query, {"c": ["DE", "F\x00R"]})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
