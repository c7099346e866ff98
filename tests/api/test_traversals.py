"""Traversals in both directions, checked against the facts of the seed documents 000-003."""

from __future__ import annotations

from typing import Any

GSP_TREE = """
{
  organization(slug: "gsp") {
    slug name acronym
    start { iso precision }
    hostedBy { nodes { slug name } }
    children(first: 10) {
      totalCount
      nodes {
        slug name acronym
        start { iso precision }
        children(first: 10) {
          totalCount
          nodes { slug name acronym start { iso precision value } }
        }
      }
    }
  }
}
"""

PARENTS = """
{
  esp: organization(slug: "esp") { parent { slug name } }
  alpsp: organization(slug: "alpsp") { parent { slug } }
  gsp: organization(slug: "gsp") { parent { slug } }
  fao: organization(slug: "fao") { hosts { nodes { slug } } }
}
"""

ANCESTORS = """
{
  organization(slug: "alpsp") {
    ancestors {
      totalCount
      pageInfo { hasNextPage hasPreviousPage }
      nodes { depth via organization { slug acronym } }
    }
  }
}
"""

DESCENDANTS = """
{
  organization(slug: "gsp") {
    descendants(first: 50) {
      totalCount
      nodes { depth via organization { slug } }
    }
  }
}
"""

FACILITY_BLOCKS = """
{
  organization(slug: "4p1000") {
    slug name
    facilityBlocks {
      nodes {
        slug facilityKind keyActorsLabel
        owner { slug }
        facilities(first: 20) {
          totalCount
          nodes {
            code codeInferred position
            block { slug }
            objectives(first: 20) {
              nodes {
                label name
                facility { code }
                taskForces {
                  nodes {
                    slug name explicitlyListed
                    objective { label facility { code block { facilityKind owner { slug name } } } }
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}
"""

FACILITY_CF5 = """
{
  facility(code: "CF5") {
    slug code name
    objectives { totalCount nodes { label name position } }
    block { facilityKind owner { slug } }
  }
  bySlug: facility(slug: "4p1000-cf5") { code }
}
"""

OBJECTIVE_E2 = """
{
  strategicObjective(label: "E2") {
    slug label name goalLetter
    facility { code name block { facilityKind } }
    taskForces { nodes { slug name explicitlyListed } }
  }
  bySlug: strategicObjective(slug: "4p1000-e2") { label }
}
"""

GERMAN_PARTNERS = """
{
  partnerAgreements(countries: ["DE"]) {
    totalCount
    nodes {
      ordinal slug rawText jurisdictionLabel country
      listAsOf { iso precision }
      owner { slug }
      parties { nodes { __typename slug name acronym } }
      instruments {
        nodes {
          instrumentType rawText fte endIsDerived
          signed { iso }
          start { iso precision }
          end { iso precision }
        }
      }
    }
  }
}
"""

GIZ_AGREEMENTS = """
{
  organization(slug: "giz") {
    name
    agreements {
      totalCount
      nodes {
        ordinal
        owner { slug }
        parties { nodes { slug } }
        instruments { nodes { instrumentType start { iso } end { iso } } }
      }
    }
  }
}
"""

FAO_PUBLISHED = """
{
  organization(slug: "fao") {
    published(first: 50) {
      totalCount
      nodes { slug name start { iso precision } initiatives { nodes { slug name } } }
    }
  }
}
"""

OUTPUTS_2020 = """
{
  outputs(publishedFrom: "2020-01-01", publishedTo: "2020-12-31", first: 50) {
    totalCount
    nodes {
      slug name category
      start { iso }
      publishers { nodes { slug } }
      initiatives { nodes { slug name } }
    }
  }
}
"""

RECSOIL_OUTPUTS = """
{
  initiative(slug: "recsoil") {
    name
    outputs { nodes { slug } }
    ledBy { nodes { slug } }
  }
}
"""

