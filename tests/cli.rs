//! The command line: complete help for every command and flag, one-line usage errors with exit code 2.

use std::process::Command;

use clap::CommandFactory;

fn trendflow(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_trendflow"))
        .args(args)
        .env_remove("TRENDFLOW_CONFIG")
        .output()
        .expect("run trendflow")
}

#[test]
fn every_command_and_flag_has_help() {
    let cli = trendflow::cli::Cli::command();
    for sub in cli.get_subcommands() {
        assert!(sub.get_about().is_some(), "{} has no help", sub.get_name());
        for arg in sub.get_arguments() {
            if arg.get_id() == "help" {
                continue;
            }
            assert!(
                arg.get_help().is_some(),
                "{} --{} has no help",
                sub.get_name(),
                arg.get_id()
            );
        }
        let out = trendflow(&[sub.get_name(), "--help"]);
        assert!(out.status.success(), "{} --help", sub.get_name());
    }
    let version = trendflow(&["--version"]);
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("trendflow "));
}

#[test]
fn bad_flags_and_config_values_give_one_line_naming_them_and_exit_2() {
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["run".into(), "--workerz".into(), "3".into()],
            "--workerz",
        ),
        (
            vec!["run".into(), "--workers".into(), "0".into()],
            "--workers",
        ),
        (
            vec![
                "run".into(),
                "--min-jaccard".into(),
                "7".into(),
                "--once".into(),
            ],
            "--min-jaccard",
        ),
        (
            vec!["run".into(), "--sinks".into(), "none,sqlite".into()],
            "--sinks",
        ),
    ];
    let dir = std::env::temp_dir().join(format!("tf-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let bad_key = dir.join("bad-key.toml");
    std::fs::write(&bad_key, "kafka_brokerz = \"x\"\n").expect("write");
    let bad_value = dir.join("bad-value.toml");
    std::fs::write(&bad_value, "parquet_keep = \"lots\"\n").expect("write");
    let mut cases = cases;
    cases.push((
        vec![
            "run".into(),
            "--config".into(),
            bad_key.display().to_string(),
        ],
        "kafka_brokerz",
    ));
    cases.push((
        vec![
            "run".into(),
            "--config".into(),
            bad_value.display().to_string(),
        ],
        "--parquet-keep",
    ));
    for (args, names) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = trendflow(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{args:?}: one line, got {stderr}");
        assert!(lines[0].contains(names), "{args:?}: {stderr}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
