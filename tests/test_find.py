"""Kiali's Find/Hide language on a small hand-built bookinfo-like TrafficGraph."""

from __future__ import annotations

import pytest

from meshdesk.mesh.find import (
    FIND_EXAMPLES,
    FIND_PRESETS,
    HIDE_EXAMPLES,
    HIDE_PRESETS,
    OPERANDS,
    FindSyntaxError,
    compile_expression,
    validate,
)
from meshdesk.mesh.graph.model import (
    BOX_NAMESPACE,
    DEGRADED,
    FAILURE,
    HEALTHY,
    NODE_AGGREGATE,
    NODE_APP,
    NODE_BOX,
    NODE_SERVICE,
    NODE_UNKNOWN,
    NODE_WORKLOAD,
    NOT_READY,
    Edge,
    Health,
    Node,
    ServiceEntryInfo,
    TrafficGraph,
    edge_id,
    node_id,
)
from meshdesk.mesh.request import GraphRequest


def _node(name: str, node_type: str, **kw: object) -> Node:
    ident = {k: str(kw.get(k, "")) for k in ("namespace", "workload", "app", "version", "service",
                                                "aggregate_value", "box")}
    nid = node_id(node_type, "east", ident["namespace"], ident["workload"], ident["app"], ident["version"],
                  ident["service"], "", ident["aggregate_value"], ident["box"])
    kw.setdefault("cluster", "east")
    n = Node(id=nid, node_type=node_type, **kw)  # type: ignore[arg-type]
    NAMES[name] = nid
    return n


NAMES: dict[str, str] = {}
EDGES: dict[str, str] = {}


@pytest.fixture
def graph() -> TrafficGraph:
    g = TrafficGraph(GraphRequest(namespaces=("bookinfo",)))
    box = _node("box", NODE_BOX, namespace="bookinfo", box=BOX_NAMESPACE)
    g.add_node(box)
    nodes = [
        _node("unknown", NODE_UNKNOWN, workload="unknown", app="unknown", namespace="unknown", is_root=True,
              traffic={"http": {"httpOut": 1.0}}),
        _node("gateway", NODE_WORKLOAD, namespace="istio-system", workload="istio-ingressgateway",
              app="istio-ingressgateway", is_root=True, is_outside=True, is_gateway=True,
              health=Health(HEALTHY), traffic={"http": {"httpOut": 10.0}}),
        _node("productpage-svc", NODE_SERVICE, namespace="bookinfo", service="productpage", parent=box.id,
              has_virtual_service=True, health=Health(HEALTHY), traffic={"http": {"httpIn": 10.0, "httpOut": 10.0}}),
        _node("productpage", NODE_APP, namespace="bookinfo", app="productpage", version="v1",
              workload="productpage-v1", parent=box.id, health=Health(HEALTHY),
              traffic={"http": {"httpIn": 10.0, "httpOut": 20.0}},
              extra={"labels": {"region": "east", "tier": "front"}}),
        _node("reviews-svc", NODE_SERVICE, namespace="bookinfo", service="reviews", parent=box.id,
              has_virtual_service=True, has_destination_rule=True, health=Health(DEGRADED),
              extra={"hasCB": True, "hasTrafficShifting": True}, traffic={"http": {"httpIn": 10.0}}),
        _node("reviews-v2", NODE_APP, namespace="bookinfo", app="reviews", version="v2", workload="reviews-v2",
              parent=box.id, health=Health(FAILURE), extra={"labels": {"region": "west"}}),
        _node("details", NODE_APP, namespace="bookinfo", app="details", version="v1", workload="details-v1",
              parent=box.id, has_missing_sidecar=True, health=Health(HEALTHY)),
        _node("ratings", NODE_APP, namespace="bookinfo", app="ratings", version="v1", workload="ratings-v1",
              parent=box.id, is_idle=True),
        _node("mongodb", NODE_SERVICE, namespace="bookinfo", service="mongodb.external.com",
              is_service_entry=ServiceEntryInfo("MESH_EXTERNAL", ("mongodb.external.com",)),
              traffic={"tcp": {"tcpIn": 500.0}}),
        _node("op-get", NODE_AGGREGATE, namespace="bookinfo", aggregate="request_operation",
              aggregate_value="GET /reviews", app="reviews"),
    ]
    for n in nodes:
        g.add_node(n)

    def edge(name: str, src: str, dst: str, protocol: str, **kw: object) -> None:
        e = Edge(id=edge_id(NAMES[src], NAMES[dst], protocol), source=NAMES[src], target=NAMES[dst],
                 protocol=protocol, **kw)  # type: ignore[arg-type]
        EDGES[name] = e.id
        g.add_edge(e)

    edge("unknown>gw", "unknown", "gateway", "http", rates={"http": 1.0, "httpPercentReq": 100.0})
    edge("gw>pp-svc", "gateway", "productpage-svc", "http", rates={"http": 10.0, "httpPercentReq": 100.0},
         response_time=35.0, is_mtls=100.0, source_principal="spiffe://cluster.local/ns/istio-system/sa/gw",
         dest_principal="spiffe://cluster.local/ns/bookinfo/sa/productpage")
    edge("pp-svc>pp", "productpage-svc", "productpage", "http", rates={"http": 10.0, "httpPercentReq": 100.0},
         response_time=30.0, is_mtls=100.0)
    edge("pp>reviews", "productpage", "reviews-svc", "http",
         rates={"http": 10.0, "http5xx": 2.0, "httpPercentErr": 20.0, "httpPercentReq": 50.0},
         response_time=1500.0, is_mtls=0.0, throughput=2048.0)
    edge("pp>details", "productpage", "details", "http", rates={"http": 10.0, "httpPercentReq": 50.0},
         response_time=12.0)
    edge("reviews>v2", "reviews-svc", "reviews-v2", "grpc", rates={"grpc": 4.0, "grpcErr": 1.0,
                                                                   "grpcPercentErr": 25.0, "grpcPercentReq": 100.0})
    edge("v2>ratings", "reviews-v2", "ratings", "http", is_idle=True)
    edge("v2>mongo", "reviews-v2", "mongodb", "tcp", rates={"tcp": 500.0})
    return g