INSER_LAUNCH = """
{
  event(slug: "inser-launch-rabat-2025") {
    name category attendanceMode isImplied
    start { iso precision }
    place { slug name category parent { slug name } }
    organizers { nodes { slug } }
    speakers {
      totalCount
      nodes {
        slug name honorific
        posts { nodes { label organization { slug } } }
      }
    }
    representedOrganizations { nodes { slug acronym } }
    launchedHere { nodes { __typename slug } }
    quantities { nodes { metric value qualifier text } }
  }
}
"""

SPEAKER_RELATIONS = """
{
  event(slug: "inser-launch-rabat-2025") {
    relations(direction: INCOMING, predicates: [SPEAKER_AT]) {
      totalCount
      nodes { predicate ordinal note subject { slug } object { slug } }
    }
  }
}
"""

STATE_OF_KNOWLEDGE = """
{
  output(slug: "state-of-knowledge-soil-biodiversity-2020") {
    name category
    start { iso precision }
    authors { nodes { __typename slug } }
    publishers { nodes { slug } }
    preparedBy { nodes { slug } }
    publicationPlace { slug }
    documents { nodes { slug symbol category } }
    citations { nodes { __typename slug footnote authorsText year placeText url } }
    events { nodes { slug } }
  }
}
"""

DOCUMENT_L7 = """
{
  document(symbol: "CBD/SBSTTA/24/L.7") {
    slug symbol category
    issuedBy { nodes { slug } }
    sources { nodes { document { key } lines { start end } quote evidence } }
  }
  bySlug: document(slug: "cbd-sbstta-24-l7") { symbol }
}
"""

GSP_SOURCES = """
{
  organization(slug: "gsp") {
    sources(first: 100) {
      totalCount
      nodes { document { key } lines { start end } quote evidence property }
    }
  }
}
"""

GSP_RELATIONS = """
{
  organization(slug: "gsp") {
    incoming: relations(
      direction: INCOMING, predicates: [SUB_ORGANIZATION_OF, TECHNICAL_NETWORK_OF]
    ) {
      totalCount
      nodes {
        predicate rank
        subject { __typename slug }
        object { slug }
        sources { document { key } lines { start end } evidence }
      }
    }
    units: relations(direction: INCOMING, predicates: [UNIT_OF]) {
      nodes { subject { slug } }
    }
    outgoing: relations(predicates: [HOSTED_BY]) {
      nodes { predicate subject { slug } object { slug } }
    }
    wrongWay: relations(direction: OUTGOING, predicates: [SUB_ORGANIZATION_OF]) {
      totalCount
    }
  }
}
"""

IDS = """
{
  org: organization(slug: "gsp") { id }
  event: event(slug: "inser-launch-rabat-2025") { id }
  facility: facility(code: "CF5") { id }
  objective: strategicObjective(label: "E2") { id }
  agreement: partnerAgreement(slug: "4p1000-partner-05") { id instruments { nodes { id } } }
  output: output(slug: "gsoc-mrv-protocol") { id }
  person: person(slug: "lifeng-li") { id }
  document: document(symbol: "CBD/SBSTTA/24/INF/8") { id }
  sourceDocument(key: "002") { id }
}
"""

NODE = """
query($id: ID!) {
  node(id: $id) {
    __typename id
    ... on Entity { slug }
    ... on SourceDocument { key }
  }
}
"""

NODES = """
query($ids: [ID!]!) {
  nodes(ids: $ids) {
    __typename id
    ... on Entity { slug }
    ... on SourceDocument { key }
  }
}
"""

ENTITY_TYPENAMES = """
{
  gsp: entity(slug: "gsp") { __typename slug name }
  recsoil: entity(slug: "recsoil") { __typename slug }
  rabat: entity(slug: "rabat") { __typename slug }
  footnote: entity(slug: "003-fn-04") { __typename slug }
  taskForce: entity(slug: "4p1000-tf-e2") { __typename slug }
  event: entity(slug: "inser-launch-rabat-2025") { __typename slug }
  agreement: entity(slug: "4p1000-partner-05") { __typename slug }
  person: entity(slug: "lifeng-li") { __typename slug }
  facility: entity(slug: "4p1000-cf5") { __typename ... on Facility { code } }
}
"""


