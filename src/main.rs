use clap::Parser;
use popscope::cli::{Cli, CliCommand};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
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
            None => Err(popscope::error::Failure::new(
                popscope::error::FailureKind::Usage,
                "the inspector UI is not built yet; use `popscope check URL` or `popscope list URL`",
            )),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("popscope: {failure}");
            ExitCode::from(failure.kind.exit_code())
        }
    }
}
