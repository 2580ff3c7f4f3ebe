//! report.html without a browser: it parses cleanly as HTML5, loads nothing from the network,
//! and carries the three charts; report.json holds the same run.

use scraper::{Html, Selector};

use miid_scenarios::{load, run_scenario, write_reports};

fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap()
}

#[tokio::test]
async fn report_html_is_self_contained_and_has_the_charts() {
    let mut spec = load("adversarial").unwrap();
    spec.rounds = 1;
    let report = run_scenario(&spec, &mut |_| {}).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (json_path, html_path) = write_reports(dir.path(), &report).unwrap();

    let text = std::fs::read_to_string(&html_path).unwrap();
    let doc = Html::parse_document(&text);
    assert!(doc.errors.is_empty(), "HTML parse errors: {:?}", doc.errors);

    // Nothing external: no scripts, no stylesheets or images by URL, no URL in any attribute or
    // in the inline CSS.
    assert_eq!(doc.select(&sel("script")).count(), 0);
    assert_eq!(doc.select(&sel("link")).count(), 0);
    assert_eq!(doc.select(&sel("iframe, img, object, embed")).count(), 0);
    for el in doc.select(&sel("*")) {
        for (name, value) in el.value().attrs() {
            let v = value.to_ascii_lowercase();
            assert!(!v.contains("://") && !v.starts_with("//"), "<{} {name}={value:?}>", el.value().name());
        }
    }
    for style in doc.select(&sel("style")) {
        let css = style.text().collect::<String>();
        assert!(!css.contains("url(") && !css.contains("@import"), "{css}");
    }

    // Every shape has a positive size (renderers reject zero-width rects) and sits in its chart.
    for rect in doc.select(&sel("svg rect")) {
        let w: f64 = rect.value().attr("width").unwrap().parse().unwrap();
        let h: f64 = rect.value().attr("height").unwrap().parse().unwrap();
        assert!(w > 0.0 && h > 0.0, "{:?}", rect.value());
    }

    // The three charts, with content for every miner.
    let n = report.miners.len();
    for id in ["chart-scores", "chart-shares", "chart-penalties"] {
        let svg = doc.select(&sel(&format!("svg#{id}"))).next().unwrap_or_else(|| panic!("no svg#{id}"));
        assert!(svg.select(&sel("title")).next().is_some(), "{id} has a title");
    }
    let scores = doc.select(&sel("svg#chart-scores")).next().unwrap();
    assert_eq!(scores.select(&sel("circle")).count(), n, "one point per miner and scored round");
    let shares = doc.select(&sel("svg#chart-shares")).next().unwrap();
    assert_eq!(shares.select(&sel("rect")).count(), n + 1, "one bar per miner and the burn uid");
    let penalties = doc.select(&sel("svg#chart-penalties")).next().unwrap();
    let flagged: usize = report.rounds[0].miners.iter().map(|m| m.penalties.len()).sum();
    assert_eq!(penalties.select(&sel("rect")).count(), 5 + flagged, "legend + one segment per penalty");

    // Tables: one row per assertion and per miner; the verdict in the title.
    assert_eq!(doc.select(&sel("table#assertions tr")).count(), report.assertions.len() + 1);
    assert_eq!(doc.select(&sel("table#miners tr")).count(), n + 1);
    let title = doc.select(&sel("title")).next().unwrap().text().collect::<String>();
    assert!(title.contains(if report.passed { "PASSED" } else { "FAILED" }), "{title}");

    // report.json is the same run.
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(json_path).unwrap()).unwrap();
    assert_eq!(json["scenario"], "adversarial");
    assert_eq!(json["miners"].as_array().unwrap().len(), n);
    assert_eq!(json["assertions"].as_array().unwrap().len(), report.assertions.len());
    assert_eq!(json["passed"], report.passed);
}

#[tokio::test]
async fn miner_labels_are_escaped_in_the_page() {
    let toml = "[[miners]]\nname = \"<b>&evil\"\npersona = \"honest\"\n";
    let spec = miid_scenarios::ScenarioSpec::parse(toml, "inline.toml", "inline").unwrap();
    let report = run_scenario(&spec, &mut |_| {}).await.unwrap();
    let html = miid_scenarios::render_html(&report);
    assert!(!html.contains("<b>&evil"));
    assert!(html.contains("&lt;b&gt;&amp;evil"));
    let doc = Html::parse_document(&html);
    assert!(doc.errors.is_empty(), "{:?}", doc.errors);
    assert_eq!(doc.select(&sel("b")).count(), 0);
}
