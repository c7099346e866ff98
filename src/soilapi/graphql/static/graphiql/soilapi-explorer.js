// soilapi's GraphiQL page: start GraphiQL on the endpoint and example tabs that the page
// gives in its JSON data block (#graphiql-config). A file of its own, not an inline script, so
// the page's Content-Security-Policy allows scripts from the server alone.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("graphiql-config").textContent);
  var url = new URL(config.endpoint, window.location.href);
  var wsUrl = new URL(url.toString());
  wsUrl.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  var explain = config.explain && window.SoilapiExplain;
  var fetcher = GraphiQL.createFetcher({
    url: url.toString(),
    subscriptionUrl: wsUrl.toString(),
    // With EXPLAIN_QUERIES on, requests ask for the SQL's plans (soilapi-explain.js).
    fetch: explain ? explain.fetch : window.fetch.bind(window)
  });
  var plugins = [];
  if (window.GraphiQLPluginExplorer) {
    plugins.push(GraphiQLPluginExplorer.explorerPlugin());
  }
  if (explain) {
    plugins.push(explain.plugin);
  }
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: config.tabs[0].query,
      defaultTabs: config.tabs,
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      inputValueDeprecation: true,
      plugins: plugins
    })
  );
})();
