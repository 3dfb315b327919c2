//! `sightline-collector serve`: the collector on its embedded default, sled in
//! `./sightline-data`, listening on `127.0.0.1:8686`. `sightline-collector mcp`: the tools for
//! AI agents on stdio, reading a running collector's query API.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use sightline_collector::config::Config;
use tracing_subscriber::EnvFilter;

// sled allocates and frees a node copy on every write; glibc's allocator spent a sixth of the
// ingest path's CPU on that.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "sightline-collector", version, about = "Sightline's collector: ingest, storage and query API")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the collector.
    Serve(ServeArgs),
    /// Serve the tools for AI agents (Model Context Protocol) on stdin and stdout, reading a
    /// collector's query API with a read token.
    Mcp(McpArgs),
}

/// The tools read with the read token in `SIGHTLINE_TOKEN`: an environment variable, never a
/// flag, which anyone on the machine could see in the process list.
#[derive(clap::Args)]
struct McpArgs {
    /// The collector's address: `https://…`, or `http://` on this machine.
    #[arg(long, env = "SIGHTLINE_URL", default_value = "http://127.0.0.1:8686")]
    url: String,
    /// Allow `http://` to another machine, which sends the read token in the clear.
    #[arg(long)]
    allow_http: bool,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8686].
    #[arg(long, env = "SIGHTLINE_LISTEN")]
    listen: Option<SocketAddr>,
    /// Directory of the database [default: ./sightline-data].
    #[arg(long, env = "SIGHTLINE_DATA")]
    data: Option<PathBuf>,
    /// A TOML configuration file; flags and environment variables override it.
    #[arg(long, env = "SIGHTLINE_CONFIG")]
    config: Option<PathBuf>,
    /// Log format.
    #[arg(long, env = "SIGHTLINE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Serve(args) => serve(args),
        Command::Mcp(args) => mcp(args),
    }
}

/// The agent tools on stdio. Stdout carries the protocol, so logs go to stderr, warnings only
/// unless `SIGHTLINE_LOG` says otherwise.
fn mcp(args: McpArgs) -> ExitCode {
    let filter = EnvFilter::try_from_env("SIGHTLINE_LOG").unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(false).init();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("sightline-collector: {e}");
            return ExitCode::FAILURE;
        }
    };
    let Some(token) = std::env::var("SIGHTLINE_TOKEN").ok().filter(|t| !t.trim().is_empty()) else {
        eprintln!("sightline-collector: set SIGHTLINE_TOKEN to a read token of the project");
        return ExitCode::from(2);
    };
    if !args.allow_http && !sightline_collector::mcp::safe_to_send_token(&args.url) {
        eprintln!(
            "sightline-collector: {} would carry the read token in the clear; use https://, or --allow-http",
            args.url
        );
        return ExitCode::from(2);
    }
    let client = sightline_collector::mcp::ApiClient::new(&args.url, token.trim());
    match runtime.block_on(sightline_collector::mcp::serve_stdio(client)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sightline-collector: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(args: ServeArgs) -> ExitCode {
    let filter = EnvFilter::try_from_env("SIGHTLINE_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match args.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }

    let mut config = match args.config.as_deref().map(Config::from_file).transpose() {
        Ok(config) => config.unwrap_or_default(),
        Err(e) => {
            eprintln!("sightline-collector: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if let Some(data) = args.data {
        config.data = data;
    }

    let runtime = actix_web::rt::System::new();
    match runtime.block_on(sightline_collector::serve(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sightline-collector: {e}");
            ExitCode::FAILURE
        }
    }
}