def names(ids: set[str]) -> set[str]:
    back = {v: k for k, v in NAMES.items()} | {v: k for k, v in EDGES.items()}
    return {back[i] for i in ids}


def find_nodes(graph: TrafficGraph, text: str) -> set[str]:
    return names(compile_expression(text).nodes(graph))


def find_edges(graph: TrafficGraph, text: str) -> set[str]:
    return names(compile_expression(text).edges(graph))


# ----------------------------------------------------------------------------------- node operands

@pytest.mark.parametrize("text, expected", [
    ("app = reviews", {"reviews-v2", "op-get"}),
    ("app != reviews", {"unknown", "gateway", "productpage-svc", "productpage", "reviews-svc", "details",
                        "ratings", "mongodb"}),
    ("APP = reviews", {"reviews-v2", "op-get"}),  # operand names are case-insensitive
    ("app = Reviews", set()),  # values are not
    ("app startswith product", {"productpage"}),
    ("app ^= product", {"productpage"}),
    ("service endswith .com", {"mongodb"}),
    ("svc $= .com", {"mongodb"}),
    ("workload contains -v", {"productpage", "reviews-v2", "details", "ratings"}),
    ("wl *= -v", {"productpage", "reviews-v2", "details", "ratings"}),
    ("version = v2", {"reviews-v2"}),
    ("ns = istio-system", {"gateway"}),
    ("namespace != bookinfo", {"unknown", "gateway"}),
    ("cluster = east", {"unknown", "gateway", "productpage-svc", "productpage", "reviews-svc", "reviews-v2",
                        "details", "ratings", "mongodb", "op-get"}),
    ("operation = GET /reviews", {"op-get"}),
    ("op startswith GET", {"op-get"}),
    ("node = svc", {"productpage-svc", "reviews-svc", "mongodb"}),
    ("node = service", {"productpage-svc", "reviews-svc", "mongodb"}),
    ("node = WL", {"gateway"}),
    ("node = op", {"op-get"}),
    ("node = unknown", {"unknown"}),
    ("node != app", {"unknown", "gateway", "productpage-svc", "reviews-svc", "mongodb", "op-get"}),
    ("httpin > 5", {"productpage-svc", "productpage", "reviews-svc"}),
    ("httpout >= 20", {"productpage"}),
    ("httpin = NaN", {"unknown", "gateway", "reviews-v2", "details", "ratings", "mongodb", "op-get"}),
    ("httpout != NaN", {"unknown", "gateway", "productpage-svc", "productpage"}),
    ("tcpin > 100", {"mongodb"}),
    ("httpin < 1", {"unknown", "gateway", "reviews-v2", "details", "ratings", "mongodb", "op-get"}),
    # ranked by edges in and out, as Kiali ranks for a rank expression: productpage and reviews v2 have
    # three of the eight, the operation none
    ("rank <= 1", {"productpage", "reviews-v2"}),
    ("rank = 2", {"gateway", "productpage-svc", "reviews-svc"}),
    ("rank > 3", {"op-get"}),
    ("label:region = east", {"productpage"}),
    ("label:region != east", {"unknown", "gateway", "productpage-svc", "reviews-svc", "reviews-v2", "details",
                              "ratings", "mongodb", "op-get"}),
    ("label:tier", {"productpage"}),
    ("!label:region", {"unknown", "gateway", "productpage-svc", "reviews-svc", "details", "ratings", "mongodb",
                       "op-get"}),
])
def test_node_comparisons(graph: TrafficGraph, text: str, expected: set[str]) -> None:
    assert find_nodes(graph, text) == expected
    assert compile_expression(text).edges(graph) == set()


