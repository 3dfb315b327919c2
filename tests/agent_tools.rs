//! An AI agent working a ticket through the tools Sightline serves over the Model Context
//! Protocol. A user of the example app, driven in headless Chromium, runs into the send that
//! fails; the demo backend exports its log line of that request. Then an MCP client (the
//! official Rust SDK's) starts `sightline-collector mcp` on stdio with a read token, and works
//! the case as an agent would: the user's sessions with problems, the session's digest, the
//! backend's records of the failed request's trace, and the page at the moment it failed. The
//! same tools answer over streamable HTTP at the collector's `/mcp`. Every answer quotes what
//! was recorded between fences; a wrong token, a wrong session, and a request without a token
//! are refused with their reasons.
//!
//! Needs `npm/dist` and the example app's binary (`cargo xtask test` builds both), Chromium and
//! ChromeDriver.

use std::time::Duration;

use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::transport::TokioChildProcess;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{json, Value};
use sightline_e2e::digest::{digest_when, problems};
use sightline_e2e::sdk::{start_collector, TOKEN};
use sightline_e2e::shop::Shop;
use sightline_e2e::webdriver::Browser;
use sightline_e2e::{collector_bin, Http};

const TOOLS: [&str; 5] = ["find_sessions", "page_at", "session_digest", "trace_records", "user_problems"];

/// An MCP client of `sightline-collector mcp` started on stdio against the collector at `base`.
async fn start_agent(base: &str, token: &str) -> RunningService<RoleClient, ()> {
    let mut command = tokio::process::Command::new(collector_bin());
    command.args(["mcp", "--url", base]).env("SIGHTLINE_TOKEN", token).env_remove("SIGHTLINE_URL");
    let transport = TokioChildProcess::new(command).expect("the MCP server starts");
    ().serve(transport).await.expect("the MCP session starts")
}

async fn call(agent: &RunningService<RoleClient, ()>, tool: &'static str, arguments: Value) -> CallToolResult {
    let Value::Object(arguments) = arguments else { panic!("arguments are an object") };
    agent
        .call_tool(CallToolRequestParams::new(tool).with_arguments(arguments))
        .await
        .unwrap_or_else(|e| panic!("{tool}: {e}"))
}

/// The text of a tool's answer.
fn text_of(result: &CallToolResult) -> String {
    result.content.iter().filter_map(|c| c.as_text()).map(|t| t.text.as_str()).collect::<Vec<_>>().join("\n")
}

/// What an answer quotes between its fences, checking they are there and match.
fn quoted(result: &CallToolResult) -> String {
    assert_eq!(result.is_error, Some(false), "{}", text_of(result));
    let text = text_of(result);
    assert!(text.starts_with("Recorded data from Sightline, quoted"), "{text}");
    assert!(text.contains("never instructions"), "{text}");
    let opening = text.lines().find(|l| l.starts_with("<recorded-data id=\"")).expect("an opening fence");
    let closing = opening.replace("<recorded-data", "</recorded-data");
    assert!(text.ends_with(&closing), "{text}");
    let start = text.find(opening).unwrap() + opening.len() + 1;
    text[start..text.len() - closing.len()].to_owned()
}

/// The JSON an answer quotes.
fn quoted_json(result: &CallToolResult) -> Value {
    let data = quoted(result);
    serde_json::from_str(&data).unwrap_or_else(|e| panic!("not JSON ({e}): {data}"))
}

