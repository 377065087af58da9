use popscope::cli::invocation::{self, Invalid};
use popscope::cli::{CliCommand, DemoArgs};
use popscope::error::Failure;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match invocation::parse(std::env::args_os()) {
        Ok(cli) => cli,
        Err(Invalid::Clap(error)) => error.exit(),
        Err(Invalid::Failure(failure)) => return failed(failure),
    };
    // One thread: popscope waits on one connection and one terminal, and a
    // single thread saves the cross-thread wake-ups that cost throughput on
    // a streamed RETR (measured in benches/pop3.rs).
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("popscope: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async {
        match &cli.command {
            Some(CliCommand::Check(args)) => popscope::cli::check::run(args).await,
            Some(CliCommand::List(args)) => popscope::cli::list::run(args).await,
            Some(CliCommand::Retr(args)) => popscope::cli::retr::run(args).await,
            Some(CliCommand::Clean(args)) => popscope::cli::clean::run(args).await,
            Some(CliCommand::Fetch(args)) => popscope::cli::fetch::run(args).await,
            Some(CliCommand::Demo(args)) => popscope::cli::demo::run(args).await,
            Some(CliCommand::Survey(args)) => popscope::cli::survey::run(args).await,
            Some(CliCommand::Config(args)) => popscope::cli::config::run(args),
            Some(CliCommand::Completions(args)) => popscope::cli::docs::run_completions(args),
            Some(CliCommand::Man) => popscope::cli::docs::run_man(),
            None if cli.connect.names_no_server() => {
                let defaults = DemoArgs {
                    messages: 3_000,
                    seed: 1,
                    latency_ms: 0,
                    trace: cli.connect.trace.clone(),
                    color: cli.connect.color,
                };
                popscope::cli::demo::run(&defaults).await
            }
            None => popscope::cli::inspect::run_url(&cli.connect, cli.backup.as_deref()).await,
        }
    });
    // Sockets still open (a dropped session) close here, without QUIT.
    drop(runtime);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failed(failure),
    }
}

/// Says what went wrong (unless it was said already) and exits with its
/// code.
fn failed(failure: Failure) -> ExitCode {
    if !failure.message.is_empty() {
        eprintln!("popscope: {failure}");
    }
    ExitCode::from(failure.kind.exit_code())
}