def test_name_is_an_or_and_its_negation_an_and(graph: TrafficGraph) -> None:
    assert find_nodes(graph, "name = reviews") == {"reviews-svc", "reviews-v2", "op-get"}
    assert find_nodes(graph, "name = unknown") == {"unknown"}
    assert find_nodes(graph, "name contains rev") == {"reviews-svc", "reviews-v2", "op-get"}
    # negated: none of the app, service, workload and operation names may contain it
    assert find_nodes(graph, "name not contains rev") == {
        "unknown", "gateway", "productpage-svc", "productpage", "details", "ratings", "mongodb"}
    assert find_nodes(graph, "name !*= rev") == find_nodes(graph, "name not contains rev")
    assert find_nodes(graph, "name != details") == {
        "unknown", "gateway", "productpage-svc", "productpage", "reviews-svc", "reviews-v2", "ratings", "mongodb",
        "op-get"}


@pytest.mark.parametrize("text, expected", [
    ("healthy", {"gateway", "productpage-svc", "productpage", "details"}),
    ("is healthy", {"gateway", "productpage-svc", "productpage", "details"}),
    ("! healthy", {"reviews-svc", "reviews-v2"}),  # no health data is not "unhealthy"
    ("not healthy", {"reviews-svc", "reviews-v2"}),
    ("degraded", {"reviews-svc"}),
    ("failure", {"reviews-v2"}),
    ("health = failure", {"reviews-v2"}),
    ("health != healthy", {"unknown", "reviews-svc", "reviews-v2", "ratings", "mongodb", "op-get"}),
    ("idle", {"ratings"}),
    ("outside", {"gateway"}),
    ("root", {"unknown", "gateway"}),
    ("trafficsource", {"unknown", "gateway"}),
    ("sc", {"details"}),
    ("has sidecar", {"details"}),
    ("vs", {"productpage-svc", "reviews-svc"}),
    ("has virtualservice", {"productpage-svc", "reviews-svc"}),
    ("dr", {"reviews-svc"}),
    ("se", {"mongodb"}),
    ("serviceentry", {"mongodb"}),
    ("cb", {"reviews-svc"}),
    ("circuitbreaker", {"reviews-svc"}),
    ("ts", {"reviews-svc"}),
    ("trafficshifting", {"reviews-svc"}),
    ("fi", set()),
    ("requestrouting", set()),
    ("gateway", {"gateway"}),
    ("!outside", {"unknown", "productpage-svc", "productpage", "reviews-svc", "reviews-v2", "details",
                  "ratings", "mongodb", "op-get"}),
])
def test_unary_node_operands(graph: TrafficGraph, text: str, expected: set[str]) -> None:
    assert find_nodes(graph, text) == expected


