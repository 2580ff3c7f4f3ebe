//! # miid-scenarios — local MIID testnets, declared in TOML
//!
//! A scenario file ([`spec`]) names the services to start, the miners (each a [`persona`]:
//! honest or one of the adversarial behaviours), the validator's settings, the rounds, the
//! faults to inject and what must hold at the end. [`run::run_scenario`] brings the whole
//! testnet up in-process on loopback ([`stack`]: real axons with sr25519 keys, nominatim-mock,
//! drand-mock, s3-mock), drives validator-sim rounds, scores R1 rounds with the reference
//! scorer, keeps the validator's moving-average scores and weights, checks the
//! [`assertions`], and [`report`] writes `report.json` and a self-contained `report.html`.
//!
//! The format and every key: `scenarios/README.md`. The shipped scenarios live in
//! `scenarios/scenarios/*.toml` and are embedded in the binary ([`spec::BUILTIN`]).

pub mod assertions;
pub mod images;
pub mod llm;
pub mod persona;
pub mod report;
pub mod run;
pub mod spec;
pub mod stack;

pub use report::{render_html, report_dir, terminal_table, write_reports};
pub use run::{RunReport, run_scenario};
pub use spec::{ScenarioSpec, load};
pub use stack::{LocalStack, StackConfig};
