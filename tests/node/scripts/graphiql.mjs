// GraphiQL in headless Chromium, as a newcomer meets it after `make run`: the page loads with
// every outside request blocked (it must need none), starts signed in with the token in its
// Headers tab, has fetched the schema with that token (so the first query is valid and `Order`
// is in the schema), runs the query and shows the result; changing the headers fetches the
// schema again with the new ones, and nothing typed into the editors reaches the URL.
import { chromium } from "playwright-core";
import { Checks, input, run } from "./harness.mjs";

// The machine's network is closed: without these Chromium stalls on its own background calls.
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

const editorValue = (page, selector) =>
  page.locator(`${selector}:visible`).first().evaluate((element) => element.CodeMirror.getValue());
const setEditorValue = (page, selector, value) =>
  page.locator(`${selector}:visible`).first().evaluate((element, text) => element.CodeMirror.setValue(text), value);

function isIntrospection(request) {
  return request.method() === "POST" && (request.postData() ?? "").includes("__schema");
}

// A shared machine can stall one load; a slow page stalls every one. So a load over budget is
// measured again, cold (a new browser context, empty cache), up to three times, and the best
// is reported with all of them.
const BUDGET_MS = 1000;

async function coldLoad(browser, base) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const started = Date.now();
  const schemaLoaded = page.waitForResponse((response) => isIntrospection(response.request()));
  await page.goto(base + "/graphql", { waitUntil: "load" });
  await schemaLoaded;
  await page.locator(".graphiql-query-editor .CodeMirror").waitFor();
  const elapsed = Date.now() - started;
  await context.close();
  return elapsed;
}

run(async () => {
  const base = input("MANIFOLD_BASE_URL");
  const token = input("MANIFOLD_TOKEN");
  const expectedName = input("MANIFOLD_EXPECTED_NAME");
  const checks = new Checks();
  const browser = await chromium.launch({
    executablePath: input("MANIFOLD_CHROMIUM"),
    headless: true,
    args: FLAGS,
  });
  try {
    const page = await browser.newPage();
    const outside = [];
    const consoleErrors = [];
    const introspections = [];
    page.on("console", (message) => message.type() === "error" && consoleErrors.push(message.text()));
    page.on("pageerror", (error) => consoleErrors.push(String(error)));
    page.on("request", (request) => {
      if (isIntrospection(request)) {
        introspections.push({ authorization: request.headers()["authorization"] ?? null });
      }
    });
    await page.route("**/*", (route) =>
      route.request().url().startsWith(base) ? route.continue() : (outside.push(route.request().url()), route.abort()),
    );

    const started = Date.now();
    const schemaLoaded = page.waitForResponse((response) => isIntrospection(response.request()));
    await page.goto(base + "/graphql", { waitUntil: "load" });
    const schema = await (await schemaLoaded).json();
    await page.locator(".graphiql-query-editor .CodeMirror").waitFor();
    const loadTimes = [Date.now() - started];
    while (Math.min(...loadTimes) >= BUDGET_MS && loadTimes.length < 3) {
      loadTimes.push(await coldLoad(browser, base));
    }
    const loadedMs = Math.min(...loadTimes);

    const typeNames = (schema.data?.__schema?.types ?? []).map((type) => type.name);
    checks.check("the schema was fetched with the token in the Headers tab", introspections[0]?.authorization === `Bearer ${token}`, introspections);
    checks.check("the signed-in schema has Order", typeNames.includes("Order"), typeNames);
    checks.check("the Headers tab starts with the token", (await editorValue(page, ".graphiql-editor-tool .CodeMirror")).includes(`Bearer ${token}`));
    const query = await editorValue(page, ".graphiql-query-editor .CodeMirror");
    checks.check("the page opens with the demo query", query.includes("me {") || query.includes("{ me"), query);

    const queryTimes = [];
    while (queryTimes.length === 0 || (Math.min(...queryTimes) >= BUDGET_MS && queryTimes.length < 3)) {
      await setEditorValue(page, ".result-window .CodeMirror", "");
      const runStarted = Date.now();
      await page.locator(".graphiql-execute-button").click();
      await page.waitForFunction(
        (name) => {
          const result = document.querySelector(".result-window .CodeMirror");
          return result && result.CodeMirror.getValue().includes(name);
        },
        expectedName,
        { timeout: 10_000 },
      );
      queryTimes.push(Date.now() - runStarted);
    }
    const queryMs = Math.min(...queryTimes);
    const result = JSON.parse(await editorValue(page, ".result-window .CodeMirror"));
    checks.check("the result shows the user's name", result.data?.me?.name === expectedName, result);
    checks.check("the query is valid against the signed-in schema", await page.locator(".graphiql-query-editor .CodeMirror-lint-mark-error").count() === 0);

    // A token pasted into the wrong tab must not end up in the address bar (or the history).
    await page.locator(".graphiql-editor-tools button", { hasText: "Variables" }).click();
    await setEditorValue(page, ".graphiql-editor-tool .CodeMirror", '{"Authorization": "Bearer pasted-by-mistake"}');
    await page.waitForTimeout(500);
    checks.check("nothing typed reaches the URL", page.url() === base + "/graphql", page.url());

    // Headers changed: the schema is fetched again with them (here: none, the anonymous view).
    await page.locator(".graphiql-editor-tools button", { hasText: "Headers" }).click();
    const anonymousSchema = page.waitForResponse((response) => isIntrospection(response.request()));
    await setEditorValue(page, ".graphiql-editor-tool .CodeMirror", "{}");
    const anonymous = await (await anonymousSchema).json();
    const anonymousTypes = (anonymous.data?.__schema?.types ?? []).map((type) => type.name);
    checks.check("changing the headers fetched the schema again without the token", introspections.length >= 2 && introspections.at(-1).authorization === null, introspections);
    checks.check("the anonymous schema has no Order", anonymousTypes.length > 0 && !anonymousTypes.includes("Order"), anonymousTypes);
    // The editor now checks the query against the anonymous schema: `orders` is not in it.
    const flagged = await page
      .waitForFunction(() => document.querySelectorAll(".graphiql-query-editor .CodeMirror-lint-mark-error").length > 0, null, { timeout: 5_000 })
      .then(() => true, () => false);
    checks.check("the editor checks the query against the re-fetched schema", flagged);

    checks.check("no request left the gateway's origin", outside.length === 0, outside);
    checks.check("no console errors (CSP, SRI, scripts)", consoleErrors.length === 0, consoleErrors);
    return checks.report({ loadedMs, queryMs, loadTimes, queryTimes, introspections: introspections.length });
  } finally {
    await browser.close();
  }
});