def test_sc_finds_nodes_missing_their_sidecar_as_kialis_parser_does(graph: TrafficGraph) -> None:
    """Kiali's find turns "sc" into isOutOfMesh (its own parser test says so), whatever its help suggests."""
    everything = set(find_nodes(graph, "cluster = east"))
    assert find_nodes(graph, "!sc") == everything - {"details"}


# ----------------------------------------------------------------------------------- edge operands

@pytest.mark.parametrize("text, expected", [
    ("protocol = grpc", {"reviews>v2"}),
    ("protocol != http", {"reviews>v2", "v2>mongo"}),
    ("http > 5", {"gw>pp-svc", "pp-svc>pp", "pp>reviews", "pp>details"}),
    ("http = NaN", {"reviews>v2", "v2>ratings", "v2>mongo"}),  # NaN: no activity
    ("http != NaN", {"unknown>gw", "gw>pp-svc", "pp-svc>pp", "pp>reviews", "pp>details"}),
    ("%httperr > 10", {"pp>reviews"}),
    ("%httperror >= 20", {"pp>reviews"}),
    # an http edge without errors has 0% errors; edges of other protocols have no http error share at all
    ("%httperr < 1", {"unknown>gw", "gw>pp-svc", "pp-svc>pp", "pp>details", "v2>ratings"}),
    ("%httptraffic >= 50", {"unknown>gw", "gw>pp-svc", "pp-svc>pp", "pp>reviews", "pp>details"}),
    ("%httptraffic < 100", {"pp>reviews", "pp>details", "v2>ratings"}),
    ("grpc > 1", {"reviews>v2"}),
    ("%grpcerr > 20", {"reviews>v2"}),
    ("%grpctraffic = 100", {"reviews>v2"}),
    ("tcp >= 500", {"v2>mongo"}),
    ("rt > 1000", {"pp>reviews"}),
    ("responsetime < 20", {"pp>details"}),
    ("rt != 35", {"unknown>gw", "pp-svc>pp", "pp>reviews", "pp>details", "reviews>v2", "v2>ratings",
                  "v2>mongo"}),
    ("throughput > 1024", {"pp>reviews"}),
    ("mtls", {"gw>pp-svc", "pp-svc>pp"}),
    ("has mtls", {"gw>pp-svc", "pp-svc>pp"}),
    ("!mtls", {"unknown>gw", "pp>reviews", "pp>details", "reviews>v2", "v2>ratings", "v2>mongo"}),
    ("traffic", {"unknown>gw", "gw>pp-svc", "pp-svc>pp", "pp>reviews", "pp>details", "reviews>v2", "v2>mongo"}),
    ("!traffic", {"v2>ratings"}),
    ("sourceprincipal contains istio-system", {"gw>pp-svc"}),
    ("destprincipal endswith /sa/productpage", {"gw>pp-svc"}),
])
def test_edge_operands(graph: TrafficGraph, text: str, expected: set[str]) -> None:
    assert find_edges(graph, text) == expected
    assert compile_expression(text).nodes(graph) == set()


# ----------------------------------------------------------------------------------- AND / OR

def test_kialis_mnemonic_words(graph: TrafficGraph) -> None:
    """What Kiali's parser rewrites before it reads an expression: "is"/"has" are decoration,
    "not" is "!", wherever they stand."""
    assert find_nodes(graph, "is not healthy") == find_nodes(graph, "!healthy")
    assert find_nodes(graph, "has not sc") == find_nodes(graph, "!sc") != set()
    assert find_nodes(graph, "app not = details") == find_nodes(graph, "app != details") != set()
    assert find_nodes(graph, "app not contains view") == find_nodes(graph, "app !contains view") != set()
    assert find_nodes(graph, "app = details or is idle") == find_nodes(graph, "app = details or idle")