def slugs(connection: dict[str, Any]) -> list[str]:
    """The slugs of a connection's nodes, in order."""
    return [node["slug"] for node in connection["nodes"]]


async def test_gsp_to_esp_to_its_four_subregional_partnerships(api: Any) -> None:
    gsp = (await api.data(GSP_TREE))["organization"]
    assert (gsp["name"], gsp["acronym"]) == ("Global Soil Partnership", "GSP")
    assert gsp["start"] == {"iso": "2012", "precision": "YEAR"}
    assert slugs(gsp["hostedBy"]) == ["fao"]

    children = {child["slug"]: child for child in gsp["children"]["nodes"]}
    assert set(children) == {"esp", "gsp-secretariat", "gsp-plenary-assembly", "itps", "inser"}
    assert gsp["children"]["totalCount"] == 5

    esp = children["esp"]
    assert (esp["name"], esp["acronym"]) == ("European Soil Partnership", "ESP")
    assert esp["start"] == {"iso": "2013", "precision": "YEAR"}
    assert esp["children"]["totalCount"] == 4
    found = [
        (c["slug"], c["name"], c["acronym"], c["start"]["precision"], c["start"]["iso"])
        for c in esp["children"]["nodes"]
    ]
    # The order of the list in 000:24-28.
    assert found == [
        ("alpsp", "Alpine Subregional Soil Partnership", "AlpSP", "YEAR", "2017"),
        ("easp", "Eurasian Subregional Soil Partnership", "EASP", "MONTH", "2013-11"),
        ("aspir", "Pyrenean Subregional Soil Partnership", "ASPir", "DAY", "2021-05-27"),
        ("wbsp", "Western Balkan Subregional Soil Partnership", "WBSP", "MONTH", "2022-11"),
    ]
    values = {c["slug"]: c["start"]["value"] for c in esp["children"]["nodes"]}
    assert values == {
        "alpsp": "2017-01-01",
        "easp": "2013-11-01",
        "aspir": "2021-05-27",
        "wbsp": "2022-11-01",
    }
    # The other children are units or networks, none of which has children of its own.
    assert all(children[s]["children"]["totalCount"] == 0 for s in children if s != "esp")


async def test_parents_point_back_up_the_tree(api: Any) -> None:
    data = await api.data(PARENTS)
    assert data["esp"]["parent"] == {"slug": "gsp", "name": "Global Soil Partnership"}
    assert data["alpsp"]["parent"] == {"slug": "esp"}
    # GSP is hosted by FAO, which is not a parent in the organisational tree.
    assert data["gsp"]["parent"] is None
    assert slugs(data["fao"]["hosts"]) == ["gsp"]


async def test_alpsp_ancestors_nearest_first(api: Any) -> None:
    ancestors = (await api.data(ANCESTORS))["organization"]["ancestors"]
    assert ancestors["totalCount"] == 2
    assert ancestors["pageInfo"] == {"hasNextPage": False, "hasPreviousPage": False}
    assert ancestors["nodes"] == [
        {
            "depth": 1,
            "via": "SUB_ORGANIZATION_OF",
            "organization": {"slug": "esp", "acronym": "ESP"},
        },
        {
            "depth": 2,
            "via": "SUB_ORGANIZATION_OF",
            "organization": {"slug": "gsp", "acronym": "GSP"},
        },
    ]


async def test_gsp_descendants_level_by_level(api: Any) -> None:
    descendants = (await api.data(DESCENDANTS))["organization"]["descendants"]
    entries = [(n["depth"], n["organization"]["slug"], n["via"]) for n in descendants["nodes"]]
    assert descendants["totalCount"] == 9 == len(entries)
    depths = [depth for depth, _, _ in entries]
    assert depths == sorted(depths), "descendants must come level by level"
    assert {(slug, via) for depth, slug, via in entries if depth == 1} == {
        ("esp", "SUB_ORGANIZATION_OF"),
        ("gsp-secretariat", "UNIT_OF"),
        ("gsp-plenary-assembly", "UNIT_OF"),
        ("itps", "UNIT_OF"),
        ("inser", "TECHNICAL_NETWORK_OF"),
    }
    assert {(slug, via) for depth, slug, via in entries if depth == 2} == {
        ("alpsp", "SUB_ORGANIZATION_OF"),
        ("easp", "SUB_ORGANIZATION_OF"),
        ("aspir", "SUB_ORGANIZATION_OF"),
        ("wbsp", "SUB_ORGANIZATION_OF"),
    }


