//! The `trendflow` binary: parses the command line and runs the chosen command.

use trendflow::{cli, run};

fn main() {
    // Flags > TRENDFLOW_* environment > the --config file > built-in defaults.
    let argv = match trendflow::config::with_config(std::env::args_os().collect()) {
        Ok(argv) => argv,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let cli = match <cli::Cli as clap::Parser>::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                e.exit();
            }
            // One line naming the flag or value, like every other usage error; exit code 2.
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("error: bad arguments");
            eprintln!("{first} (see --help)");
            std::process::exit(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        cli::Command::Run(args) => {
            trendflow::shutdown::install();
            run::run(&args)
        }
        cli::Command::Migrate(args) => run::migrate(&args),
        cli::Command::Produce(args) => {
            if args.kafka.kafka_brokers.is_none() {
                Err("produce needs --kafka-brokers HOST:PORT (or TRENDFLOW_KAFKA_BROKERS)".into())
            } else {
                trendflow::produce::produce(&args)
            }
        }
        cli::Command::Status(args) => trendflow::admin::fetch_status(args.admin_addr).map(|s| {
            println!("{s}");
        }),
        cli::Command::Gen(args) => run::gen(&args),
        cli::Command::Cluster(args) => run::cluster(&args),
        cli::Command::Eval(args) => run::eval(&args),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        // An error that names a flag or config key is a usage error, like clap's own.
        std::process::exit(if e.starts_with("--") { 2 } else { 1 });
    }
}