def test_and_binds_within_or_clauses_like_kiali(graph: TrafficGraph) -> None:
    m = compile_expression("node = svc and svc startswith rev or !traffic")
    assert names(m.nodes(graph)) == {"reviews-svc"}
    assert names(m.edges(graph)) == {"v2>ratings"}
    assert find_nodes(graph, "app != details and version = v1") == {"productpage", "ratings"}
    assert find_nodes(graph, "app = details OR app = ratings Or idle") == {"details", "ratings"}
    assert find_edges(graph, "http > 5 AND rt > 20 AND mtls") == {"gw>pp-svc", "pp-svc>pp"}
    assert find_nodes(graph, "healthy and  !outside   and node=svc") == {"productpage-svc"}


@pytest.mark.parametrize("text, message", [
    ("app = reviews and http > 1", "cannot AND node and edge conditions"),
    ("idle AND traffic", "use OR to combine them"),
    ("name = reviews and version = v2", "cannot use AND with the 'name' operand"),
    ("rt > fast", "'fast' is not a number"),
    ("http > ", "has no value after '>'"),
    ("app contains", "has no value after 'contains'"),
    ("rt contains 5", "'rt' is a number"),
    ("app > b", "'app' is text"),
    ("name > a", "'name' is text"),
    ("name <= a", "'name' is text"),
    ("label:region >= east", "a label is text"),
    ("bogus = 1", "unknown operand 'bogus'"),
    ("bogus", "unknown node or edge operand 'bogus'"),
    ("idle = true", "'idle' takes no operator or value"),
    ("app", "'app' needs an operator and a value"),
    ("node = pod", "unknown node type 'pod'"),
    ("rank > 500", "rank must be a number between 1 and 100"),
    ("!label:region = east", "only tests that a label exists"),
    ("not app = x", "only goes with a single word"),
    ("app = x and", "AND/OR needs a condition on both sides"),
    ("or idle", "AND/OR needs a condition on both sides"),
    ("idle and or root", "AND/OR needs a condition on both sides"),
    ("= 3", "missing an operand"),
    ("app reviews now", "no valid operator"),
    ("health = sick", "'health' takes = or !="),
    ("health = sick", "healthy, degraded, failure, notready or n/a (na)"),
    # a programmer's && and ||: the first was read into a text value and found nothing without a word
    ("protocol = http && rt > 5", "join conditions with AND, not '&&'"),
    ("rt > 100 || http > 3", "join conditions with OR, not '||'"),
])
def test_syntax_errors_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(FindSyntaxError) as err:
        compile_expression(text)
    assert message in err.value.message
    assert "\n" not in err.value.message
    assert validate(text) == err.value.message