async def test_facility_blocks_down_to_task_forces_and_back(api: Any) -> None:
    org = (await api.data(FACILITY_BLOCKS))["organization"]
    assert org["slug"] == "4p1000"
    blocks = {b["facilityKind"]: b for b in org["facilityBlocks"]["nodes"]}
    assert set(blocks) == {"CORE", "GLOBAL"}
    assert blocks["CORE"]["keyActorsLabel"] == "Key Stakeholders"
    assert blocks["GLOBAL"]["keyActorsLabel"] == "Key actors"

    codes = {kind: [f["code"] for f in b["facilities"]["nodes"]] for kind, b in blocks.items()}
    assert codes == {
        "CORE": ["CF2", "CF3", "CF4", "CF5", "CF6", "CF7"],
        "GLOBAL": ["GF1", "GF2", "GF3", "GF4", "GF5", "GF6"],
    }
    facilities = [f for b in blocks.values() for f in b["facilities"]["nodes"]]
    assert [f["code"] for f in facilities if f["codeInferred"]] == ["CF4"]
    for block in blocks.values():
        assert block["owner"] == {"slug": "4p1000"}
        assert {f["block"]["slug"] for f in block["facilities"]["nodes"]} == {block["slug"]}

    objectives = [o for f in facilities for o in f["objectives"]["nodes"]]
    labels = sorted(o["label"] for o in objectives)
    assert len(labels) == 24 == len(set(labels))
    for facility in facilities:
        assert {o["facility"]["code"] for o in facility["objectives"]["nodes"]} <= {
            facility["code"]
        }

    task_forces = {o["label"]: tf for o in objectives for tf in o["taskForces"]["nodes"]}
    assert sorted(task_forces) == ["A5", "B2", "B3", "B4", "C2", "D3", "E1", "E2", "E3", "F1"]
    for label, tf in task_forces.items():
        assert tf["slug"] == f"4p1000-tf-{label.lower()}"
        assert tf["explicitlyListed"] is True
        back = tf["objective"]
        assert back["label"] == label
        assert back["facility"]["code"].startswith("GF")
        assert back["facility"]["block"]["facilityKind"] == "GLOBAL"
        assert back["facility"]["block"]["owner"] == {"slug": "4p1000", "name": '"4 per 1000"'}


async def test_facility_cf5_objectives_in_table_order(api: Any) -> None:
    data = await api.data(FACILITY_CF5)
    cf5 = data["facility"]
    assert (cf5["slug"], cf5["code"], cf5["name"]) == (
        "4p1000-cf5",
        "CF5",
        "Networking & Collaboration",
    )
    assert [o["label"] for o in cf5["objectives"]["nodes"]] == ["A2", "A3", "A4", "D1", "D2"]
    assert [o["position"] for o in cf5["objectives"]["nodes"]] == [1, 2, 3, 4, 5]
    assert cf5["objectives"]["totalCount"] == 5
    assert cf5["block"] == {"facilityKind": "CORE", "owner": {"slug": "4p1000"}}
    assert data["bySlug"] == {"code": "CF5"}


async def test_strategic_objective_e2(api: Any) -> None:
    data = await api.data(OBJECTIVE_E2)
    e2 = data["strategicObjective"]
    assert (e2["slug"], e2["label"], e2["name"], e2["goalLetter"]) == (
        "4p1000-e2",
        "E2",
        "Soil Health Observatory",
        "E",
    )
    # Facility and objective share a name (GF5/E2); they must stay two records.
    assert e2["facility"] == {
        "code": "GF5",
        "name": "Soil Health Observatory",
        "block": {"facilityKind": "GLOBAL"},
    }
    assert e2["taskForces"]["nodes"] == [
        {"slug": "4p1000-tf-e2", "name": "Soil Health Observatory", "explicitlyListed": True}
    ]
    assert data["bySlug"] == {"label": "E2"}


