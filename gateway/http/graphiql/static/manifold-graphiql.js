// Manifold's GraphiQL page: everything it loads comes from the gateway itself (no CDN), each
// file pinned with subresource integrity. It starts with the development token (when the
// gateway was given one) in the Headers tab, sends the headers with the schema request too, and
// asks for the schema again whenever the headers change, so the Docs and the editor's checks
// show what that caller may see. It never writes the query, variables or headers into the URL.
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("manifold-graphiql-config").textContent);
  var ACCEPT = "application/graphql-response+json, application/json;q=0.9";
  var currentHeaders = config.headers || {};

  function parseHeaders(text) {
    if (!text || !text.trim()) {
      return {};
    }
    try {
      var value = JSON.parse(text);
      return value && typeof value === "object" && !Array.isArray(value) ? value : null;
    } catch (error) {
      return null;
    }
  }

  function makeFetcher() {
    return function fetcher(params, options) {
      // GraphiQL passes the editor's headers with each operation; its first schema request can
      // come before the editor exists, so the headers known here stand in for them.
      var headers = options && options.headers ? options.headers : currentHeaders;
      return fetch(config.endpoint, {
        method: "POST",
        credentials: "omit",
        headers: Object.assign({ "Content-Type": "application/json", Accept: ACCEPT }, headers),
        body: JSON.stringify(params),
      }).then(function (response) {
        return response.json();
      });
    };
  }

  function App() {
    var state = React.useState(makeFetcher);
    var fetcher = state[0];
    var setFetcher = state[1];
    var pending = React.useRef(null);
    var explorer = React.useMemo(function () {
      return GraphiQLPluginExplorer.explorerPlugin();
    }, []);

    var onEditHeaders = React.useCallback(function (text) {
      var parsed = parseHeaders(text);
      if (parsed === null) {
        return; // still being typed
      }
      clearTimeout(pending.current);
      pending.current = setTimeout(function () {
        if (JSON.stringify(parsed) === JSON.stringify(currentHeaders)) {
          return;
        }
        currentHeaders = parsed;
        // A new fetcher is GraphiQL's signal to fetch the schema again, with these headers.
        setFetcher(function () {
          return makeFetcher();
        });
      }, 300);
    }, []);

    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: config.query,
      headers: config.headersText,
      defaultHeaders: config.headersText,
      onEditHeaders: onEditHeaders,
      shouldPersistHeaders: false,
      isHeadersEditorEnabled: true,
      defaultEditorToolsVisibility: config.headersText ? "headers" : true,
      plugins: [explorer],
    });
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(React.createElement(App));
})();
