//! Sightline's tools for AI agents, over the Model Context Protocol. An agent working a support
//! ticket finds the user's sessions, reads a session's digest, a trace's backend records and
//! the page at a moment, and lists a user's recent problems.
//!
//! The tools are a client of the query API ([`ApiClient`]) holding the agent's read token, so
//! an agent reads exactly what that token reads, through the same checks and limits as any
//! other client. They are served two ways: over stdio by `sightline-collector mcp`, a process
//! the agent starts that talks to a collector over HTTP, and over streamable HTTP at the
//! collector's own `/mcp` (see `crate::api`).
//!
//! What a tool answers was recorded from users' browsers and customers' backends (page text,
//! URLs, console and log lines): evidence, never instructions. Every answer holds it inside
//! fences no recording can close (see [`quote`]).

mod api_client;
mod quote;
mod tools;

pub use api_client::{ApiCallError, ApiClient};
pub use tools::SightlineTools;

#[cfg(test)]
mod tests {
    #[test]
    fn the_token_goes_over_https_or_to_this_machine() {
        for safe in
            ["https://sightline.example.com", "http://127.0.0.1:8686", "http://localhost:8686", "http://[::1]:8686"]
        {
            assert!(super::safe_to_send_token(safe), "{safe}");
        }
        for unsafe_url in ["http://sightline.example.com", "http://10.0.0.5:8686", "ftp://x", "nonsense"] {
            assert!(!super::safe_to_send_token(unsafe_url), "{unsafe_url}");
        }
    }
}

use rmcp::ServiceExt;

/// Why the stdio server stopped.
#[derive(Debug, thiserror::Error)]
pub enum McpError {
    /// The agent's side didn't start the protocol.
    #[error("the MCP session did not start: {0}")]
    Start(String),
    /// The session ended in an error.
    #[error("the MCP session failed: {0}")]
    Session(String),
}

/// Whether a token may go to `url`: over https, or over http to this machine only.
pub fn safe_to_send_token(url: &str) -> bool {
    let Ok(uri) = url.parse::<http::Uri>() else { return false };
    match uri.scheme_str() {
        Some("https") => true,
        Some("http") => {
            let host = uri.host().unwrap_or("").trim_start_matches('[').trim_end_matches(']');
            host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
        }
        _ => false,
    }
}

/// Serves the tools on stdin and stdout until the agent closes them.
pub async fn serve_stdio(client: ApiClient) -> Result<(), McpError> {
    let running = SightlineTools::new(client)
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| McpError::Start(e.to_string()))?;
    running.waiting().await.map_err(|e| McpError::Session(e.to_string()))?;
    Ok(())
}
