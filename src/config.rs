//! Layered configuration: built-in defaults, then a TOML file (`--config`), then `TRENDFLOW_*` environment variables, then flags.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::PathBuf;

use clap::parser::ValueSource;
use clap::CommandFactory;

use crate::cli::Cli;

/// The config file named by `--config FILE` / `--config=FILE`, else `TRENDFLOW_CONFIG`.
fn config_path(argv: &[OsString]) -> Option<PathBuf> {
    let mut it = argv.iter();
    while let Some(a) = it.next() {
        let a = a.to_string_lossy();
        if a == "--config" {
            return it.next().map(PathBuf::from);
        }
        if let Some(p) = a.strip_prefix("--config=") {
            return Some(PathBuf::from(p));
        }
    }
    std::env::var_os("TRENDFLOW_CONFIG").map(PathBuf::from)
}

fn scalar(key: &str, v: &toml::Value) -> Result<String, String> {
    match v {
        toml::Value::String(s) => Ok(s.clone()),
        toml::Value::Integer(i) => Ok(i.to_string()),
        toml::Value::Float(f) => Ok(f.to_string()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        other => Err(format!(
            "`{key}`: expected a string, number or boolean, found {}",
            other.type_str()
        )),
    }
}

/// Returns `argv` with the config file's values added for every option of the chosen command
/// that the command line and the environment leave unset. Keys are flag names with `_` or
/// `-` (`kafka_brokers`, `parquet-every`); `[kafka_settings]` is a table of librdkafka
/// settings. An unknown key, or a value of the wrong shape, is an error naming the key.
pub fn with_config(argv: Vec<OsString>) -> Result<Vec<OsString>, String> {
    let Some(path) = config_path(&argv) else {
        return Ok(argv);
    };
    let text =
        std::fs::read_to_string(&path).map_err(|e| format!("--config {}: {e}", path.display()))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e| format!("--config {}: not valid TOML: {e}", path.display()))?;
    let command = Cli::command();
    // Without the file's values, the command line must already be valid (else clap reports).
    let Ok(matches) = command.clone().try_get_matches_from(argv.clone()) else {
        return Ok(argv); // the command line itself is wrong: the parser reports it
    };
    let Some((sub_name, sub_matches)) = matches.subcommand() else {
        return Ok(argv);
    };
    let known: BTreeSet<String> = command
        .get_subcommands()
        .flat_map(|c| c.get_arguments())
        .filter_map(|a| a.get_long().map(|l| l.replace('-', "_")))
        .chain(["kafka_settings".to_string()])
        .collect();
    let sub = command
        .find_subcommand(sub_name)
        .ok_or_else(|| format!("unknown command {sub_name}"))?;
    let mut extra: Vec<OsString> = Vec::new();
    for (raw_key, value) in &table {
        let key = raw_key.replace('-', "_");
        let where_ = || format!("--config {}: key `{raw_key}`", path.display());
        if !known.contains(&key) || key == "config" {
            return Err(format!("{}: unknown key", where_()));
        }
        if key == "kafka_settings" {
            let toml::Value::Table(settings) = value else {
                return Err(format!("{}: expected a table of KEY = \"VALUE\"", where_()));
            };
            let set_on_cli = sub_matches
                .try_get_raw("kafka_settings")
                .ok()
                .flatten()
                .is_some();
            if sub.get_arguments().any(|a| a.get_id() == "kafka_settings") && !set_on_cli {
                for (k, v) in settings {
                    let v = scalar(k, v).map_err(|e| format!("{}: {e}", where_()))?;
                    extra.push(format!("--kafka-setting={k}={v}").into());
                }
            }
            continue;
        }
        let Some(arg) = sub
            .get_arguments()
            .find(|a| a.get_long().map(|l| l.replace('-', "_")) == Some(key.clone()))
        else {
            continue; // a key of another command
        };
        let id = arg.get_id().as_str();
        if matches!(
            sub_matches.value_source(id),
            Some(ValueSource::CommandLine | ValueSource::EnvVariable)
        ) {
            continue;
        }
        let long = arg.get_long().unwrap_or(id);
        let takes_value = arg.get_action().takes_values();
        if !takes_value {
            match value {
                toml::Value::Boolean(true) => extra.push(format!("--{long}").into()),
                toml::Value::Boolean(false) => {}
                _ => return Err(format!("{}: expected true or false", where_())),
            }
            continue;
        }
        let text = match value {
            toml::Value::Array(items) => items
                .iter()
                .map(|v| scalar(raw_key, v))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("{}: {e}", where_()))?
                .join(","),
            v => scalar(raw_key, v).map_err(|e| format!("{}: {e}", where_()))?,
        };
        extra.push(format!("--{long}={text}").into());
    }
    let mut out = argv;
    out.extend(extra);
    // Values from the file are checked by the same parser; name the file in the error.
    if let Err(e) = Cli::command().try_get_matches_from(out.clone()) {
        let first = e.to_string();
        let first = first
            .lines()
            .next()
            .unwrap_or_default()
            .trim_start_matches("error: ");
        return Err(format!("--config {}: {first}", path.display()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    fn write(name: &str, text: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("tf-config-{}-{name}.toml", std::process::id()));
        std::fs::write(&p, text).expect("write config");
        p
    }

    #[test]
    fn file_values_fill_what_flags_leave_unset() {
        let p = write(
            "layers",
            "workers = 4\nonce = true\nsinks = [\"sqlite\", \"parquet\"]\nepoch-events = 500\n\
             [kafka_settings]\n\"security.protocol\" = \"SASL_SSL\"\n",
        );
        let argv = args(&[
            "trendflow",
            "run",
            "--workers",
            "3",
            "--config",
            p.to_str().expect("utf8"),
        ]);
        let out = with_config(argv).expect("valid");
        let out: Vec<String> = out
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert!(out.contains(&"--once".to_string()));
        assert!(out.contains(&"--sinks=sqlite,parquet".to_string()));
        assert!(out.contains(&"--epoch-events=500".to_string()));
        assert!(out.contains(&"--kafka-setting=security.protocol=SASL_SSL".to_string()));
        // The flag wins over the file.
        assert!(!out.iter().any(|a| a.starts_with("--workers=")));
        let _ = std::fs::remove_file(p);
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_key() {
        let p = write("unknown", "kafka_brokerz = \"x\"\n");
        let e = with_config(args(&[
            "trendflow",
            "run",
            "--config",
            p.to_str().expect("utf8"),
        ]))
        .expect_err("unknown key");
        assert!(
            e.contains("`kafka_brokerz`") && e.contains("unknown key"),
            "{e}"
        );
        let p2 = write("bad", "workers = \"many\"\n");
        let e = with_config(args(&[
            "trendflow",
            "run",
            "--config",
            p2.to_str().expect("utf8"),
        ]))
        .expect_err("bad value");
        assert!(e.contains("--workers") && e.contains("many"), "{e}");
        let _ = std::fs::remove_file(p);
        let _ = std::fs::remove_file(p2);
    }
}

#[cfg(test)]
mod example {
    #[test]
    fn the_example_file_is_valid_for_run_and_documents_every_run_flag() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/trendflow.example.toml");
        let argv = vec![
            "trendflow".into(),
            "run".into(),
            "--config".into(),
            path.into(),
        ];
        super::with_config(argv).expect("the example parses and every key is known");
        let text = std::fs::read_to_string(path).expect("read example");
        use clap::CommandFactory;
        let cli = crate::cli::Cli::command();
        let run = cli.find_subcommand("run").expect("run");
        for arg in run.get_arguments() {
            let Some(long) = arg.get_long() else { continue };
            if matches!(
                long,
                "help" | "verify" | "kind" | "config" | "kafka-setting"
            ) {
                continue;
            }
            let key = long.replace('-', "_");
            assert!(
                text.contains(&key),
                "trendflow.example.toml does not document `{key}`"
            );
        }
    }
}
