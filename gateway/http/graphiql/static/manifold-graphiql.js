// Manifold's GraphiQL page: everything it loads comes from the gateway itself (no CDN), each
// file pinned with subresource integrity. It starts with the development token (when the
// gateway was given one) in the Headers tab, sends the headers with the schema request too, and
// asks for the schema again whenever the headers change, so the Docs and the editor's checks
// show what that caller may see. It never writes the query, variables or headers into the URL.
// A subscription runs over a WebSocket to the same endpoint (graphql-transport-ws, with the
// vendored graphql-ws client), with the Headers tab's credential in its connection_init.
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

  function socketUrl() {
    var url = new URL(config.endpoint, window.location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    return url.href;
  }

  // The operations a document defines, as [kind, name] pairs, read from its text: GraphiQL's
  // own parsed document can lag behind the editor (a Run right after an edit), so it is not
  // asked. Comments, strings and everything inside braces are skipped.
  function operations(text) {
    var found = [];
    var depth = 0;
    var parentheses = 0; // variable definitions: their default values may hold braces
    var words = [];
    var tokens = text.match(/"""[\s\S]*?"""|"(?:[^"\\\n]|\\.)*"|#[^\n]*|[{}()]|[A-Za-z_][A-Za-z0-9_]*/g) || [];
    tokens.forEach(function (token) {
      if (token === "(" || token === ")") {
        parentheses = Math.max(0, parentheses + (token === "(" ? 1 : -1));
      } else if (parentheses > 0 && depth === 0) {
        return;
      } else if (token === "{") {
        if (depth === 0) {
          var kind = words[0] === "query" || words[0] === "mutation" || words[0] === "subscription" ? words[0] : null;
          if (kind || words.length === 0) {
            found.push([kind || "query", kind && words[1] ? words[1] : null]);
          }
        }
        depth += 1;
        words = [];
      } else if (token === "}") {
        depth = Math.max(0, depth - 1);
        words = [];
      } else if (depth === 0 && token[0] !== "#" && token[0] !== '"') {
        words.push(token);
      }
    });
    return found;
  }

  function isSubscription(params) {
    var defined = operations(params.query || "");
    var chosen = params.operationName
      ? defined.filter(function (operation) {
          return operation[1] === params.operationName;
        })[0]
      : defined.length === 1
        ? defined[0]
        : undefined;
    return Boolean(chosen) && chosen[0] === "subscription";
  }

  function socketError(error) {
    // A closed socket arrives as a CloseEvent: its code says why (docs/subscriptions.md).
    if (error && typeof error.code === "number") {
      return new Error("The connection closed with " + error.code + (error.reason ? ": " + error.reason : ""));
    }
    return error instanceof Error ? error : new Error(String(error));
  }

  // One WebSocket client per set of headers: the credential goes in connection_init, so other
  // headers mean another connection. Opened at the first subscription, closed when unused.
  var socket = { key: null, client: null };

  function socketClient(headers) {
    var key = JSON.stringify(headers);
    if (socket.key !== key) {
      if (socket.client) {
        socket.client.dispose();
      }
      socket = {
        key: key,
        client: graphqlWs.createClient({ url: socketUrl(), connectionParams: headers, lazy: true, retryAttempts: 0 }),
      };
    }
    return socket.client;
  }

  function subscribe(params, headers) {
    // GraphiQL takes an observable: it shows each result as it comes, and unsubscribes on stop.
    return {
      subscribe: function (observer) {
        var dispose = socketClient(headers).subscribe(params, {
          next: function (result) {
            observer.next(result);
          },
          error: function (error) {
            observer.error(socketError(error));
          },
          complete: function () {
            observer.complete();
          },
        });
        return { unsubscribe: dispose };
      },
    };
  }

  function makeFetcher() {
    return function fetcher(params, options) {
      // GraphiQL passes the editor's headers with each operation; its first schema request can
      // come before the editor exists, so the headers known here stand in for them.
      var headers = options && options.headers ? options.headers : currentHeaders;
      if (isSubscription(params)) {
        return subscribe(params, headers);
      }
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
