//! docker-compose.yml is valid YAML and uses only commands and TRENDFLOW_* variables that the CLI knows (Docker cannot run here).

use std::collections::BTreeSet;
use std::process::Command;

use clap::CommandFactory;

/// The compose file as JSON, parsed by PyYAML (installed with pip when missing).
fn compose_as_json() -> serde_json::Value {
    let load = |py: &str| {
        Command::new("python3")
            .args(["-c", py, "docker-compose.yml"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("python3")
    };
    let script = "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))";
    let mut out = load(script);
    if !out.status.success() {
        let _ = Command::new("python3")
            .args(["-m", "pip", "install", "-q", "pyyaml"])
            .status();
        out = load(script);
    }
    assert!(
        out.status.success(),
        "docker-compose.yml does not parse: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

#[test]
fn compose_uses_known_commands_and_variables() {
    let compose = compose_as_json();
    let cli = trendflow::cli::Cli::command();
    let commands: BTreeSet<String> = cli
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    let envs: BTreeSet<String> = cli
        .get_subcommands()
        .flat_map(|c| c.get_arguments())
        .filter_map(|a| a.get_env().map(|e| e.to_string_lossy().into_owned()))
        .collect();
    let services = compose["services"].as_object().expect("services");
    for name in ["kafka", "postgres", "trendflow", "migrate", "kafka-topics"] {
        assert!(services.contains_key(name), "service {name} missing");
    }
    let mut checked = 0;
    for (name, service) in services {
        if service.get("build").is_none() {
            continue;
        }
        let command = service["command"][0].as_str().expect("command");
        assert!(
            commands.contains(command),
            "{name}: unknown command {command}"
        );
        for key in service["environment"]
            .as_object()
            .expect("environment")
            .keys()
        {
            if key.starts_with("TRENDFLOW_") {
                assert!(
                    envs.contains(key),
                    "{name}: {key} is not a trendflow variable"
                );
                checked += 1;
            }
        }
    }
    assert!(
        checked >= 4,
        "the trendflow services are configured by env ({checked})"
    );
    assert!(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("Dockerfile")
            .exists(),
        "the compose file builds from the Dockerfile"
    );
}
