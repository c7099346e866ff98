"""Relay pagination: keyset walks in both directions, per-parent windows, cursor and size checks."""

from __future__ import annotations

from collections import Counter
from typing import Any

from soilapi import vocab
from soilapi.seed.dataset import load_dataset

ORGANIZATIONS_PAGE = """
query($first: Int, $after: String, $last: Int, $before: String,
      $orderBy: OrganizationOrder, $descending: Boolean! = false) {
  organizations(first: $first, after: $after, last: $last, before: $before,
                orderBy: $orderBy, descending: $descending) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { slug start { value } } }
  }
}
"""

SOURCES_PER_ORGANIZATION = """
{
  organizations(first: 50) {
    nodes {
      slug
      sources(first: 1) {
        totalCount
        pageInfo { hasNextPage }
        edges { node { quote document { key } lines { start } } }
      }
    }
  }
}
"""

ALL_SOURCES_OF = """
query($slug: String!) {
  organization(slug: $slug) {
    sources(first: 100) { nodes { quote document { key } lines { start } } }
  }
}
"""

CHILDREN_PER_ORGANIZATION = """
{
  organizations(first: 50) {
    nodes {
      slug
      children(first: 2) {
        totalCount
        pageInfo { hasNextPage hasPreviousPage }
        nodes { slug }
      }
    }
  }
}
"""

CHILDREN_PAGE = """
query($slug: String!, $first: Int, $after: String, $last: Int, $before: String) {
  organization(slug: $slug) {
    children(first: $first, after: $after, last: $last, before: $before) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      nodes { slug }
    }
  }
}
"""

DESCENDANTS_PAGE = """
query($first: Int, $after: String) {
  organization(slug: "gsp") {
    descendants(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage endCursor }
      nodes { depth organization { slug } }
    }
  }
}
"""

OUTPUTS_AFTER = """
query($after: String) { outputs(first: 5, after: $after) { nodes { slug } } }
"""

ORGANIZATIONS_AFTER = """
query($after: String, $orderBy: OrganizationOrder) {
  organizations(first: 5, after: $after, orderBy: $orderBy) { nodes { slug } }
}
"""

NAMES_AFTER = """
query($after: String) {
  organization(slug: "gsp") { names(first: 5, after: $after) { nodes { value } } }
}
"""

SOURCES_CURSOR = """
{ organization(slug: "gsp") { sources(first: 1) { pageInfo { endCursor } } } }
"""

PUBLISHED_AFTER = """
query($after: String) {
  organization(slug: "fao") { published(first: 10, after: $after) { nodes { slug } } }
}
"""

TOO_MANY_TOP = "{ organizations(first: 101) { totalCount } }"
TOO_MANY_LAST = "{ outputs(last: 101) { totalCount } }"
TOO_MANY_NESTED = '{ organization(slug: "gsp") { sources(first: 101) { totalCount } } }'
EXACTLY_MAX = "{ organizations(first: 100) { totalCount edges { cursor } } }"
FIRST_AND_LAST = "{ organizations(first: 5, last: 5) { totalCount } }"
NEGATIVE_FIRST = "{ organizations(first: -1) { totalCount } }"
NEGATIVE_LAST_NESTED = '{ organization(slug: "gsp") { children(last: -2) { totalCount } } }'
ZERO_FIRST = """
{ organizations(first: 0) { totalCount edges { cursor } pageInfo { hasNextPage endCursor } } }
"""

ORGANIZATION_COUNT = 49
HIERARCHY = {
    vocab.Predicate.SUB_ORGANIZATION_OF,
    vocab.Predicate.UNIT_OF,
    vocab.Predicate.TECHNICAL_NETWORK_OF,
}


def only_error(body: dict[str, Any]) -> dict[str, Any]:
    """The single error of a response."""
    errors = body.get("errors")
    assert errors, body
    assert len(errors) == 1, errors
    error: dict[str, Any] = errors[0]
    return error


async def organizations_page(api: Any, **variables: Any) -> dict[str, Any]:
    page: dict[str, Any] = (await api.data(ORGANIZATIONS_PAGE, variables))["organizations"]
    return page


def page_slugs(page: dict[str, Any]) -> list[str]:
    return [edge["node"]["slug"] for edge in page["edges"]]


