//! What a run leaves behind: the terminal table, `report.json`, and `report.html` — one
//! self-contained page (inline CSS and SVG, no script, no external URL) that opens in a browser
//! with no network.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use miid_scoring::reputation::BURN_UID;

use crate::run::RunReport;
use crate::spec::PENALTY_SLOTS;

/// `target/scenarios/NAME/` under the workspace target dir (or `CARGO_TARGET_DIR`).
pub fn report_dir(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("target"));
    target.join("scenarios").join(name)
}

/// Writes `report.json` and `report.html` into `dir`; returns their paths.
pub fn write_reports(dir: &Path, report: &RunReport) -> std::io::Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir)?;
    let json = dir.join("report.json");
    std::fs::write(&json, serde_json::to_string_pretty(report).map_err(std::io::Error::other)?)?;
    let html = dir.join("report.html");
    std::fs::write(&html, render_html(report))?;
    Ok((json, html))
}

/// Per-miner totals over the run.
struct Row {
    uid: u16,
    label: String,
    persona: String,
    statuses: String,
    penalised: f64,
    final_reward: f64,
    share: f64,
    penalties: BTreeMap<String, f64>,
    /// R2 image objects passing post-validation / checked, over the run (None without images).
    images: Option<(usize, usize)>,
}

fn rows(report: &RunReport) -> Vec<Row> {
    report
        .miners
        .iter()
        .map(|m| {
            let mut penalties: BTreeMap<String, f64> = BTreeMap::new();
            let mut statuses = Vec::new();
            let (mut penalised, mut final_reward) = (0.0, 0.0);
            let mut images: Option<(usize, usize)> = None;
            for r in &report.rounds {
                match r.miners.iter().find(|x| x.uid == m.uid) {
                    Some(x) => {
                        statuses.push(x.status.to_string());
                        penalised += x.penalised;
                        final_reward += x.final_reward;
                        if let Some(i) = &x.images {
                            let e = images.get_or_insert((0, 0));
                            e.0 += i.ok;
                            e.1 += i.submitted;
                        }
                        for (k, v) in &x.penalties {
                            let e = penalties.entry(k.clone()).or_default();
                            *e = e.max(*v);
                        }
                    }
                    None => statuses.push("-".into()),
                }
            }
            Row {
                uid: m.uid,
                label: m.label.clone(),
                persona: m.persona.to_string(),
                statuses: statuses.join(" "),
                penalised,
                final_reward,
                share: report.weights.shares.get(&m.uid).copied().unwrap_or(0.0),
                penalties,
                images,
            }
        })
        .collect()
}

/// The summary table printed at the end of a run.
pub fn terminal_table(report: &RunReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:>4}  {:<18}  {:<17}  {:<20}  {:>9}  {:>9}  {:>7}  penalties (max over rounds)",
        "uid", "miner", "persona", "statuses", "Σreward", "Σfinal", "weight"
    );
    for r in rows(report) {
        let mut pens = if r.penalties.is_empty() {
            "-".to_owned()
        } else {
            r.penalties.iter().map(|(k, v)| format!("{k} {v:.2}")).collect::<Vec<_>>().join(", ")
        };
        if let Some((ok, n)) = r.images {
            pens.push_str(&format!("; images {ok}/{n} pass post-validation and image checks"));
        }
        let mut statuses = r.statuses.clone();
        if statuses.chars().count() > 20 {
            statuses = statuses.chars().take(19).collect::<String>() + "…";
        }
        let _ = writeln!(
            s,
            "{:>4}  {:<18}  {:<17}  {:<20}  {:>9.4}  {:>9.4}  {:>7.4}  {}",
            r.uid, r.label, r.persona, statuses, r.penalised, r.final_reward, r.share, pens
        );
    }
    let _ = writeln!(s, "burn uid {BURN_UID}: weight share {:.4}", report.weights.burn_share);
    let _ = writeln!(
        s,
        "Σreward = reward after cheat penalties, summed over scored rounds; weight = share of the emitted weights after the last round"
    );
    for f in &report.faults {
        let _ = writeln!(s, "fault round {}: {:?} {} → {}", f.round, f.kind, f.target, f.outcome);
    }
    for a in &report.assertions {
        let _ = writeln!(s, "{} {} — {}", if a.passed { "PASS" } else { "FAIL" }, a.description, a.detail);
    }
    let _ = writeln!(
        s,
        "{}: {} of {} assertion(s) hold ({:.1} s)",
        if report.passed { "PASSED" } else { "FAILED" },
        report.assertions.iter().filter(|a| a.passed).count(),
        report.assertions.len(),
        report.seconds
    );
    s
}

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