async def test_partners_in_germany_and_their_terms(api: Any) -> None:
    """Which partners does the 4p1000 Initiative have in Germany, and on what terms?"""
    agreements = (await api.data(GERMAN_PARTNERS))["partnerAgreements"]
    assert agreements["totalCount"] == 2
    ble, giz = agreements["nodes"]

    assert ble["ordinal"] == 3
    assert ble["country"] == "DE"
    assert ble["jurisdictionLabel"] == "German"
    assert ble["owner"] == {"slug": "4p1000"}
    assert ble["listAsOf"] == {"iso": "2022-10", "precision": "MONTH"}
    assert [p["acronym"] for p in ble["parties"]["nodes"]] == ["BLE"]
    assert ble["parties"]["nodes"][0]["__typename"] == "Organization"
    [secondment] = ble["instruments"]["nodes"]
    assert secondment["instrumentType"] == "SECONDMENT"
    assert secondment["fte"] == 2.5
    assert secondment["rawText"] == "2,5 secondments"

    assert giz["ordinal"] == 5
    assert giz["jurisdictionLabel"] == "Germany"
    assert [p["slug"] for p in giz["parties"]["nodes"]] == ["giz"]
    [grant] = giz["instruments"]["nodes"]
    assert grant["instrumentType"] == "GRANT_AGREEMENT"
    assert grant["start"] == {"iso": "2021-12-01", "precision": "DAY"}
    assert grant["end"] == {"iso": "2023-03-31", "precision": "DAY"}
    assert grant["endIsDerived"] is False
    assert grant["fte"] is None


async def test_giz_sees_its_agreement_from_the_party_side(api: Any) -> None:
    giz = (await api.data(GIZ_AGREEMENTS))["organization"]
    assert giz["name"] == "GIZ"
    assert giz["agreements"]["totalCount"] == 1
    [agreement] = giz["agreements"]["nodes"]
    assert agreement["ordinal"] == 5
    assert agreement["owner"] == {"slug": "4p1000"}
    assert slugs(agreement["parties"]) == ["giz"]
    assert agreement["instruments"]["nodes"] == [
        {
            "instrumentType": "GRANT_AGREEMENT",
            "start": {"iso": "2021-12-01"},
            "end": {"iso": "2023-03-31"},
        }
    ]


# From 003.yaml: published_by FAO, with the year of fn 4, 11, 12, 13; produced_under RECSOIL
# for the GSOC-MRV and SSM protocols (003:76-79).
FAO_2020 = {
    "gsoc-mrv-protocol": ["recsoil"],
    "ssm-assessment-protocol": ["recsoil"],
    "state-of-knowledge-soil-biodiversity-2020": [],
    "gsocseq-technical-specifications": [],
}


async def test_what_fao_published_in_2020_and_under_which_initiative(api: Any) -> None:
    published = (await api.data(FAO_PUBLISHED))["organization"]["published"]
    in_2020 = {
        n["slug"]: [i["slug"] for i in n["initiatives"]["nodes"]]
        for n in published["nodes"]
        if n["start"] and n["start"]["iso"] == "2020"
    }
    assert in_2020 == FAO_2020
    by_slug = {n["slug"]: n for n in published["nodes"]}
    assert by_slug["gsoc-mrv-protocol"]["initiatives"]["nodes"] == [
        {"slug": "recsoil", "name": "RECSOIL"}
    ]
    # The symposium outcome document (fn 9) is FAO's too, but from 2021.
    assert by_slug["soil-biodiversity-symposium-outcome-document-2021"]["start"] == {
        "iso": "2021",
        "precision": "YEAR",
    }
    assert published["totalCount"] == 5 == len(published["nodes"])