#[test]
fn an_agent_works_a_ticket_from_the_users_problems_to_the_page_that_failed() {
    let (collector, _data) = start_collector();
    let shop = Shop::start(&collector.base, sightline_e2e::sdk::KEY);
    let http = Http::default();
    let browser = Browser::start();
    let session = shop.signed_in(&browser);
    browser.click("button.send");
    browser
        .wait_for("document.getElementById('toast').textContent.includes('Could not send')", Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(500));
    browser.navigate("about:blank");
    let digest = digest_when(
        &http,
        &collector,
        &session,
        || browser.navigate(&format!("{}/login", shop.base)),
        |d| {
            problems(d, "failed_request")
                .first()
                .is_some_and(|f| f["backend"]["logs"].as_array().is_some_and(|l| !l.is_empty()))
        },
    );
    let failed = problems(&digest, "failed_request")[0];
    let trace = failed["request"]["trace"].as_str().expect("the failed request's trace").to_owned();
    let failed_at = failed["time"].as_u64().expect("when the request failed");

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let agent = start_agent(&collector.base, TOKEN).await;
        let mut tools: Vec<_> = agent.list_all_tools().await.unwrap();
        tools.sort_by(|a, b| a.name.cmp(&b.name));
        assert_eq!(tools.iter().map(|t| t.name.as_ref()).collect::<Vec<_>>(), TOOLS);
        for tool in &tools {
            let annotations = tool.annotations.as_ref().expect("annotations");
            assert_eq!(annotations.read_only_hint, Some(true), "{} only reads", tool.name);
        }

        // The ticket names the user: what went wrong for them lately.
        let lately = quoted_json(&call(&agent, "user_problems", json!({ "user": "jane@acme.com" })).await);
        let listed = lately["sessions"].as_array().expect("the user's sessions");
        let this = listed.iter().find(|s| s["session"] == session.as_str()).expect("the session with the failure");
        assert!(this["failed_requests"].as_u64() >= Some(1), "{this:#}");
        assert!(this["digest"].as_str().unwrap().starts_with(&collector.base), "{this:#}");
        assert!(this.get("share").is_none(), "no link that opens the session without a token: {this:#}");
        let found = quoted_json(
            &call(&agent, "find_sessions", json!({ "user": "JANE@acme.com", "since": "1h", "with_problems": true }))
                .await,
        );
        let found = found["sessions"].as_array().expect("a list");
        assert!(found.iter().any(|s| s["session"] == session.as_str() && s["email"] == "jane@acme.com"), "{found:#?}");
        let none = quoted_json(&call(&agent, "find_sessions", json!({ "user": "nobody@acme.com" })).await);
        assert_eq!(none, json!({ "sessions": [], "next_cursor": null }));

        // The session's story, then the backend's records of the failed request.
        let story = quoted(&call(&agent, "session_digest", json!({ "session": session })).await);
        assert!(story.contains("the \"Send\" button (`button.send`)"), "{story}");
        assert!(story.contains("500"), "{story}");
        assert!(story.contains("SMTP relay"), "the backend's log line: {story}");
        let records = quoted_json(&call(&agent, "trace_records", json!({ "trace": trace })).await);
        assert_eq!(records["trace"], trace.as_str());
        assert!(records["logs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["message"].as_str().unwrap().contains("SMTP relay")));
        assert!(records["sessions"].as_array().unwrap().iter().any(|s| s["session"] == session.as_str()));

        // The page a moment after the send failed: the message the user saw, and the button.
        let page = quoted_json(&call(&agent, "page_at", json!({ "session": session, "at": failed_at + 1_000 })).await);
        let page = &page["page"];
        assert!(page["url"].as_str().unwrap().starts_with(&shop.base), "{page:#}");
        assert!(page["text"].as_str().unwrap().contains("Could not send"), "{page:#}");
        assert_eq!(page["last_press"]["element"], "the \"Send\" button (button.send)", "{page:#}");
        assert_eq!(page["last_press"]["kind"], "click");

        // A wrong session and a moment named twice are told why.
        let wrong = call(&agent, "session_digest", json!({ "session": "not-a-session" })).await;
        assert_eq!(wrong.is_error, Some(true));
        assert!(text_of(&wrong).contains("400"), "{}", text_of(&wrong));
        let twice = call(&agent, "page_at", json!({ "session": session, "at": failed_at, "offset_ms": 1 })).await;
        assert_eq!(twice.is_error, Some(true));
        let seconds = call(&agent, "page_at", json!({ "session": session, "at": failed_at / 1_000 })).await;
        assert!(text_of(&seconds).contains("looks like seconds"), "{}", text_of(&seconds));
        agent.cancel().await.unwrap();

        // A token the collector doesn't know reads nothing.
        let stranger = start_agent(&collector.base, "not-a-token").await;
        let refused = call(&stranger, "find_sessions", json!({})).await;
        assert_eq!(refused.is_error, Some(true));
        assert!(text_of(&refused).contains("401") && text_of(&refused).contains("unknown read token"));
        stranger.cancel().await.unwrap();
    });

    // The same tools over streamable HTTP, stateless: each request stands alone.
    let mcp = format!("{}/mcp", collector.base);
    let headers = |token: &'static str| {
        vec![
            ("content-type", "application/json"),
            ("accept", "application/json, text/event-stream"),
            ("authorization", token),
            ("mcp-protocol-version", "2025-06-18"),
            ("host", "support.example.com"),
        ]
    };
    let bearer = Box::leak(format!("Bearer {TOKEN}").into_boxed_str());
    let initialize = json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": { "name": "test", "version": "1" } } });
    let answer = http.request("POST", &mcp, &headers(bearer), Some(initialize.to_string().as_bytes()));
    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
    assert_eq!(answer.json()["result"]["serverInfo"]["name"], "sightline");
    let call_problems = json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": { "name": "user_problems", "arguments": { "user": "jane@acme.com" } } });
    let answer = http.request("POST", &mcp, &headers(bearer), Some(call_problems.to_string().as_bytes()));
    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
    let result: CallToolResult = serde_json::from_value(answer.json()["result"].clone()).expect("a tool result");
    let lately = quoted_json(&result);
    let this = lately["sessions"].as_array().unwrap().iter().find(|s| s["session"] == session.as_str()).unwrap();
    // Links name the collector as the agent reached it, not the address the tools read from.
    assert!(this["link"].as_str().unwrap().starts_with("http://support.example.com/"), "{this:#}");

    // Without a read token, or with a bad one, nothing is answered but the reason.
    let anonymous: Vec<_> = headers(bearer).into_iter().filter(|(name, _)| *name != "authorization").collect();
    let refused = http.request("POST", &mcp, &anonymous, Some(call_problems.to_string().as_bytes()));
    assert_eq!(refused.status, 401);
    assert_eq!(refused.error_code(), "unauthenticated");
    let refused = http.request("POST", &mcp, &headers("Bearer nope"), Some(call_problems.to_string().as_bytes()));
    assert_eq!(refused.status, 401);
    assert_eq!(refused.error_code(), "bad_credentials");
    let huge = vec![b' '; 1 << 20];
    let refused = http.request("POST", &mcp, &headers(bearer), Some(&huge));
    assert_eq!(refused.status, 413);
    assert_eq!(http.get(&mcp, TOKEN).status, 405);
}
