// soilapi's Explain panel for GraphiQL, on a server with EXPLAIN_QUERIES on: GraphiQL's
// requests go through `SoilapiExplain.fetch`, which (while the panel's switch is on) asks for
// `extensions.explain` and keeps the report of the last answer; the panel shows each SQL
// statement the query ran, its values and PostgreSQL's plan. A file of its own, not an inline
// script, so the page's Content-Security-Policy allows scripts from the server alone.
(function () {
  "use strict";
  var h = React.createElement;
  var state = { on: true, report: null, problem: null };
  var listeners = new Set();

  function update(changes) {
    state = Object.assign({}, state, changes);
    listeners.forEach(function (listener) { listener(state); });
  }

  // Every request but GraphiQL's own schema introspection asks for the explain extension.
  function explaining(init) {
    if (!state.on || !init || typeof init.body !== "string") return null;
    var body = JSON.parse(init.body);
    if (body.operationName === "IntrospectionQuery") return null;
    body.extensions = Object.assign({}, body.extensions, { explain: true });
    return Object.assign({}, init, { body: JSON.stringify(body) });
  }

  function explainFetch(input, init) {
    var asked = explaining(init);
    return window.fetch(input, asked || init).then(function (response) {
      if (asked) {
        response.clone().json().then(function (answer) {
          var report = (answer.extensions || {}).explain || null;
          var problem = report ? null : "The answer has no extensions.explain: is EXPLAIN_QUERIES on?";
          update({ report: report, problem: problem });
        }, function () { update({ report: null, problem: "The answer is not JSON." }); });
      }
      return response;
    });
  }

  function values(statement) {
    return statement.values.map(function (value, i) {
      return "$" + (i + 1) + " = " + JSON.stringify(value);
    }).join("\n");
  }

  // A statement's plan first (what it costs), its SQL and values folded beneath.
  function Statement(props) {
    var statement = props.statement;
    var plan = statement.error || statement.planText;
    return h("details", { className: "soilapi-explain-statement", open: true },
      h("summary", null, "Statement " + props.number + ": " + plan.split("\n")[0]),
      h("pre", { className: "soilapi-explain-plan" }, plan),
      h("details", { className: "soilapi-explain-source" },
        h("summary", null, "SQL and values"),
        h("pre", { className: "soilapi-explain-sql" }, statement.sql),
        statement.values.length ? h("pre", { className: "soilapi-explain-values" }, values(statement)) : null));
  }

  function summary(report) {
    var count = report.statements.length;
    var engine = report.engine === "compiler" ? "the SQL compiler" : "the resolvers";
    return count + (count === 1 ? " statement" : " statements") + ", answered by " + engine + ".";
  }

  function Panel() {
    var seen = React.useState(state);
    var view = seen[0];
    React.useEffect(function () {
      var setView = seen[1];
      listeners.add(setView);
      return function () { listeners.delete(setView); };
    }, []);
    var report = view.report;
    return h("div", { className: "soilapi-explain" },
      h("div", { className: "graphiql-doc-explorer-title" }, "Explain"),
      h("label", { className: "soilapi-explain-switch" },
        h("input", {
          type: "checkbox",
          checked: view.on,
          onChange: function (event) { update({ on: event.target.checked }); }
        }),
        " Show the SQL and plans of each query"),
      view.problem ? h("p", { className: "soilapi-explain-problem" }, view.problem) : null,
      report ? h("p", { className: "soilapi-explain-summary" }, summary(report))
        : h("p", null, "Run a query: its SQL statements and their EXPLAIN plans show here."),
      report ? report.statements.map(function (statement, i) {
        return h(Statement, { key: i, number: i + 1, statement: statement });
      }) : null);
  }

  function Icon() {
    return h("span", { className: "soilapi-explain-icon", "aria-hidden": true }, "SQL");
  }

  window.SoilapiExplain = {
    fetch: explainFetch,
    plugin: { title: "Explain", icon: Icon, content: Panel }
  };
})();