const PALETTE: &[&str] =
    &["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

fn color(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

/// Line chart: each miner's reward after cheat penalties, per scored round.
fn chart_scores(report: &RunReport) -> String {
    let scored: Vec<_> = report.rounds.iter().filter(|r| r.scored).collect();
    let (w, h, left, top, right, bottom) = (720.0, 300.0, 50.0, 20.0, 170.0, 40.0);
    let pw = w - left - right;
    let ph = h - top - bottom;
    let mut s = format!(
        r#"<svg id="chart-scores" class="chart" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" font-family="sans-serif"><title>Reward after cheat penalties per round</title>"#
    );
    for i in 0..=4 {
        let v = i as f64 / 4.0;
        let y = top + ph * (1.0 - v);
        let _ = write!(
            s,
            r##"<line x1="{left}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end">{v:.2}</text>"##,
            left + pw,
            left - 6.0,
            y + 4.0
        );
    }
    if scored.is_empty() {
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" font-size="13" text-anchor="middle">no scored round (R2 rounds are post-validated, not KAV-scored)</text>"#,
            left + pw / 2.0,
            top + ph / 2.0
        );
    }
    let n = scored.len().max(1);
    let x_of = |i: usize| if n == 1 { left + pw / 2.0 } else { left + pw * i as f64 / (n - 1) as f64 };
    for (i, r) in scored.iter().enumerate() {
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle">{}</text>"#,
            x_of(i),
            top + ph + 16.0,
            r.round
        );
    }
    let _ = write!(
        s,
        r#"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="middle">round</text>"#,
        left + pw / 2.0,
        h - 6.0
    );
    for (k, m) in report.miners.iter().enumerate() {
        let pts: Vec<(f64, f64)> = scored
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                r.miners
                    .iter()
                    .find(|x| x.uid == m.uid)
                    .map(|x| (x_of(i), top + ph * (1.0 - x.penalised.clamp(0.0, 1.0))))
            })
            .collect();
        let c = color(k);
        if pts.len() > 1 {
            let path = pts.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect::<Vec<_>>().join(" ");
            let _ = write!(s, r#"<polyline fill="none" stroke="{c}" stroke-width="2" points="{path}"/>"#);
        }
        for (x, y) in &pts {
            let _ = write!(
                s,
                r#"<circle cx="{x:.1}" cy="{y:.1}" r="3" fill="{c}"><title>{}</title></circle>"#,
                esc(&m.label)
            );
        }
        let ly = top + 14.0 * k as f64;
        let _ = write!(
            s,
            r#"<rect x="{:.1}" y="{:.1}" width="10" height="10" fill="{c}"/><text x="{:.1}" y="{:.1}" font-size="11">{}</text>"#,
            left + pw + 12.0,
            ly,
            left + pw + 26.0,
            ly + 9.0,
            esc(&m.label)
        );
    }
    s.push_str("</svg>");
    s
}

/// Bar chart: each uid's share of the emitted weights after the last round (burn uid included).
fn chart_shares(report: &RunReport) -> String {
    let mut bars: Vec<(String, f64)> = report
        .miners
        .iter()
        .map(|m| (m.label.clone(), report.weights.shares.get(&m.uid).copied().unwrap_or(0.0)))
        .collect();
    bars.push((format!("burn (uid {BURN_UID})"), report.weights.burn_share));
    let (left, top, bar_h, gap, w) = (170.0, 10.0, 16.0, 6.0, 720.0);
    let h = top * 2.0 + bars.len() as f64 * (bar_h + gap) + 20.0;
    let pw = w - left - 80.0;
    let mut s = format!(
        r#"<svg id="chart-shares" class="chart" width="{w}" height="{h:.0}" viewBox="0 0 {w} {h:.0}" role="img" font-family="sans-serif"><title>Share of the emitted weights</title>"#
    );
    for (i, (label, v)) in bars.iter().enumerate() {
        let y = top + i as f64 * (bar_h + gap);
        let c = if i == bars.len() - 1 { "#999" } else { color(i) };
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end">{}</text><rect x="{left}" y="{y:.1}" width="{:.1}" height="{bar_h}" fill="{c}"/><text x="{:.1}" y="{:.1}" font-size="11">{v:.4}</text>"#,
            left - 6.0,
            y + 12.0,
            esc(label),
            (pw * v.clamp(0.0, 1.0)).max(0.5),
            left + pw * v.clamp(0.0, 1.0) + 6.0,
            y + 12.0
        );
    }
    s.push_str("</svg>");
    s
}