async def test_forward_walk_visits_every_organization_once(api: Any) -> None:
    whole = page_slugs(await organizations_page(api, first=100))
    assert len(whole) == ORGANIZATION_COUNT == len(set(whole))

    seen: list[str] = []
    sizes: list[int] = []
    flags: list[tuple[bool, bool]] = []
    after = None
    while True:
        page = await organizations_page(api, first=10, after=after)
        assert page["totalCount"] == ORGANIZATION_COUNT
        info = page["pageInfo"]
        assert info["startCursor"] == page["edges"][0]["cursor"]
        assert info["endCursor"] == page["edges"][-1]["cursor"]
        seen += page_slugs(page)
        sizes.append(len(page["edges"]))
        flags.append((info["hasPreviousPage"], info["hasNextPage"]))
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
        assert len(sizes) < 10, "the walk does not end"

    assert sizes == [10, 10, 10, 10, 9]
    assert flags == [(False, True), (True, True), (True, True), (True, True), (True, False)]
    assert seen == whole, "pages must neither skip nor repeat organizations"


async def test_backward_walk_with_last_and_before(api: Any) -> None:
    whole = page_slugs(await organizations_page(api, first=100))

    seen: list[str] = []
    sizes: list[int] = []
    flags: list[tuple[bool, bool]] = []
    before = None
    while True:
        page = await organizations_page(api, last=10, before=before)
        info = page["pageInfo"]
        seen = page_slugs(page) + seen
        sizes.append(len(page["edges"]))
        flags.append((info["hasPreviousPage"], info["hasNextPage"]))
        if not info["hasPreviousPage"]:
            break
        before = info["startCursor"]
        assert len(sizes) < 10, "the walk does not end"

    assert sizes == [10, 10, 10, 10, 9]
    assert flags == [(True, False), (True, True), (True, True), (True, True), (False, True)]
    assert seen == whole
    # `last` pages are in list order too, not reversed.
    assert page_slugs(await organizations_page(api, last=3)) == whole[-3:]


