//! The `broadsheet` binary: parse the command line, start logging, dispatch.

use std::process::ExitCode;

use broadsheet::cli::Cli;
use broadsheet::config::{Config, LogFormat};
use broadsheet::logs::BufferedStdout;
use clap::Parser;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::resolve(&cli.config) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("error: {err:#}");
            return ExitCode::FAILURE;
        }
    };
    let writer = BufferedStdout::start();
    let filter =
        EnvFilter::try_from_env("BROADSHEET_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,html5ever=error"));
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(terminal).with_writer(writer.clone());
    match config.log_format {
        LogFormat::Json => logs.json().init(),
        LogFormat::Text => logs.init(),
    }
    // On a terminal the subscriber's lines are in colour; request lines then
    // take the subscriber's way too.
    if !terminal {
        broadsheet::logs::send_requests_to(writer.clone(), config.log_format);
    }
    let code = match cli.run(config).await {
        Ok(code) => code,
        // The reader of standard output closed it (`… | head`): it has seen
        // enough, and there is nothing to report.
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    };
    writer.flush();
    code
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