/// Stacked bars: each miner's cheat-detector penalties (the largest of each slot over the
/// rounds), capped at 1 as the detector caps their sum.
fn chart_penalties(report: &RunReport) -> String {
    let rows = rows(report);
    let (left, top, bar_h, gap, w) = (170.0, 30.0, 16.0, 6.0, 720.0);
    let h = top + rows.len() as f64 * (bar_h + gap) + 20.0;
    let pw = w - left - 60.0;
    let mut s = format!(
        r#"<svg id="chart-penalties" class="chart" width="{w}" height="{h:.0}" viewBox="0 0 {w} {h:.0}" role="img" font-family="sans-serif"><title>Cheat penalties per miner</title>"#
    );
    for (k, slot) in PENALTY_SLOTS.iter().enumerate() {
        let x = 10.0 + k as f64 * 142.0;
        let _ = write!(
            s,
            r#"<rect x="{x:.1}" y="6" width="10" height="10" fill="{}"/><text x="{:.1}" y="15" font-size="10">{slot}</text>"#,
            color(k + 3),
            x + 13.0
        );
    }
    for (i, r) in rows.iter().enumerate() {
        let y = top + i as f64 * (bar_h + gap);
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end">{}</text>"#,
            left - 6.0,
            y + 12.0,
            esc(&r.label)
        );
        // The detector caps the sum of the slots at 1: a bar's length is that capped sum, its
        // segments are each slot's share of it.
        let total: f64 = PENALTY_SLOTS.iter().map(|k| r.penalties.get(*k).copied().unwrap_or(0.0)).sum();
        let scale = pw / total.max(1.0);
        let mut x = left;
        for (k, slot) in PENALTY_SLOTS.iter().enumerate() {
            let v = r.penalties.get(*slot).copied().unwrap_or(0.0);
            if v <= 0.0 {
                continue;
            }
            let width = v * scale;
            let _ = write!(
                s,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{width:.1}" height="{bar_h}" fill="{}"><title>{slot} {v:.3}</title></rect>"#,
                color(k + 3)
            );
            x += width;
        }
        let _ =
            write!(s, r#"<text x="{:.1}" y="{:.1}" font-size="11">{:.2}</text>"#, x + 6.0, y + 12.0, total.min(1.0));
    }
    s.push_str("</svg>");
    s
}

/// Stacked bars (R2 with images): each miner's image objects that passed post-validation and
/// those rejected, over the run.
fn chart_images(report: &RunReport) -> String {
    let rows: Vec<(String, usize, usize)> =
        rows(report).into_iter().filter_map(|r| r.images.map(|(ok, n)| (r.label, ok, n.saturating_sub(ok)))).collect();
    let max = rows.iter().map(|(_, ok, bad)| ok + bad).max().unwrap_or(0).max(1) as f64;
    let (left, top, bar_h, gap, w) = (170.0, 30.0, 16.0, 6.0, 720.0);
    let h = top + rows.len() as f64 * (bar_h + gap) + 20.0;
    let pw = w - left - 80.0;
    let mut s = format!(
        r#"<svg id="chart-images" class="chart" width="{w}" height="{h:.0}" viewBox="0 0 {w} {h:.0}" role="img" font-family="sans-serif"><title>Image objects passing post-validation</title>"#
    );
    s.push_str(r##"<rect x="10" y="6" width="10" height="10" fill="#2ca02c"/><text x="23" y="15" font-size="10">passed</text><rect x="152" y="6" width="10" height="10" fill="#d62728"/><text x="165" y="15" font-size="10">rejected</text>"##);
    for (i, (label, ok, bad)) in rows.iter().enumerate() {
        let y = top + i as f64 * (bar_h + gap);
        let (wo, wb) = (pw * *ok as f64 / max, pw * *bad as f64 / max);
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end">{}</text>"#,
            left - 6.0,
            y + 12.0,
            esc(label)
        );
        // Empty segments are left out: a zero-width rect is an error to some renderers.
        if wo > 0.0 {
            let _ = write!(s, r##"<rect x="{left}" y="{y:.1}" width="{wo:.1}" height="{bar_h}" fill="#2ca02c"/>"##);
        }
        if wb > 0.0 {
            let _ = write!(
                s,
                r##"<rect x="{:.1}" y="{y:.1}" width="{wb:.1}" height="{bar_h}" fill="#d62728"/>"##,
                left + wo
            );
        }
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" font-size="11">{ok}/{}</text>"#,
            left + wo + wb + 6.0,
            y + 12.0,
            ok + bad
        );
    }
    s.push_str("</svg>");
    s
}

/// The whole page.
pub fn render_html(report: &RunReport) -> String {
    let mut s = String::new();
    let verdict = if report.passed { "PASSED" } else { "FAILED" };
    let _ = write!(
        s,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Scenario {name} — {verdict}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; font-size: 13px; }}