async def test_outputs_published_in_2020_with_publishers(api: Any) -> None:
    outputs = (await api.data(OUTPUTS_2020))["outputs"]
    assert all(n["start"]["iso"] == "2020" for n in outputs["nodes"])
    by_fao = {
        n["slug"]: [i["slug"] for i in n["initiatives"]["nodes"]]
        for n in outputs["nodes"]
        if "fao" in slugs(n["publishers"])
    }
    assert by_fao == FAO_2020
    protocol = next(n for n in outputs["nodes"] if n["slug"] == "gsoc-mrv-protocol")
    assert protocol["category"] == "PROTOCOL"
    assert protocol["initiatives"]["nodes"] == [{"slug": "recsoil", "name": "RECSOIL"}]
    # 2020 outputs without a stated publisher (the GSP campaign and World Soil Day items).
    others = {n["slug"] for n in outputs["nodes"]} - set(FAO_2020)
    assert others == {
        "campaign-keep-soils-alive-2020",
        "wsd-2020-communication-material",
        "wsd-2020-writing-competition",
    }
    assert outputs["totalCount"] == 7


async def test_recsoil_lists_its_outputs(api: Any) -> None:
    recsoil = (await api.data(RECSOIL_OUTPUTS))["initiative"]
    assert set(slugs(recsoil["outputs"])) == {
        "gsoc-mrv-protocol",
        "ssm-assessment-protocol",
        "gsocseq-map",
    }
    assert "gsp" in slugs(recsoil["ledBy"])


async def test_inser_launch_event(api: Any) -> None:
    event = (await api.data(INSER_LAUNCH))["event"]
    assert event["category"] == "LAUNCH_EVENT"
    assert event["attendanceMode"] == "MIXED"
    assert event["isImplied"] is False
    assert event["start"] == {"iso": "2025-09-15", "precision": "DAY"}
    assert event["place"] == {
        "slug": "rabat",
        "name": "Rabat",
        "category": "CITY",
        "parent": {"slug": "morocco", "name": "Morocco"},
    }
    assert slugs(event["organizers"]) == ["gsp"]

    speakers = [
        (
            s["name"],
            s["honorific"],
            [(p["label"], p["organization"]["slug"]) for p in s["posts"]["nodes"]],
        )
        for s in event["speakers"]["nodes"]
    ]
    assert speakers == [
        ("Lifeng Li", "Mr.", [("Director", "fao-land-and-water-division")]),
        ("Ghaouti Lamiae", "Ms.", [("Director General", "inra-morocco")]),
        ("Yuxin Tong", "Mr.", [("Land and Water Officer", "fao")]),
        ("Thorunn Wolfram Petursdottir", "Ms.", [("Secretary", "gsp")]),
    ]
    assert event["speakers"]["totalCount"] == 4
    assert [o["acronym"] for o in event["representedOrganizations"]["nodes"]] == [
        "WASWAC",
        "JRC",
        "IUSS",
        "INRA",
    ]
    assert event["launchedHere"]["nodes"] == [{"__typename": "Organization", "slug": "inser"}]
    # "over 300 participants": a lower bound, not 365 (INSER's registered members).
    assert {
        "metric": "participants",
        "value": 300.0,
        "qualifier": "MORE_THAN",
        "text": "over 300 participants",
    } in event["quantities"]["nodes"]


async def test_speaker_relations_carry_order_and_role(api: Any) -> None:
    relations = (await api.data(SPEAKER_RELATIONS))["event"]["relations"]
    assert relations["totalCount"] == 4
    rows = [(r["ordinal"], r["subject"]["slug"], r["note"]) for r in relations["nodes"]]
    assert rows == [
        (1, "lifeng-li", "opening remarks"),
        (2, "ghaouti-lamiae", "remarks"),
        (3, "yuxin-tong", "presented the network's vision and goals"),
        (4, "thorunn-wolfram-petursdottir", "closing"),
    ]
    assert {r["predicate"] for r in relations["nodes"]} == {"SPEAKER_AT"}
    assert {r["object"]["slug"] for r in relations["nodes"]} == {"inser-launch-rabat-2025"}


