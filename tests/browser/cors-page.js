// A front-end on another origin than the API's: POST a query as JSON with an API key, which
// makes the browser send a preflight first, and show the answer (or the browser's refusal).
(function () {
  "use strict";
  var api = new URLSearchParams(window.location.search).get("api");
  var result = document.getElementById("result");
  function show(outcome) {
    console.log("soilapi call: " + JSON.stringify(outcome));
    result.textContent = JSON.stringify(outcome);
    result.dataset.done = "true";
  }
  fetch(api, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-API-Key": "a-front-end" },
    body: JSON.stringify({ query: '{ organization(slug: "esp") { name acronym } }' })
  }).then(function (response) {
    return response.json().then(function (body) {
      // X-Request-Id is not CORS-safelisted: a page reads it only if the server exposes it.
      show({ status: response.status, requestId: response.headers.get("X-Request-Id"), body: body });
    });
  }).catch(function (error) {
    show({ error: error.name + ": " + error.message });
  });
})();