@pytest.mark.parametrize("text, says, not_says", [
    # the operand is there: the space inside the operator is what is wrong
    ("app ! = reviews", "'! =' is not an operator: write '!=' without the space in 'app ! = reviews'",
     "missing an operand"),
    ("rt > = 5", "write '>=' without the space", "is not a number"),
    ("app not > 3", "no valid operator in 'app not > 3'", "missing an operand"),
    # the user's own words are quoted, not the rewritten expression
    ("is not healthy and", "AND/OR needs a condition on both sides in 'is not healthy and'", "!healthy"),
    ("not not healthy", "'not not healthy' negates twice: write 'healthy' or 'not healthy'", "!not"),
    ("!!idle", "'!!idle' negates twice", "operand '!idle'"),
    ("idle or app not contains", "'app not contains' has no value", "'app !contains'"),
    ("app = x and is not traffic", "('app = x' is about nodes, 'is not traffic' about edges)", "'!traffic'"),
    # an operand that is none is said first, with the nearest real one or a few to choose from
    ("bogus =", "unknown operand 'bogus' in 'bogus =' (operands are e.g. name, app", "no value"),
    ("aplp = reviews", "unknown operand 'aplp' in 'aplp = reviews' (did you mean 'app'?)", None),
    ("nmae", "unknown node or edge operand 'nmae' (did you mean 'name'?)", None),
    ("label: = x", "write the label's name after 'label:'", "did you mean"),
    # a real operand with signs that are no operator: the operator is what is wrong, not the operand
    ("name!~review", "'!~' is not an operator in 'name!~review' (operators are =, !=, >, <, >=, <=, contains, "
     "startswith, endswith, !contains, !startswith, !endswith): there are no regular expressions; "
     "'!contains' may do", "operand"),
    ("app =~ rev", "'=~' is not an operator in 'app =~ rev'", "operand"),  # not app = "~ rev"
    ("label:region ~ east", "'~' is not an operator in 'label:region ~ east'", "operand"),
    ("name!review", "'!' is not an operator in 'name!review'", "operand"),
    ("app !! x", "'!!' is not an operator in 'app !! x'", "no valid operator"),
    ("bogus!~x", "unknown operand 'bogus' in 'bogus!~x'", "operand 'bogus!~x'"),
    # signs the wrong way round or '=' doubled: the operator meant, not '=' with the rest in the value
    # (Kiali splits 'rt =< 5' at '=' and looks for the value '< 5', 'ns == shop' for '')
    ("rt =< 5", "'=<' is not an operator in 'rt =< 5' (operators are =, !=, >, <, >=, <=, contains, "
     "startswith, endswith, !contains, !startswith, !endswith): did you mean '<='?", "value"),
    ("http => 3", "'=>' is not an operator in 'http => 3'", "value"),
    ("http => 3", "did you mean '>='?", None),
    ("http =! 3", "'=!' is not an operator in 'http =! 3' (operators are", "value"),
    ("http =! 3", "did you mean '!='?", None),
    ("ns == shop", "'==' is not an operator in 'ns == shop'", "operand"),
    ("ns == shop", "did you mean '='?", None),
    ("name !== x", "'!==' is not an operator in 'name !== x'", "operand"),
    ("name !== x", "did you mean '!='?", None),
    ("app=>x", "'=>' is not an operator in 'app=>x'", None),
    ("app=>x", "did you mean '>='?", None),
    ("ns = shop AND rt =< 5", "'=<' is not an operator in 'rt =< 5'", None),
    ("app !=! x", "'!=!' is not an operator in 'app !=! x'", "did you mean"),
])
def test_syntax_errors_point_at_what_the_user_wrote(text: str, says: str, not_says: str | None) -> None:
    message = validate(text)
    assert message is not None and says in message, message
    assert not_says is None or not_says not in message, message


@pytest.mark.parametrize("text, says", [
    ('app = "reviews"', "'app = \"reviews\"' has quotes in its value, which no name, label or number holds: "
                        "write 'app = reviews'"),
    ("name = 'reviews", "write 'name = reviews'"),  # one left open
    ("ns = shop AND version = \u201cv1\u201d", "write 'version = v1'"),  # typographic ones, as a word processor makes
    ('rt > "1000"', "write 'rt > 1000'"),
    ('app not contains "rev"', "write 'app !contains rev'"),
    ('label:region = "east"', "write 'label:region = east'"),
])
def test_a_quoted_value_is_refused_saying_to_write_it_bare(graph: TrafficGraph, text: str, says: str) -> None:
    """Kiali reads no quoting, and no app, namespace, label value or number holds a quote: 'app =
    "reviews"' found nothing, and the window said only that nothing shown matches, beside a reviews
    node. The expression is refused, saying how to write it."""
    message = validate(text)
    assert message is not None and says in message, message
    bare = says.rsplit("write '", 1)[1].rstrip("'")
    assert validate(bare) is None