async def test_state_of_knowledge_report(api: Any) -> None:
    report = (await api.data(STATE_OF_KNOWLEDGE))["output"]
    assert report["name"].startswith("State of knowledge of soil biodiversity")
    assert report["category"] == "REPORT"
    assert report["start"] == {"iso": "2020", "precision": "YEAR"}
    # fn 4: "FAO, ITPS, GSBI, SCBD, and EC", in citation order.
    assert slugs(report["authors"]) == [
        "fao",
        "itps",
        "gsbi",
        "cbd-secretariat",
        "european-commission",
    ]
    assert {a["__typename"] for a in report["authors"]["nodes"]} == {"Organization"}
    assert slugs(report["publishers"]) == ["fao"]
    assert set(slugs(report["preparedBy"])) == {"gsp-secretariat", "itps"}
    assert report["publicationPlace"] == {"slug": "rome"}
    assert report["documents"]["nodes"] == [
        {
            "slug": "cbd-sbstta-24-inf-8",
            "symbol": "CBD/SBSTTA/24/INF/8",
            "category": "INFORMATION_DOCUMENT",
        }
    ]
    footnotes = {c["footnote"]: c for c in report["citations"]["nodes"]}
    assert set(footnotes) == {4, 5}
    assert footnotes[4]["__typename"] == "Citation"
    assert footnotes[4]["authorsText"] == "FAO, ITPS, GSBI, SCBD, and EC"
    assert footnotes[4]["year"] == 2020
    assert footnotes[4]["url"] == "http://www.fao.org/documents/card/en/c/cb1928en/"
    assert footnotes[5]["url"].endswith("/1203945/")
    assert slugs(report["events"]) == ["world-soil-day-2020"]


async def test_document_by_symbol(api: Any) -> None:
    data = await api.data(DOCUMENT_L7)
    doc = data["document"]
    assert doc["slug"] == "cbd-sbstta-24-l7"
    assert doc["symbol"] == "CBD/SBSTTA/24/L.7"
    assert doc["category"] == "LIMITED_DISTRIBUTION_DRAFT"
    assert slugs(doc["issuedBy"]) == ["cbd"]
    assert doc["sources"]["nodes"] == [
        {
            "document": {"key": "003"},
            "lines": {"start": 41, "end": 42},
            "quote": "The draft recommendations to COP 15 are contained in document "
            "CBD/SBSTTA/24/L.7",
            "evidence": "STATED",
        }
    ]
    assert data["bySlug"] == {"symbol": "CBD/SBSTTA/24/L.7"}


async def test_gsp_sources_span_all_four_documents(api: Any) -> None:
    sources = (await api.data(GSP_SOURCES))["organization"]["sources"]
    nodes = sources["nodes"]
    assert {s["document"]["key"] for s in nodes} == {"000", "001", "002", "003"}
    assert sources["totalCount"] == len(nodes) == 13
    for source in nodes:
        assert source["lines"]["start"] <= source["lines"]["end"]
        assert source["quote"].strip()
        assert source["evidence"] in {"STATED", "DERIVED", "INFERRED"}
    assert {
        "document": {"key": "000"},
        "lines": {"start": 7, "end": 7},
        "quote": "Established in 2012, the GSP aims",
        "evidence": "STATED",
        "property": "start",
    } in nodes


async def test_sources_come_in_document_order(api: Any) -> None:
    """`sources` is documented as "in document order": 000 before 001 before 002 ..."""
    nodes = (await api.data(GSP_SOURCES))["organization"]["sources"]["nodes"]
    positions = [(s["document"]["key"], s["lines"]["start"]) for s in nodes]
    assert positions == sorted(positions)


