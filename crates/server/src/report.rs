//! The compliance report to the Commissioner (section 5): for a period, clause by clause
//! (section 3 and 4.1 to 4.5), a status, figures counted from the ledger, the open
//! findings with their evidence, and the steps taken; a trend per day; signed with the
//! ledger's key and ending with the ledger's signed tree head, so that a printed copy can
//! later be held against the ledger.
//!
//! Every figure is counted from events, never kept on the side: the report says what the
//! ledger says.

use std::collections::BTreeMap;

use bantay_core::Timestamp;
use bantay_ledger::canonical_json;
use serde::Serialize;
use serde_json::Value;

use crate::error::Result;
use crate::service::Service;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub title: String,
    pub from: String,
    pub until: String,
    pub generated_at: String,
    pub sections: Vec<Section>,
    /// The ledger's newest signed head when the report was made.
    pub ledger: LedgerHead,
    /// Ed25519 over the canonical JSON of everything above, with the ledger's key.
    pub signature: String,
    pub public_key: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Section {
    pub clause: String,
    pub title: String,
    /// `compliant`, `findings open` (open findings, or what the scan finds held) or `not
    /// yet monitored`.
    pub status: String,
    pub figures: Vec<Figure>,
    pub open_findings: Vec<OpenFinding>,
    /// What was done in the period (refusals, revocations, remediations), newest last.
    pub steps: Vec<String>,
    /// Events of this clause per day of the period.
    pub trend: Vec<(String, u64)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    pub label: String,
    pub value: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct OpenFinding {
    pub id: String,
    pub subject: String,
    pub summary: String,
    pub evidence: String,
    pub opened: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct LedgerHead {
    pub size: u64,
    pub root: String,
    pub time: String,
    pub signature: String,
}

const DOMAIN: &[u8] = b"bantay-compliance-report\x00\x01";

/// The report's sections, in the order of the order.
const CLAUSES: [&str; 6] = ["3", "4.1", "4.2", "4.3", "4.4", "4.5"];

fn reasons_cite(body: &Value, clause: &str) -> bool {
    body["reasons"]
        .as_array()
        .is_some_and(|r| r.iter().any(|x| x["clause"] == clause && x["effect"] == "denies"))
}

/// The clause an event counts for in the report, if any. `finding_clause` names the
/// clause of a finding by id (a status change carries only the id).
fn clause_of(
    kind: &str,
    body: &Value,
    finding_clause: &dyn Fn(&str) -> Option<String>,
) -> Vec<&'static str> {
    let clause = match kind {
        "finding.opened" => body["clause"].as_str().map(str::to_owned),
        "finding.status" => finding_clause(body["id"].as_str().unwrap_or("")),
        _ => None,
    };
    if let Some(clause) = clause {
        return CLAUSES.iter().copied().filter(|c| *c == clause).collect();
    }
    match kind {
        "person.assigned" if !body["concurrent"].as_bool().unwrap_or(false) => vec!["3"],
        "grant.suspended" | "task.opened" | "task.done" => vec!["3"],
        "request.submitted" | "request.refused" => {
            let mut c = vec!["4.1"];
            if reasons_cite(body, "4.2") {
                c.push("4.2");
            }
            c
        }
        "request.approved" | "grant.recorded" | "grant.revoked" | "grant.expired"
        | "review.decided" => vec!["4.1"],
        "pass.requested" | "pass.approved" | "pass.refused" | "pass.revoked" | "camera.status" => {
            vec!["4.3"]
        }
        "guard.entry" | "guard.exit" | "guard.refused" | "guard.rostered" => vec!["4.4"],
        _ => vec![],
    }
}

impl Service {
    /// The compliance report for `[from, until)`.
    pub async fn report(&self, from: Timestamp, until: Timestamp) -> Result<Report> {
        let (from_s, until_s) = (from.unix_seconds(), until.unix_seconds());
        let mut bytes = Vec::new();
        self.store.export(&mut bytes).await?;
        let events: Vec<Value> = bytes
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .filter_map(|l| serde_json::from_slice(l).ok())
            .filter(|e: &Value| e["time"].as_i64().is_some_and(|t| from_s <= t && t < until_s))
            .collect();
        let count = |kind: &str, filter: &dyn Fn(&Value) -> bool| -> u64 {
            events.iter().filter(|e| e["kind"] == kind && filter(&e["body"])).count() as u64
        };
        let all = |_: &Value| true;
        let findings = self.store.findings().await?;
        let finding_clause =
            |id: &str| findings.iter().find(|f| f.id == id).map(|f| f.clause.clone());
        // What is held at the period's end that the order forbids (the detective scan).
        let scanned = self.scan_state(until.plus_seconds(-1).min(self.now())).await?;
        let held = |clause: &str| scanned.counts.get(clause).copied().unwrap_or(0) as u64;
        let days = ((until_s - from_s) / 86_400).clamp(1, 366);
        let mut sections = Vec::new();
        for clause in CLAUSES {
            let title = self
                .pack
                .clauses
                .find_str(clause)
                .map(|c| self.pack.clauses.info(c).title.clone())
                .unwrap_or_default();
            let mut open: Vec<OpenFinding> = findings
                .iter()
                .filter(|f| f.clause == clause && (f.status == "open" || f.status == "reopened"))
                .map(|f| OpenFinding {
                    id: f.id.clone(),
                    subject: f.subject.clone(),
                    summary: f.summary.clone(),
                    evidence: f.evidence.clone(),
                    opened: Timestamp::from_unix_seconds(f.opened).to_string(),
                })
                .collect();
            // What the scan finds held at the period's end, with the grants as evidence.
            open.extend(scanned.findings.iter().filter(|f| f.clause.as_str() == clause).map(|f| {
                OpenFinding {
                    id: format!("scan-{}", f.person),
                    subject: f.person.clone(),
                    summary: f.message.clone(),
                    evidence: format!(
                        "grants in force on {}: {}",
                        scanned.at,
                        f.resources.join(", ")
                    ),
                    opened: scanned.at.to_string(),
                }
            }));
            let opened_in_period = count("finding.opened", &|b| b["clause"] == clause);
            let remediated = count("finding.status", &|b| {
                b["status"] == "remediated"
                    && finding_clause(b["id"].as_str().unwrap_or("")).as_deref() == Some(clause)
            });
            let figure = |label: &str, value: u64| Figure { label: label.to_owned(), value };
            let mut figures = match clause {
                "3" => vec![
                    figure(
                        "personnel orders recorded",
                        count("person.assigned", &|b| !b["concurrent"].as_bool().unwrap_or(false)),
                    ),
                    figure("grants suspended by a realignment", count("grant.suspended", &all)),
                    figure("revocation tasks opened", count("task.opened", &all)),
                    figure("revocation tasks confirmed", count("task.done", &all)),
                ],
                "4.1" => vec![
                    figure("requests submitted", count("request.submitted", &all)),
                    figure(
                        "requests refused (4.1)",
                        count("request.submitted", &|b| {
                            b["outcome"] == "refused" && reasons_cite(b, "4.1")
                        }) + count("request.refused", &|b| reasons_cite(b, "4.1")),
                    ),
                    figure("grants in force at the period's end", scanned.grants_in_force),
                    figure("of those, justified by no duty (scan)", held("4.1")),
                    figure("grants recorded", count("grant.recorded", &all)),
                    figure("grants revoked", count("grant.revoked", &all)),
                    figure("grants expired on time", count("grant.expired", &all)),
                    figure("findings opened", opened_in_period),
                ],
                "4.2" => vec![
                    figure(
                        "people holding more elements of CPS or ERP than allowed (scan)",
                        held("4.2"),
                    ),
                    figure(
                        "requests refused (4.2)",
                        count("request.submitted", &|b| {
                            b["outcome"] == "refused" && reasons_cite(b, "4.2")
                        }) + count("request.refused", &|b| reasons_cite(b, "4.2")),
                    ),
                    figure("findings opened", opened_in_period),
                ],
                "4.3" => vec![
                    figure("emergency passes requested", count("pass.requested", &all)),
                    figure("passes approved", count("pass.approved", &all)),
                    figure(
                        "passes refused",
                        count("pass.requested", &|b| b["outcome"] == "refused")
                            + count("pass.refused", &all),
                    ),
                    figure("passes revoked", count("pass.revoked", &all)),
                    figure("findings opened", opened_in_period),
                ],
                "4.4" => vec![
                    figure("entries logged", count("guard.entry", &all)),
                    figure("exits logged", count("guard.exit", &all)),
                    figure("attempts refused at the door", count("guard.refused", &all)),
                    figure("guard roster entries", count("guard.rostered", &all)),
                    figure("findings opened", opened_in_period),
                ],
                _ => vec![figure("findings opened", opened_in_period)],
            };
            figures.push(figure("findings remediated", remediated));
            let steps: Vec<String> = events
                .iter()
                .filter(|e| {
                    clause_of(e["kind"].as_str().unwrap_or(""), &e["body"], &finding_clause)
                        .contains(&clause)
                })
                .filter_map(step_line)
                .collect();
            let mut per_day: BTreeMap<i64, u64> = (0..days).map(|d| (d, 0)).collect();
            for e in &events {
                if clause_of(e["kind"].as_str().unwrap_or(""), &e["body"], &finding_clause)
                    .contains(&clause)
                {
                    let day = (e["time"].as_i64().unwrap_or(from_s) - from_s) / 86_400;
                    *per_day.entry(day.min(days - 1)).or_default() += 1;
                }
            }
            let trend = per_day
                .into_iter()
                .map(|(d, n)| (Timestamp::from_unix_seconds(from_s + d * 86_400).to_string(), n))
                .collect();
            let monitored = clause != "4.5" || !open.is_empty() || opened_in_period > 0;
            let status = if !open.is_empty() {
                "findings open"
            } else if monitored {
                "compliant"
            } else {
                "not yet monitored"
            };
            sections.push(Section {
                clause: clause.to_owned(),
                title,
                status: status.to_owned(),
                figures,
                open_findings: open,
                steps,
                trend,
            });
        }
        let head = self.store.head(None).await?.map(|h| h.head);
        let ledger = LedgerHead {
            size: head.as_ref().map_or(0, |h| h.size),
            root: head.as_ref().map(|h| hex::encode(h.root)).unwrap_or_default(),
            time: head
                .as_ref()
                .map(|h| Timestamp::from_unix_seconds(h.time).to_string())
                .unwrap_or_default(),
            signature: head.as_ref().map(|h| hex::encode(h.signature)).unwrap_or_default(),
        };
        let mut report = Report {
            title: "Compliance with CMO 04-2019: report to the Commissioner".into(),
            from: from.to_string(),
            until: until.to_string(),
            generated_at: self.now().to_string(),
            sections,
            ledger,
            signature: String::new(),
            public_key: String::new(),
        };
        let (signature, key) = self.store.sign(&report_bytes(&report)).await?;
        report.signature = hex::encode(signature);
        report.public_key = hex::encode(key.as_bytes());
        Ok(report)
    }
}

/// What the report's signature covers: its canonical JSON without the signature fields.
pub fn report_bytes(report: &Report) -> Vec<u8> {
    let mut value = serde_json::to_value(report).unwrap_or_default();
    if let Some(object) = value.as_object_mut() {
        object.remove("signature");
        object.remove("public_key");
    }
    let mut bytes = DOMAIN.to_vec();
    bytes.extend(canonical_json(&value).unwrap_or_default());
    bytes
}

/// One line for the steps taken, for the events that are steps.
fn step_line(e: &Value) -> Option<String> {
    let b = &e["body"];
    let when = Timestamp::from_unix_seconds(e["time"].as_i64().unwrap_or(0));
    let who = e["actor"].as_str().unwrap_or("");
    let id = b["id"].as_str().unwrap_or("");
    let first_denial = || {
        b["reasons"]
            .as_array()
            .and_then(|r| r.iter().find(|x| x["effect"] == "denies"))
            .and_then(|x| x["message"].as_str())
            .unwrap_or("")
            .to_owned()
    };
    Some(match e["kind"].as_str()? {
        "request.submitted" if b["outcome"] == "refused" => format!(
            "{when}: request {id} by {} refused: {}",
            b["requester"].as_str().unwrap_or(""),
            first_denial()
        ),
        "request.refused" => {
            format!("{when}: request {id} refused at approval by {who}: {}", first_denial())
        }
        "grant.revoked" => {
            format!("{when}: grant {id} revoked: {}", b["reason"].as_str().unwrap_or(""))
        }
        "grant.suspended" => format!(
            "{when}: grant {id} suspended ({}): {}",
            b["order"].as_str().unwrap_or(""),
            b["reason"].as_str().unwrap_or("")
        ),
        "task.done" => format!(
            "{when}: task {id} confirmed by {}: {}",
            b["by"].as_str().unwrap_or(""),
            b["evidence"].as_str().unwrap_or("")
        ),
        "pass.requested" if b["outcome"] == "refused" => format!(
            "{when}: pass {id} for {} refused: {}",
            b["person"].as_str().unwrap_or(""),
            first_denial()
        ),
        "pass.refused" => format!("{when}: pass {id} refused by {who}: {}", first_denial()),
        "pass.approved" => {
            format!("{when}: pass {id} approved by {}", b["approver"].as_str().unwrap_or(""))
        }
        "pass.revoked" => format!("{when}: pass {id} revoked: {}", first_denial()),
        "guard.refused" => format!(
            "{when}: {} refused at {} ({})",
            b["person"].as_str().unwrap_or("someone"),
            b["datacenter"].as_str().unwrap_or(""),
            b["verdict"].as_str().unwrap_or("")
        ),
        "finding.status" => {
            format!("{when}: finding {id} {} by {who}", b["status"].as_str().unwrap_or(""))
        }
        "finding.opened" => {
            format!("{when}: finding {id}: {}", b["summary"].as_str().unwrap_or(""))
        }
        _ => return None,
    })
}

/// The report as one self-contained HTML page that prints well, with an SVG bar chart of
/// each clause's trend.
pub fn report_html(report: &Report) -> String {
    let e = |t: &str| {
        t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
    };
    let mut html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>\
         body{{font-family:Georgia,serif;max-width:52em;margin:2em auto;color:#111}}h1{{font-size:1.5em}}\
         section{{break-inside:avoid;border-top:2px solid #333;margin-top:1.5em;padding-top:.5em}}\
         .status{{font-weight:bold;padding:.1em .5em;border-radius:.3em}}.compliant{{background:#d7f0d7}}\
         .findings{{background:#f6d5d5}}.not{{background:#eee}}table{{border-collapse:collapse;width:100%}}\
         td,th{{border:1px solid #999;padding:.25em .5em;text-align:left;vertical-align:top;font-size:.9em}}\
         code{{font-size:.75em;word-break:break-all}}@media print{{body{{margin:0}}}}</style></head><body>\
         <h1>{}</h1><p>Period {} to {}. Generated {} from the ledger of Bantay.</p>",
        e(&report.title), e(&report.title), e(&report.from), e(&report.until), e(&report.generated_at)
    );
    for s in &report.sections {
        let class = match s.status.as_str() {
            "compliant" => "compliant",
            "findings open" => "findings",
            _ => "not",
        };
        html.push_str(&format!(
            "<section><h2>{} {}</h2><p><span class=\"status {class}\">{}</span></p><table>",
            e(&s.clause),
            e(&s.title),
            e(&s.status)
        ));
        for f in &s.figures {
            html.push_str(&format!("<tr><td>{}</td><td>{}</td></tr>", e(&f.label), f.value));
        }
        html.push_str("</table>");
        html.push_str(&trend_svg(&s.trend));
        if !s.open_findings.is_empty() {
            html.push_str("<h3>Open findings</h3><table><tr><th>finding</th><th>summary</th><th>evidence</th></tr>");
            for f in s.open_findings.iter().take(50) {
                html.push_str(&format!(
                    "<tr><td>{}<br>{}</td><td>{}</td><td>{}</td></tr>",
                    e(&f.id),
                    e(&f.opened),
                    e(&f.summary),
                    e(&f.evidence)
                ));
            }
            html.push_str("</table>");
            if s.open_findings.len() > 50 {
                html.push_str(&format!(
                    "<p>… and {} more (the JSON report lists them all).</p>",
                    s.open_findings.len() - 50
                ));
            }
        }
        if !s.steps.is_empty() {
            html.push_str("<h3>Steps taken</h3><ul>");
            for step in s.steps.iter().take(50) {
                html.push_str(&format!("<li>{}</li>", e(step)));
            }
            if s.steps.len() > 50 {
                html.push_str(&format!("<li>… and {} more in the ledger</li>", s.steps.len() - 50));
            }
            html.push_str("</ul>");
        }
        html.push_str("</section>");
    }
    html.push_str(&format!(
        "<section><h2>The ledger</h2><p>This report ends with the ledger's signed tree head. Any later change of history shows against it: \
         <code>bantay ledger verify --head</code>.</p><table><tr><td>events</td><td>{}</td></tr><tr><td>root</td><td><code>{}</code></td></tr>\
         <tr><td>signed at</td><td>{}</td></tr><tr><td>head signature</td><td><code>{}</code></td></tr>\
         <tr><td>report signature</td><td><code>{}</code></td></tr><tr><td>public key</td><td><code>{}</code></td></tr></table></section></body></html>",
        report.ledger.size, e(&report.ledger.root), e(&report.ledger.time), e(&report.ledger.signature), e(&report.signature), e(&report.public_key)
    ));
    html
}

/// A bar chart of counts per day.
fn trend_svg(trend: &[(String, u64)]) -> String {
    let most = trend.iter().map(|t| t.1).max().unwrap_or(0);
    let max = most.max(1);
    let (width, height) = (600.0_f64, 80.0_f64);
    let bar = width / trend.len().max(1) as f64;
    let mut svg = format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{}\" role=\"img\"><title>events per day</title>", height + 14.0);
    for (i, (day, n)) in trend.iter().enumerate() {
        let h = height * (*n as f64) / (max as f64);
        svg.push_str(&format!(
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{h:.1}\" fill=\"#446\"><title>{day}: {n}</title></rect>",
            i as f64 * bar + 1.0,
            height - h,
            (bar - 2.0).max(1.0)
        ));
    }
    if let (Some(first), Some(last)) = (trend.first(), trend.last()) {
        svg.push_str(&format!(
            "<text x=\"0\" y=\"{:.0}\" font-size=\"10\">{}</text><text x=\"{width}\" y=\"{:.0}\" font-size=\"10\" text-anchor=\"end\">{} (most in a day: {most})</text>",
            height + 12.0, first.0, height + 12.0, last.0
        ));
    }
    svg.push_str("</svg>");
    svg
}