@pytest.mark.parametrize("text, says, finds", [
    ("ns = bookinfo,istio-system", "write 'ns = bookinfo OR ns = istio-system'", {"gateway", "productpage"}),
    ("app != details, ratings", "write 'app != details AND app != ratings'", None),
    ("label:region = east,west", "write 'label:region = east OR label:region = west'", {"productpage", "reviews-v2"}),
    ("version startswith v1,v2", "write 'version startswith v1 OR version startswith v2'", {"reviews-v2"}),
    ("ns = ,", "write 'ns = ...'", None),
])
def test_a_list_of_values_is_refused_saying_how_to_ask_for_either(graph: TrafficGraph, text: str, says: str,
                                                                    finds: set[str] | None) -> None:
    """'ns = shop,travel' compared each namespace with the text "shop,travel", which no Kubernetes name or
    label value can be, and found nothing without a word. It is refused, and what it offers instead finds
    what the user meant."""
    message = validate(text)
    assert message is not None and "has a comma in its value" in message and says in message, message
    written = says.rsplit("write '", 1)[1].rstrip("'")
    if finds is not None:
        assert finds <= find_nodes(graph, written)


def test_an_operation_may_hold_a_comma(graph: TrafficGraph) -> None:
    """Operations are request paths and gRPC methods, which may hold one: not refused."""
    assert validate("op = GET /a,b") is None
    assert validate("name contains /reviews,") is None


def test_messages_quote_a_long_expression_shortened() -> None:
    """A pasted expression of thousands of characters was quoted whole in the message under the Find
    box, twice. The message now quotes its start and end."""
    long_value = "x" * 3000
    for text in (f"rt > {long_value}", f"app = {long_value} AND", f"{long_value} ?? 3", f'app = "{long_value}"'):
        message = validate(text)
        assert message is not None and len(message) < 400, message[:200]
        assert "…" in message, message


def test_operators_that_are_right_still_parse() -> None:
    """The runs of signs that are operators, glued to the operand and value or not, and signs before
    a word operator ("!contains"), are no mistake."""
    for text in ("rt <= 5", "rt>=5", "http != 3", "app=x", "name *=x", "name !*= x", "name !^=x", "name $= x",
                 "app !contains view", "app = !x", "label:region=east"):
        assert validate(text) is None, text


def test_empty_expression_selects_nothing(graph: TrafficGraph) -> None:
    for text in ("", "   "):
        m = compile_expression(text)
        assert m.is_empty and m.nodes(graph) == set() and m.edges(graph) == set()
        assert m.hidden(graph) == (set(), set())
    assert validate("idle") is None


def test_boxes_are_never_matched(graph: TrafficGraph) -> None:
    assert "box" not in find_nodes(graph, "namespace = bookinfo")
    assert "box" not in find_nodes(graph, "!idle")


# ----------------------------------------------------------------------------------- hide

def test_hiding_nodes_hides_their_edges(graph: TrafficGraph) -> None:
    nodes, edges = compile_expression("name = unknown").hidden(graph)
    assert names(nodes) == {"unknown"}
    assert names(edges) == {"unknown>gw"}


def test_hiding_edges_hides_nodes_left_without_visible_edges_but_not_idle_ones(graph: TrafficGraph) -> None:
    nodes, edges = compile_expression("protocol = tcp OR !traffic").hidden(graph)
    assert names(edges) == {"v2>mongo", "v2>ratings"}
    # mongodb only had the tcp edge; ratings is idle and stays (showing idle nodes is explicit)
    assert names(nodes) == {"mongodb"}


def test_box_is_hidden_only_when_all_inside_is_hidden(graph: TrafficGraph) -> None:
    nodes, _ = compile_expression("namespace = bookinfo").hidden(graph)
    assert "box" in names(nodes)
    nodes, _ = compile_expression("node = svc").hidden(graph)
    assert "box" not in names(nodes)


# ----------------------------------------------------------------------------------- presets

def test_presets_compile_and_select_something_here(graph: TrafficGraph) -> None:
    assert FIND_PRESETS and HIDE_PRESETS
    for label, expression in FIND_PRESETS + HIDE_PRESETS:
        assert label and label[0].isupper()
        m = compile_expression(expression)
        assert m.nodes(graph) or m.edges(graph), expression
    kiali_defaults = {"rt > 1000", "! healthy", "name = unknown", "healthy"}
    assert kiali_defaults <= {e for _, e in FIND_PRESETS + HIDE_PRESETS}