async def test_relations_filtered_by_direction_and_predicate(api: Any) -> None:
    gsp = (await api.data(GSP_RELATIONS))["organization"]
    incoming = {(r["predicate"], r["subject"]["slug"]): r for r in gsp["incoming"]["nodes"]}
    assert set(incoming) == {("SUB_ORGANIZATION_OF", "esp"), ("TECHNICAL_NETWORK_OF", "inser")}
    assert gsp["incoming"]["totalCount"] == 2
    for relation in incoming.values():
        assert relation["object"] == {"slug": "gsp"}
        assert relation["subject"]["__typename"] == "Organization"
        assert relation["rank"] == "PREFERRED"
    # ESP under GSP is read from context (000:3), INSER's link is stated (002:11).
    esp = incoming[("SUB_ORGANIZATION_OF", "esp")]["sources"]
    assert esp == [
        {"document": {"key": "000"}, "lines": {"start": 3, "end": 3}, "evidence": "INFERRED"}
    ]
    inser = incoming[("TECHNICAL_NETWORK_OF", "inser")]["sources"]
    assert inser == [
        {"document": {"key": "002"}, "lines": {"start": 11, "end": 11}, "evidence": "STATED"}
    ]

    assert {r["subject"]["slug"] for r in gsp["units"]["nodes"]} == {
        "gsp-secretariat",
        "gsp-plenary-assembly",
        "itps",
    }
    assert gsp["outgoing"]["nodes"] == [
        {"predicate": "HOSTED_BY", "subject": {"slug": "gsp"}, "object": {"slug": "fao"}}
    ]
    assert gsp["wrongWay"]["totalCount"] == 0


async def test_node_round_trip_for_several_types(api: Any) -> None:
    data = await api.data(IDS)
    expected = {
        data["org"]["id"]: ("Organization", "slug", "gsp"),
        data["event"]["id"]: ("Event", "slug", "inser-launch-rabat-2025"),
        data["facility"]["id"]: ("Facility", "slug", "4p1000-cf5"),
        data["objective"]["id"]: ("StrategicObjective", "slug", "4p1000-e2"),
        data["agreement"]["id"]: ("PartnerAgreement", "slug", "4p1000-partner-05"),
        data["output"]["id"]: ("Output", "slug", "gsoc-mrv-protocol"),
        data["person"]["id"]: ("Person", "slug", "lifeng-li"),
        data["document"]["id"]: ("Document", "slug", "cbd-sbstta-24-inf-8"),
        data["sourceDocument"]["id"]: ("SourceDocument", "key", "002"),
    }
    instrument_id = data["agreement"]["instruments"]["nodes"][0]["id"]
    assert len(expected) == 9, "every record needs its own ID"
    for global_id, (typename, key, value) in expected.items():
        node = (await api.data(NODE, {"id": global_id}))["node"]
        assert node is not None, typename
        assert node["__typename"] == typename
        assert node["id"] == global_id
        assert node[key] == value
    instrument = (await api.data(NODE, {"id": instrument_id}))["node"]
    assert instrument["__typename"] == "AgreementInstrument"
    assert instrument["id"] == instrument_id


async def test_nodes_keeps_the_order_asked(api: Any) -> None:
    data = await api.data(IDS)
    asked = [
        data["sourceDocument"]["id"],
        data["org"]["id"],
        data["output"]["id"],
        data["org"]["id"],
        data["facility"]["id"],
    ]
    nodes = (await api.data(NODES, {"ids": asked}))["nodes"]
    assert [n["id"] for n in nodes] == asked
    assert [n["__typename"] for n in nodes] == [
        "SourceDocument",
        "Organization",
        "Output",
        "Organization",
        "Facility",
    ]
    assert nodes[0]["key"] == "002"
    assert [n.get("slug") for n in nodes[1:]] == [
        "gsp",
        "gsoc-mrv-protocol",
        "gsp",
        "4p1000-cf5",
    ]


async def test_entity_by_slug_has_the_right_typename(api: Any) -> None:
    data = await api.data(ENTITY_TYPENAMES)
    assert {key: value["__typename"] for key, value in data.items()} == {
        "gsp": "Organization",
        "recsoil": "Initiative",
        "rabat": "Place",
        "footnote": "Citation",
        "taskForce": "TaskForce",
        "event": "Event",
        "agreement": "PartnerAgreement",
        "person": "Person",
        "facility": "Facility",
    }
    assert data["gsp"]["name"] == "Global Soil Partnership"
    assert data["facility"]["code"] == "CF5"