async def test_order_by_start_ascending_and_descending(api: Any) -> None:
    ascending = await organizations_page(api, first=100, orderBy="START")
    dated = [
        (edge["node"]["slug"], edge["node"]["start"]["value"])
        for edge in ascending["edges"]
        if edge["node"]["start"]
    ]
    assert dated == [
        ("gsp", "2012-01-01"),
        ("esp", "2013-01-01"),
        ("easp", "2013-11-01"),
        ("alpsp", "2017-01-01"),
        ("aspir", "2021-05-27"),
        ("wbsp", "2022-11-01"),
        ("inser", "2025-09-15"),
    ]
    # Undated organisations come after the dated ones.
    starts = [edge["node"]["start"] for edge in ascending["edges"]]
    assert all(s is not None for s in starts[: len(dated)])
    assert all(s is None for s in starts[len(dated) :])

    # Descending: newest first, and the undated still last (in reverse order of their ids).
    descending = await organizations_page(api, first=100, orderBy="START", descending=True)
    whole = page_slugs(ascending)
    assert page_slugs(descending) == whole[: len(dated)][::-1] + whole[len(dated) :][::-1]

    # Walk the descending order in pages of 7: the same sequence, no duplicates.
    seen: list[str] = []
    after = None
    for _ in range(10):
        page = await organizations_page(api, first=7, after=after, orderBy="START", descending=True)
        seen += page_slugs(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == page_slugs(descending)

    # And backwards from the end of the descending order, into the dated ones.
    undated = len(whole) - len(dated)
    tail = await organizations_page(api, last=undated, orderBy="START", descending=True)
    assert page_slugs(tail) == page_slugs(descending)[len(dated) :]
    assert tail["pageInfo"]["hasPreviousPage"] is True
    before = await organizations_page(
        api, last=3, before=tail["pageInfo"]["startCursor"], orderBy="START", descending=True
    )
    assert page_slugs(before) == ["alpsp", "easp", "esp", "gsp"][-3:]
    newest = await organizations_page(api, first=3, orderBy="START", descending=True)
    assert page_slugs(newest) == ["inser", "wbsp", "aspir"]


async def test_first_zero_returns_no_items_but_knows_there_are_more(api: Any) -> None:
    page = (await api.data(ZERO_FIRST))["organizations"]
    assert page["edges"] == []
    assert page["totalCount"] == ORGANIZATION_COUNT
    assert page["pageInfo"] == {"hasNextPage": True, "endCursor": None}


async def test_nested_sources_are_paged_per_organization(api: Any) -> None:
    dataset = load_dataset()
    mentions = Counter(mention[0] for mention in dataset.mentions)  # (slug, provenance, ...)
    expected = {
        slug: len(spec.sources) + mentions[slug]
        for slug, spec in dataset.entities.items()
        if spec.kind == vocab.EntityKind.ORGANIZATION
    }
    organizations = (await api.data(SOURCES_PER_ORGANIZATION))["organizations"]["nodes"]
    assert len(organizations) == ORGANIZATION_COUNT

    totals = {org["slug"]: org["sources"]["totalCount"] for org in organizations}
    assert totals == expected
    for org in organizations:
        sources = org["sources"]
        # Every organisation has a source, so each gets exactly one: not one in total.
        assert len(sources["edges"]) == 1, org["slug"]
        assert sources["pageInfo"]["hasNextPage"] == (sources["totalCount"] > 1), org["slug"]

    # The one source is that organisation's own first source.
    for slug in ("gsp", "fao", "alpsp"):
        own = (await api.data(ALL_SOURCES_OF, {"slug": slug}))["organization"]["sources"]
        nested = next(o for o in organizations if o["slug"] == slug)["sources"]["edges"][0]
        assert nested["node"] == own["nodes"][0]


async def test_nested_children_are_paged_per_parent(api: Any) -> None:
    dataset = load_dataset()
    child_counts = Counter(r.object for r in dataset.relations if r.predicate in HIERARCHY)
    organizations = (await api.data(CHILDREN_PER_ORGANIZATION))["organizations"]["nodes"]
    assert len(organizations) == ORGANIZATION_COUNT

    got = {org["slug"]: org["children"] for org in organizations}
    for slug, children in got.items():
        total = child_counts.get(slug, 0)
        assert children["totalCount"] == total, slug
        assert len(children["nodes"]) == min(2, total), slug
        assert children["pageInfo"]["hasNextPage"] == (total > 2), slug
        assert children["pageInfo"]["hasPreviousPage"] is False
    assert [c["slug"] for c in got["esp"]["nodes"]] == ["alpsp", "easp"]
    assert len(got["gsp"]["nodes"]) == 2
    assert sum(len(c["nodes"]) for c in got.values()) == 2 + 2 + 5  # gsp, esp, five with one


async def test_nested_children_follow_their_own_cursors(api: Any) -> None:
    whole = (await api.data(CHILDREN_PAGE, {"slug": "gsp", "first": 10}))["organization"]
    everything = [c["slug"] for c in whole["children"]["nodes"]]
    assert len(everything) == 5

    seen: list[str] = []
    after = None
    for _ in range(5):
        page = (await api.data(CHILDREN_PAGE, {"slug": "gsp", "first": 2, "after": after}))[
            "organization"
        ]["children"]
        assert page["totalCount"] == 5
        seen += [c["slug"] for c in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == everything

    last = (await api.data(CHILDREN_PAGE, {"slug": "gsp", "last": 2}))["organization"]
    assert [c["slug"] for c in last["children"]["nodes"]] == everything[-2:]
    assert last["children"]["pageInfo"]["hasPreviousPage"] is True


async def test_descendants_page_level_by_level(api: Any) -> None:
    whole = (await api.data(DESCENDANTS_PAGE, {"first": 50}))["organization"]["descendants"]
    assert whole["totalCount"] == 9
    first = (await api.data(DESCENDANTS_PAGE, {"first": 4}))["organization"]["descendants"]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = (
        await api.data(DESCENDANTS_PAGE, {"first": 50, "after": first["pageInfo"]["endCursor"]})
    )["organization"]["descendants"]
    assert rest["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": True,
        "endCursor": whole["pageInfo"]["endCursor"],
    }
    assert first["nodes"] + rest["nodes"] == whole["nodes"]


async def test_cursor_of_one_list_is_rejected_by_another(api: Any) -> None:
    organization_cursor = (await organizations_page(api, first=3))["pageInfo"]["endCursor"]
    child_cursor = (await api.data(CHILDREN_PAGE, {"slug": "gsp", "first": 1}))["organization"][
        "children"
    ]["pageInfo"]["endCursor"]
    source_cursor = (await api.data(SOURCES_CURSOR))["organization"]["sources"]["pageInfo"][
        "endCursor"
    ]

    cases = [
        (OUTPUTS_AFTER, {"after": organization_cursor}),
        (ORGANIZATIONS_AFTER, {"after": organization_cursor, "orderBy": "START"}),
        (ORGANIZATIONS_AFTER, {"after": child_cursor}),
        (NAMES_AFTER, {"after": source_cursor}),
        (ORGANIZATIONS_AFTER, {"after": "not-a-cursor"}),
        (ORGANIZATIONS_AFTER, {"after": "W1tdXQ"}),  # base64 of [[]]
    ]
    for query, variables in cases:
        body = await api.post(query, variables)
        error = only_error(body)
        assert error["extensions"]["code"] == "INVALID_CURSOR", (variables, error)
        assert "cursor" in error["message"]

    # A cursor from the same list in the same order is fine.
    same = await api.data(ORGANIZATIONS_AFTER, {"after": organization_cursor})
    assert len(same["organizations"]["nodes"]) == 5


async def test_an_empty_cursor_is_invalid_not_absent(engine_api: Any) -> None:
    """`after: ""` is a cursor no list made, so it is refused like any other, on both engines:
    read as "no cursor", a client's empty placeholder would silently restart from page one."""
    cursor = (await organizations_page(engine_api, first=3))["pageInfo"]["endCursor"]
    # The same document with a real cursor first: the empty one then comes in as new binds.
    assert (await engine_api.data(ORGANIZATIONS_AFTER, {"after": cursor}))["organizations"]
    cases = [
        (ORGANIZATIONS_AFTER, {"after": ""}, ["organizations"]),
        (ORGANIZATIONS_PAGE, {"last": 2, "before": ""}, ["organizations"]),
        (CHILDREN_PAGE, {"slug": "gsp", "after": ""}, ["organization", "children"]),
        (CHILDREN_PAGE, {"slug": "gsp", "last": 1, "before": ""}, ["organization", "children"]),
        (NAMES_AFTER, {"after": ""}, ["organization", "names"]),
        ('{ outputs(after: "") { totalCount } }', None, ["outputs"]),
    ]
    for query, variables, path in cases:
        error = only_error(await engine_api.post(query, variables))
        assert error["extensions"]["code"] == "INVALID_CURSOR", (variables, error)
        assert error["path"] == path


async def test_an_empty_global_id_is_invalid(engine_api: Any) -> None:
    """IDs agree with cursors: "" is an INVALID_ID, not a missing record."""
    for query in ('{ node(id: "") { id } }', '{ nodes(ids: [""]) { id } }'):
        error = only_error(await engine_api.post(query))
        assert error["extensions"]["code"] == "INVALID_ID", (query, error)


async def test_cursor_of_children_is_rejected_by_published(api: Any) -> None:
    """GSP's `children` and FAO's `published` are different lists: their cursors don't mix."""
    child_cursor = (await api.data(CHILDREN_PAGE, {"slug": "gsp", "first": 1}))["organization"][
        "children"
    ]["pageInfo"]["endCursor"]
    body = await api.post(PUBLISHED_AFTER, {"after": child_cursor})
    assert only_error(body)["extensions"]["code"] == "INVALID_CURSOR", body


async def test_page_size_limit(api: Any) -> None:
    for query, argument in (
        (TOO_MANY_TOP, "first"),
        (TOO_MANY_LAST, "last"),
        (TOO_MANY_NESTED, "first"),
    ):
        error = only_error(await api.post(query))
        assert error["extensions"]["code"] == "PAGE_SIZE_EXCEEDED", query
        assert error["extensions"]["field"] == argument
        assert "100" in error["message"], "the message must name the limit"
        assert "101" in error["message"]
    page = (await api.data(EXACTLY_MAX))["organizations"]
    assert len(page["edges"]) == ORGANIZATION_COUNT


async def test_first_and_last_together_is_bad_input(api: Any) -> None:
    error = only_error(await api.post(FIRST_AND_LAST))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["path"] == ["organizations"]


async def test_negative_sizes_are_bad_input(api: Any) -> None:
    error = only_error(await api.post(NEGATIVE_FIRST))
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "first"}
    error = only_error(await api.post(NEGATIVE_LAST_NESTED))
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "last"}
    assert error["path"] == ["organization", "children"]