def test_the_find_and_hide_tooltips_examples_work(graph: TrafficGraph) -> None:
    """The examples the Find and Hide boxes offer compile and select something (one used to be
    'rps > 10', which the language has no operand for)."""
    for expression in FIND_EXAMPLES + HIDE_EXAMPLES:
        m = compile_expression(expression)
        assert m.nodes(graph) or m.edges(graph), expression


def test_operands_list_for_autocomplete() -> None:
    for word in ("app", "%httptraffic", "rt", "idle", "sidecar", "mtls", "name", "node", "label:"):
        assert word in OPERANDS
    for word in OPERANDS:
        if word != "label:":  # every other operand alone is a unary condition or asks for an operator
            message = validate(word)
            assert message is None or "needs an operator and a value" in message, word


def test_waypoint_finds_ambient_waypoints(graph: TrafficGraph) -> None:
    graph.add_node(_node("waypoint", NODE_WORKLOAD, namespace="bookinfo", workload="waypoint", version="latest",
                         extra={"isWaypoint": True}))
    assert find_nodes(graph, "waypoint") == {"waypoint"}
    assert find_nodes(graph, "wp") == {"waypoint"}
    assert "waypoint" not in find_nodes(graph, "!waypoint") and "details" in find_nodes(graph, "!waypoint")


@pytest.mark.parametrize("text", ["health = notready", "health = NotReady", "health = not-ready"])
def test_health_not_ready_can_be_found(text: str) -> None:
    """The lists and the panel say "Not Ready" (a workload scaled to zero); Find's message about
    health named every status but that one, so there was no telling how to find it."""
    g = TrafficGraph(GraphRequest(namespaces=("bookinfo",)))
    g.add_node(_node("idle-v1", NODE_APP, namespace="bookinfo", app="idle", version="v1", workload="idle-v1",
                     health=Health(NOT_READY)))
    g.add_node(_node("busy-v1", NODE_APP, namespace="bookinfo", app="busy", version="v1", workload="busy-v1",
                     health=Health(HEALTHY)))
    assert compile_expression(text).nodes(g) == {NAMES["idle-v1"]}
    with pytest.raises(FindSyntaxError) as err:  # "not" is "!", as in Kiali: the message shows the way
        compile_expression("health = Not Ready")
    assert "notready" in err.value.message


@pytest.mark.parametrize("text", ["health = n/a", "health = na", "health = N/A"])
def test_no_health_is_found_by_the_word_the_lists_show(text: str) -> None:
    """The lists and the panel say "n/a" for no health, as Kiali: Find takes that word, and its
    message about health names it."""
    from meshdesk.mesh.graph.model import NO_HEALTH

    g = TrafficGraph(GraphRequest(namespaces=("bookinfo",)))
    g.add_node(_node("idle-v1", NODE_APP, namespace="bookinfo", app="idle", version="v1", workload="idle-v1",
                     health=Health(NO_HEALTH)))
    g.add_node(_node("busy-v1", NODE_APP, namespace="bookinfo", app="busy", version="v1", workload="busy-v1",
                     health=Health(HEALTHY)))
    assert compile_expression(text).nodes(g) == {NAMES["idle-v1"]}
    with pytest.raises(FindSyntaxError) as err:
        compile_expression("health = unknown")
    assert "or n/a (na)" in err.value.message


def test_a_name_typed_alone_is_answered_with_the_expression_that_finds_it(graph: TrafficGraph) -> None:
    """A first search is often a name alone, as in any search box: 'reviews' was refused as an unknown
    operand, with a list of operands and no word of how to look for a node by its name."""
    message = validate("reviews")
    assert message is not None and "to find a node by its name, write 'name = reviews'" in message
    suggested = message.split("write '")[1].split("'")[0]
    found = compile_expression(suggested).nodes(graph)
    assert found and NAMES["reviews-svc"] in found
    # a near miss of an operand is still told as one, not taken for a name
    assert "name =" not in (validate("helthy") or "") and "did you mean 'healthy'" in (validate("helthy") or "")