th, td {{ border: 1px solid #ccc; padding: 3px 8px; text-align: left; }}
th {{ background: #f3f3f3; }}
.pass {{ color: #1a7f37; font-weight: bold; }} .fail {{ color: #c62828; font-weight: bold; }}
.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
.chart {{ display: block; margin: 0.5em 0 1.5em; }}
</style></head><body>
<h1>Scenario {name}: <span class="{cls}">{verdict}</span></h1>
<p>{desc}</p>
<p>seed {seed} · {rounds} round(s) · {miners} miner(s) · {secs:.1} s</p>
"#,
        name = esc(&report.scenario),
        cls = if report.passed { "pass" } else { "fail" },
        desc = esc(&report.description),
        seed = report.seed,
        rounds = report.rounds.len(),
        miners = report.miners.len(),
        secs = report.seconds,
    );
    s.push_str("<h2>Assertions</h2><table id=\"assertions\"><tr><th>result</th><th>assertion</th><th>detail</th></tr>");
    for a in &report.assertions {
        let _ = write!(
            s,
            "<tr><td class=\"{}\">{}</td><td>{}</td><td>{}</td></tr>",
            if a.passed { "pass" } else { "fail" },
            if a.passed { "PASS" } else { "FAIL" },
            esc(&a.description),
            esc(&a.detail)
        );
    }
    s.push_str("</table>");
    s.push_str("<h2>Miners</h2><table id=\"miners\"><tr><th>uid</th><th>miner</th><th>persona</th><th>statuses per round</th><th>Σ reward after penalties</th><th>Σ final reward</th><th>weight share</th><th>penalties (max)</th></tr>");
    for r in rows(report) {
        let mut pens = r.penalties.iter().map(|(k, v)| format!("{k} {v:.2}")).collect::<Vec<_>>().join(", ");
        if let Some((ok, n)) = r.images {
            pens.push_str(&format!(
                "{}images {ok}/{n} pass post-validation and image checks",
                if pens.is_empty() { "" } else { "; " }
            ));
        }
        let _ = write!(
            s,
            "<tr><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{:.4}</td><td class=\"num\">{:.4}</td><td class=\"num\">{:.4}</td><td>{}</td></tr>",
            r.uid,
            esc(&r.label),
            esc(&r.persona),
            esc(&r.statuses),
            r.penalised,
            r.final_reward,
            r.share,
            esc(&pens)
        );
    }
    s.push_str("</table>");
    s.push_str("<h2>Scores per round</h2><p>Reward after the cheat detector's penalties (before the rank cap), per scored round.</p>");
    s.push_str(&chart_scores(report));
    s.push_str("<h2>Reward shares</h2><p>Share of the emitted weights after the last round (moving average of the final rewards, L1-normalised).</p>");
    s.push_str(&chart_shares(report));
    s.push_str("<h2>Penalties per miner</h2><p>The cheat detector's slots, largest value over the rounds.</p>");
    s.push_str(&chart_penalties(report));
    if report.rounds.iter().any(|r| r.miners.iter().any(|m| m.images.is_some())) {
        s.push_str("<h2>Images</h2><p>R2 image objects per miner: passed post-validation (fetch, decrypt, hash, signature, PNG, not the seed image) or rejected.</p>");
        s.push_str(&chart_images(report));
    }
    if !report.faults.is_empty() {
        s.push_str(
            "<h2>Faults</h2><table id=\"faults\"><tr><th>round</th><th>fault</th><th>target</th><th>outcome</th></tr>",
        );
        for f in &report.faults {
            let _ = write!(
                s,
                "<tr><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                f.round,
                esc(&format!("{:?}", f.kind)),
                esc(&f.target),
                esc(&f.outcome)
            );
        }
        s.push_str("</table>");
    }
    s.push_str("<h2>Rounds</h2><table id=\"rounds\"><tr><th>round</th><th>miner</th><th>status</th><th>message</th><th>time s</th><th>rows</th><th>UAV</th><th>base</th><th>after penalties</th><th>final</th><th>notes</th></tr>");
    for r in &report.rounds {
        for m in &r.miners {
            let _ = write!(
                s,
                "<tr><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{:.3}</td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{:.4}</td><td class=\"num\">{:.4}</td><td class=\"num\">{:.4}</td><td>{}</td></tr>",
                r.round,
                esc(&m.label),
                m.status,
                esc(&m.message),
                m.process_time,
                m.rows,
                if m.uav_accepted {
                    "accepted"
                } else if m.uav_sent {
                    "sent"
                } else {
                    "-"
                },
                m.base,
                m.penalised,
                m.final_reward,
                esc(&m.notes.join(", "))
            );
        }
    }
    s.push_str("</table>");
    s.push_str("<h2>Tasks</h2><table id=\"tasks\"><tr><th>task</th><th>end</th><th>crashes</th></tr>");
    for t in &report.tasks {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&t.name),
            esc(&format!("{:?}{}", t.end, if t.stopped_by_fault { " (by a fault)" } else { "" })),
            esc(&t.crashes.join("; "))
        );
    }
    s.push_str("</table></body></html>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(esc(r#"<a href="x">&'"#), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }
}
