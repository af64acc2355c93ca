//! The `statusdesk` binary: parses the command line and runs the command.

use std::process::ExitCode;

use clap::Parser;
use statusdesk::cli::Cli;
use statusdesk::commands::CommandError;
use statusdesk::content::ContentError;
use statusdesk::{commands, telemetry};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    telemetry::init(cli.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("statusdesk: error: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(commands::run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            match &e {
                // Already `path:line: error: message`, as every content problem is written.
                CommandError::Content(ContentError::BadSite(finding)) => eprintln!("{finding}"),
                _ => eprintln!("statusdesk: error: {e}"),
            }
            ExitCode::from(e.exit_code())
        }
    }
}

/// Help and version go to standard output with exit 0; a usage error is one line with exit 2.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            }
        }
        _ => {
            let rendered = e.render().to_string();
            let first = rendered.lines().next().unwrap_or("invalid usage").trim_start_matches("error: ");
            eprintln!("statusdesk: error: {first} (see 'statusdesk --help')");
            ExitCode::from(2)
        }
    }
}
