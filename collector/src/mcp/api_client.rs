//! The query API as the tools reach it: GET requests with the agent's read token.

use std::time::Duration;

/// Bytes of an answer read at most: a digest or a page is tens of KB.
const MAX_ANSWER: u64 = 4 << 20;
/// How long one call may take, end to end.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a call to the query API gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum ApiCallError {
    /// Nothing answered at the address.
    #[error("the collector at {base} could not be reached: {reason}")]
    Unreachable { base: String, reason: String },
    /// The API refused, with its JSON reason.
    #[error("the collector answered {status}: {reason}")]
    Refused { status: u16, reason: String },
    /// The answer was larger than a tool hands on.
    #[error("the collector's answer is over {MAX_ANSWER} bytes")]
    TooLarge,
    /// The call could not be made (the client's thread pool is gone).
    #[error("the call could not be made: {0}")]
    Failed(String),
}

/// A client of one collector's query API with one read token.
#[derive(Clone)]
pub struct ApiClient {
    base: String,
    token: String,
    /// The `Host` and `X-Forwarded-Proto` the agent reached the collector with, when the
    /// client runs inside it: links in answers are built from them.
    host: Option<String>,
    proto: Option<String>,
    agent: ureq::Agent,
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token is a credential: never in a log line.
        f.debug_struct("ApiClient").field("base", &self.base).finish_non_exhaustive()
    }
}

impl ApiClient {
    /// A client of the collector at `base` (`https://host:port`), reading with `token`, through
    /// the proxy the environment names, if any.
    pub fn new(base: &str, token: &str) -> ApiClient {
        let agent =
            ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(CALL_TIMEOUT)).build().into();
        ApiClient {
            base: base.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            host: None,
            proto: None,
            agent,
        }
    }

    /// A client of this collector's own API at `base` (a loopback address), for the tools it
    /// serves itself: never through a proxy, which would see the caller's token in the clear.
    /// Its token is set per call ([`ApiClient::with_token`]); its connections are shared.
    pub fn loopback(base: &str) -> ApiClient {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(CALL_TIMEOUT))
            .proxy(None)
            .build()
            .into();
        ApiClient { base: base.trim_end_matches('/').to_owned(), token: String::new(), host: None, proto: None, agent }
    }

    /// The same client, reading with `token`.
    pub fn with_token(mut self, token: &str) -> ApiClient {
        self.token = token.to_owned();
        self
    }

    /// The same client, calling on behalf of a request that came to `host` (by `proto`): the
    /// links the API answers name the collector as that request reached it.
    pub fn on_behalf_of(mut self, host: &str, proto: Option<&str>) -> ApiClient {
        self.host = Some(host.to_owned());
        self.proto = proto.map(str::to_owned);
        self
    }

    /// `GET {path}?{query}`: the answer's body, if the API answered 2xx.
    pub async fn get(&self, path: &str, query: Vec<(&'static str, String)>) -> Result<String, ApiCallError> {
        let client = self.clone();
        let url = format!("{}{path}", self.base);
        tokio::task::spawn_blocking(move || client.get_blocking(&url, &query))
            .await
            .map_err(|e| ApiCallError::Failed(e.to_string()))?
    }

    fn get_blocking(&self, url: &str, query: &[(&'static str, String)]) -> Result<String, ApiCallError> {
        let mut request = self
            .agent
            .get(url)
            .header("authorization", format!("Bearer {}", self.token))
            .header("accept", "application/json")
            .query_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        if let Some(host) = &self.host {
            request = request.header("host", host);
        }
        if let Some(proto) = &self.proto {
            request = request.header("x-forwarded-proto", proto);
        }
        let mut answer =
            request.call().map_err(|e| ApiCallError::Unreachable { base: self.base.clone(), reason: e.to_string() })?;
        let status = answer.status().as_u16();
        let body = answer.body_mut().with_config().limit(MAX_ANSWER).read_to_string().map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(_) => ApiCallError::TooLarge,
            e => ApiCallError::Unreachable { base: self.base.clone(), reason: e.to_string() },
        })?;
        if (200..300).contains(&status) {
            return Ok(body);
        }
        // The API's errors are `{"error": code, "message": why}`; anything else (a proxy's
        // page) is not handed on.
        let reason = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
            .unwrap_or_else(|| "no reason given".to_owned());
        Err(ApiCallError::Refused { status, reason })
    }
}
