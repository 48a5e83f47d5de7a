// GraphiQL runs a subscription in headless Chromium, with every outside request blocked: the
// customer's token goes into the Headers tab, the subscription into the editor, Run opens it
// over a WebSocket to the gateway (the page's CSP allows its own origin only), a mutation sent
// from outside the page cancels the order, and the event shows in the result pane.
import { chromium } from "playwright-core";
import { Checks, input, run } from "./harness.mjs";
import { activeSubscriptions, cancelOrder, waitForSubscriptions } from "./subscribing.mjs";

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

const editor = (page, selector) => page.locator(`${selector}:visible`).first();
const editorValue = (page, selector) => editor(page, selector).evaluate((element) => element.CodeMirror.getValue());
const setEditorValue = (page, selector, value) =>
  editor(page, selector).evaluate((element, text) => element.CodeMirror.setValue(text), value);

function isIntrospection(request) {
  return request.method() === "POST" && (request.postData() ?? "").includes("__schema");
}

run(async () => {
  const base = input("MANIFOLD_BASE_URL");
  const token = input("MANIFOLD_TOKEN");
  const orderId = input("MANIFOLD_ORDER_ID");
  const checks = new Checks();
  const browser = await chromium.launch({ executablePath: input("MANIFOLD_CHROMIUM"), headless: true, args: FLAGS });
  try {
    const page = await browser.newPage();
    const outside = [];
    const consoleErrors = [];
    const sockets = [];
    page.on("console", (message) => message.type() === "error" && consoleErrors.push(message.text()));
    page.on("pageerror", (error) => consoleErrors.push(String(error)));
    page.on("websocket", (socket) => sockets.push(socket.url()));
    await page.route("**/*", (route) =>
      route.request().url().startsWith(base) ? route.continue() : (outside.push(route.request().url()), route.abort()),
    );

    const schemaLoaded = page.waitForResponse((response) => isIntrospection(response.request()));
    await page.goto(base + "/graphql", { waitUntil: "load" });
    await schemaLoaded;
    await page.locator(".graphiql-query-editor .CodeMirror").waitFor();

    // Signed in as the order's customer: the schema is fetched again with the token.
    await page.locator(".graphiql-editor-tools button", { hasText: "Headers" }).click();
    const signedIn = page.waitForResponse(
      (response) => isIntrospection(response.request()) && response.request().headers()["authorization"] === `Bearer ${token}`,
    );
    await setEditorValue(page, ".graphiql-editor-tool .CodeMirror", JSON.stringify({ Authorization: `Bearer ${token}` }));
    await signedIn;
    await setEditorValue(
      page,
      ".graphiql-query-editor .CodeMirror",
      `subscription Watch {\n  orderUpdated(id: "${orderId}") { type status orderId version }\n}\n`,
    );

    const before = await activeSubscriptions(base);
    await page.locator(".graphiql-execute-button").click();
    const started = await waitForSubscriptions(base, before + 1).then(() => true, (error) => String(error));
    if (started !== true) {
      const shown = await editorValue(page, ".result-window .CodeMirror");
      checks.check("Run started the subscription on the gateway", false, { started, shown, sockets, consoleErrors });
      return checks.report();
    }
    const cancelled = await cancelOrder(base + "/graphql", token, orderId);
    checks.check("the mutation cancelled the order", cancelled.body?.data?.cancelOrder?.order?.status === "CANCELLED", cancelled);

    const shown = await page
      .waitForFunction(
        () => document.querySelector(".result-window .CodeMirror")?.CodeMirror.getValue().includes("ORDER_CANCELLED"),
        null,
        { timeout: 10_000 },
      )
      .then(() => true, () => false);
    const result = await editorValue(page, ".result-window .CodeMirror");
    checks.check("the event shows in the result pane", shown, result);
    let event = null;
    try {
      event = JSON.parse(result).data?.orderUpdated ?? null;
    } catch {
      // not JSON: the check above has it
    }
    checks.check("it is the watched order's", event?.orderId === orderId && event?.status === "CANCELLED", event);

    // Stop: GraphiQL unsubscribes, and the gateway ends the subscription.
    await page.locator(".graphiql-execute-button").click();
    const ended = await waitForSubscriptions(base, before, { atMost: true }).then(() => true, () => false);
    checks.check("stopping ended the subscription on the gateway", ended);

    const expectedSocket = base.replace(/^http/, "ws") + "/graphql";
    checks.check("it ran over a WebSocket to the gateway's own /graphql", sockets.length > 0 && sockets.every((url) => url === expectedSocket), sockets);
    checks.check("no request left the gateway's origin", outside.length === 0, outside);
    checks.check("no console errors (CSP, SRI, scripts)", consoleErrors.length === 0, consoleErrors);
    return checks.report({ event, sockets });
  } finally {
    await browser.close();
  }
});
