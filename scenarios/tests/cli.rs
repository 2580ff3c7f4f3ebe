//! The `scenarios` command line: the DESIGN contract (`scenarios run NAME|FILE` writes
//! `target/scenarios/NAME/report.json` and `report.html`; exit 1 when an assertion fails) and
//! assertions that must fail when what they claim is false.

use std::process::Command;

use miid_scenarios::assertions::evaluate;
use miid_scenarios::{ScenarioSpec, run_scenario};

fn scenarios() -> Command {
    Command::new(env!("CARGO_BIN_EXE_scenarios"))
}

#[test]
fn run_by_name_writes_both_reports_under_the_target_dir() {
    let target = tempfile::tempdir().unwrap();
    let out = scenarios().args(["run", "smoke"]).env("CARGO_TARGET_DIR", target.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("round 1/1"), "a progress line per round: {stdout}");
    assert!(stdout.contains("PASSED"), "{stdout}");
    let dir = target.path().join("scenarios").join("smoke");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["passed"], true);
    assert!(std::fs::read_to_string(dir.join("report.html")).unwrap().contains("<svg"));
}

#[test]
fn a_failed_assertion_exits_1_and_still_writes_the_reports() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wrong.toml");
    std::fs::write(
        &file,
        "[[miners]]\npersona = \"honest\"\n[[assert]]\nkind = \"status\"\nminers = \"honest\"\nstatus = 503\n",
    )
    .unwrap();
    let out_dir = dir.path().join("out");
    let out = scenarios().arg("run").arg(&file).arg("--out").arg(&out_dir).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAIL honest answered with status 503"), "{stdout}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["scenario"], "wrong", "the file stem names the scenario");
    assert_eq!(json["passed"], false);
    assert!(out_dir.join("report.html").is_file());
}

#[test]
fn unknown_scenarios_and_bad_files_are_clear_errors() {
    let out = scenarios().args(["run", "no-such-scenario"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown scenario") && err.contains("adversarial"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("typo.toml");
    std::fs::write(&file, "[[miners]]\npersona = \"honest\"\ncuont = 3\n").unwrap();
    let out = scenarios().arg("check").arg(&file).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cuont"), "{err}");
}

#[test]
fn list_names_every_builtin() {
    let out = scenarios().arg("list").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    for name in ["smoke", "adversarial", "faults", "soak", "default", "images"] {
        assert!(stdout.lines().any(|l| l.starts_with(name)), "{name}: {stdout}");
    }
}

/// The same run judged by true and false claims: each assertion kind can fail.
#[tokio::test]
async fn assertions_fail_when_their_claim_is_false() {
    let base = "[validator]\ntimeout = 5.0\n[[miners]]\npersona = \"honest\"\ncount = 2\n\
                [[miners]]\nname = \"victim\"\npersona = \"honest\"\n[[miners]]\npersona = \"copycat\"\ncopy = \"victim\"\n";
    let spec = ScenarioSpec::parse(base, "t.toml", "t").unwrap();
    let report = run_scenario(&spec, &mut |_| {}).await.unwrap();
    let judge = |asserts: &str| -> Vec<bool> {
        let s = ScenarioSpec::parse(&format!("{base}{asserts}"), "t.toml", "t").unwrap();
        evaluate(&s, &report).into_iter().map(|a| a.passed).collect()
    };
    let a = |kind: &str, rest: &str| format!("[[assert]]\nkind = \"{kind}\"\n{rest}");
    assert_eq!(
        judge(
            &[
                a("rank-above", "higher = \"honest\"\nlower = \"copycat\"\n"),
                a("rank-above", "higher = \"copycat\"\nlower = \"honest\"\n")
            ]
            .concat()
        ),
        vec![true, false]
    );
    assert_eq!(
        judge(
            &[
                a("penalty", "miners = \"copycat\"\npenalty = \"signature_copy\"\nmin = 0.8\n"),
                a("penalty", "miners = \"copycat\"\npenalty = \"special_chars\"\n"),
            ]
            .concat()
        ),
        vec![true, false]
    );
    assert_eq!(
        judge(
            &[
                a("no-penalty", "miners = \"honest\"\npenalty = \"signature_copy\"\n"),
                a("no-penalty", "miners = \"copycat\"\n")
            ]
            .concat()
        ),
        vec![true, false]
    );
    assert_eq!(
        judge(&[a("status", "miners = \"*\"\nstatus = 200\n"), a("status", "miners = \"*\"\nstatus = 408\n")].concat()),
        vec![true, false]
    );
    assert_eq!(
        judge(
            &[a("uav", "miners = \"honest\"\naccepted = true\n"), a("uav", "miners = \"honest\"\naccepted = false\n")]
                .concat()
        ),
        vec![true, false]
    );
    let burn = report.weights.burn_share;
    assert_eq!(
        judge(&[
            a("weights", &format!("burn_share = {burn}\n")),
            a("weights", &format!("burn_share = {}\n", burn - 0.1)),
        ]
        .concat()),
        vec![true, false]
    );
    assert_eq!(judge(&[a("no-crash", ""), a("nothing-lost", "")].concat()), vec![true, true]);
    // A report with a lost answer and a crashed task fails those two.
    let mut broken = report.clone();
    broken.rounds[0].miners.pop();
    broken.tasks[0].crashes.push("boom".into());
    let s =
        ScenarioSpec::parse(&format!("{base}{}{}", a("no-crash", ""), a("nothing-lost", "")), "t.toml", "t").unwrap();
    assert!(evaluate(&s, &broken).iter().all(|r| !r.passed));
}
